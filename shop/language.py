"""The language of a page without a language prefix (README "Languages").

English pages have no prefix (`/`, `/catalogue/`), French ones do (`/fr/`). A visitor whose
browser prefers French and who has not chosen a language yet is sent from an unprefixed
page to its French one; once they choose with the language switcher (Django's language
cookie), that choice wins, English included.
"""

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.http import HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.urls import get_script_prefix, is_valid_path
from django.utils import translation
from django.utils.cache import patch_vary_headers

API_PREFIX = "/api/v1/"


class PreferredLanguageMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, plus: a GET of an unprefixed page by a visitor whose
    language cookie, or else whose Accept-Language header, names another language than
    English is redirected to that language's page."""

    def process_request(self, request):
        super().process_request(request)
        if request.path_info.startswith(API_PREFIX):
            # The API has no language prefix: its messages follow the language cookie, else
            # Accept-Language (Django's middleware would keep English for unprefixed paths).
            translation.activate(translation.get_language_from_request(request, check_path=False))
            request.LANGUAGE_CODE = translation.get_language()
            return None
        if request.method not in ("GET", "HEAD"):
            return None
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        i18n_patterns_used, prefixed_default_language = is_language_prefix_patterns_used(urlconf)
        if not i18n_patterns_used or prefixed_default_language:
            return None
        if translation.get_language_from_path(request.path_info):
            return None
        preferred = translation.get_language_from_request(request, check_path=False)
        if preferred == settings.LANGUAGE_CODE:
            return None
        # The prefixed patterns only match while their language is active.
        with translation.override(preferred):
            under_prefix = is_valid_path(f"/{preferred}{request.path_info}", urlconf)
        if not under_prefix:
            return None
        script_prefix = get_script_prefix()
        redirect = HttpResponseRedirect(
            request.get_full_path().replace(script_prefix, f"{script_prefix}{preferred}/", 1)
        )
        patch_vary_headers(redirect, ("Accept-Language", "Cookie"))
        return redirect

    def process_response(self, request, response):
        response = super().process_response(request, response)
        if not translation.get_language_from_path(request.path_info):
            # Whether this page is served or redirected depends on both.
            patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response
