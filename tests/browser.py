"""What the browser tests share: Debian's Chromium driven by Playwright, at phone size.

A test module does `pytestmark = browser_marks()` and takes the `browser` fixture (one
Chromium per module, registered in tests/conftest.py). Without Chromium or Playwright the
tests skip and say why.
"""

import os
import re
import shutil
import time
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# live server's fixtures here are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PHONE = {"width": 375, "height": 812}


def browser_marks(*extra) -> list:
    """Marks of a browser test module: live server (committed data), Chromium present."""
    return [
        pytest.mark.browser,
        *extra,
        pytest.mark.django_db(transaction=True),
        pytest.mark.skipif(
            not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
            reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
        ),
    ]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def dashboard_menu_tap(page, section: str, item: str) -> None:
    """Open the dashboard's menu (one menu button on a phone), tap section > item and wait
    for the page it opens."""
    heading = page.locator("a.dropdown-toggle", has_text=section)
    menu = page.locator("nav.navbar", has=heading)
    toggler = menu.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        menu.locator(".navbar-collapse.show").wait_for()
    heading.click()
    link = menu.locator(".dropdown-item", has_text=item)
    link.wait_for(state="visible")
    with page.expect_navigation():
        link.click()


def kept(page, path: str, *, cache: str = "solomo-visitor") -> bool:
    """Whether the service worker keeps `path` for the current visitor."""
    return page.evaluate(
        """([path, name]) => caches.open(name)
            .then((cache) => cache.match(new URL(path, location.href).href, {ignoreVary: true}))
            .then(Boolean)""",
        [path, cache],
    )


def until(check, what: str, *, seconds: float = 10) -> None:
    """Polls `check` from Python (the page's CSP refuses wait_for_function's eval)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def wait_kept(page, path: str) -> None:
    until(lambda: kept(page, path), f"{path} was not kept for offline use")


def phone_context(browser, live_server):
    """A phone-sized context that may only talk to the live server (no map tiles)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    context.route(
        re.compile(r"^(?!" + re.escape(live_server.url) + ")https?://"),
        lambda route: route.abort(),
    )
    context.set_default_timeout(10_000)
    return context


def sign_in(page, live_server, email: str) -> None:
    """Sign in through the login form (every test user's password is "pw")."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login-username", email)
    page.fill("#id_login-password", "pw")
    page.click("button[name=login_submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
