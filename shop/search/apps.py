from oscar.apps.search import apps as oscar_apps


class SearchConfig(oscar_apps.SearchConfig):
    """Oscar's search app, forked to browse and search from the database.

    Oscar 4.2 lists products through Haystack; with the simple backend the
    catalogue and category pages are empty (django-oscar#3853) and with Whoosh
    each result costs several queries. Our views query the catalogue directly
    with a constant number of queries per page (see shop.search.selectors).
    """

    name = "shop.search"
