from .forms import ProductSearchForm


def search_form(request):
    """The header's search box, pre-filled with the current query."""
    return {"search_form": ProductSearchForm(request.GET or None)}
