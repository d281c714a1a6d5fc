"""Helpers of the browser tests: a phone-sized browser context."""

import re

from tests.browser import PHONE


def phone_context(browser, live_server):
    """A phone-sized context that may only talk to the live server (no map tiles)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.route(
        re.compile(r"^(?!" + re.escape(live_server.url) + ")https?://"),
        lambda route: route.abort(),
    )
    context.set_default_timeout(10_000)
    return context
