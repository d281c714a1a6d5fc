"""The client's IP address, as the login lockout and the rate limits count it."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR; behind TRUSTED_PROXY_COUNT reverse proxies, the address the outermost
    one saw connecting to it.

    Each proxy appends the address it received the request from to X-Forwarded-For, so
    with n proxies the client is the n-th entry from the right. Entries further left are
    whatever the client sent and are never believed: trusting the left-most entry would let
    anyone pick a fresh address for every login attempt. A request that did not pass
    through all the proxies (too few entries, or garbage) is counted by REMOTE_ADDR.
    """
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote_addr
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < proxies:
        return remote_addr
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote_addr
