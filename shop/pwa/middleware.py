"""Tells the service worker whom a page was made for (README "Install on a phone (PWA)")."""

from django.utils.crypto import salted_hmac

VIEWER_HEADER = "X-Viewer"
KEEP_HEADER = "X-Offline-Keep"


def viewer_id(user) -> str:
    """ "anonymous", or an opaque value per account (a keyed hash: it tells no one who it is)."""
    if user is None or not user.is_authenticated:
        return "anonymous"
    return salted_hmac("shop.pwa.viewer", str(user.pk)).hexdigest()[:20]


class ViewerMiddleware:
    """Adds X-Viewer to every HTML page. The service worker keeps some pages for offline
    use (the member card, pickup passes, product and store pages) and empties that cache
    as soon as a page comes back for another visitor, so a phone passed to someone else,
    or a session that ended, never shows the previous customer's pages.

    A page that showed one-time messages ("added to your basket") gets X-Offline-Keep: 0
    unless its view decided otherwise: shown again from the cache, they would be wrong."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response[VIEWER_HEADER] = viewer_id(getattr(request, "user", None))
            shown = getattr(request, "_messages", None)
            if shown is not None and shown.used and len(shown) and KEEP_HEADER not in response:
                response[KEEP_HEADER] = "0"
        return response
