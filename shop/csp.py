"""Content-Security-Policy middleware (R34); the policy is CONTENT_SECURITY_POLICY."""

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from django.http import HttpRequest


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, with a nonce in every policy.

    django-csp adds ``'nonce-…'`` to script-src only when a template read
    ``request.csp_nonce``; the policy of a page would then depend on which
    templates it happened to include. Making the nonce up front gives every
    response the same policy shape, so a nonce-carrying inline script works
    wherever it is rendered, and a missing nonce is the only way to be refused.
    """

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        # django-csp's process_request has just set csp_nonce (a lazy string) on the request.
        str(request.csp_nonce)  # type: ignore[attr-defined]
