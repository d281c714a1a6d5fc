"""Plain django-oscar's URLs for the vanilla sides of pages_at_size.py: ours, but `/` is
Oscar's own home, a redirect to its catalogue page (`oscar.config.Shop`, with Oscar's
default OSCAR_HOMEPAGE; ours names our home page),
and our home page moves to `/our-home/`, where the "home" rows time it with Oscar's
templates (bench/README.md, "pages_at_size.py")."""

from django.urls import URLResolver, path, reverse_lazy
from django.urls.resolvers import LocalePrefixPattern
from django.views.generic import RedirectView

from config.urls import urlpatterns as ours
from shop.views import HomeView

urlpatterns = list(ours)
for resolver in urlpatterns:
    if isinstance(resolver, URLResolver) and isinstance(resolver.pattern, LocalePrefixPattern):
        patterns = resolver.url_patterns
        patterns[:] = [
            path("", RedirectView.as_view(url=reverse_lazy("catalogue:index")), name="home")
            if getattr(p, "name", None) == "home"
            else p
            for p in patterns
        ] + [path("our-home/", HomeView.as_view(), name="our-home")]
