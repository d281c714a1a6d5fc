"""Lighthouse scores of the demo shop's main pages, as `make run` serves them.

Run from the project root, with Lighthouse installed outside the repository (or in a
git-ignored node_modules) and Debian's Chromium:

    npm install --prefix /some/dir lighthouse@12
    .venv/bin/python bench/lighthouse.py --lighthouse /some/dir/node_modules/.bin/lighthouse
    .venv/bin/python bench/lighthouse.py --lighthouse ... --workdir /tmp/lh --reuse

The demo is built as `make run` builds it, in `--workdir` (a temporary directory by
default; `--reuse` keeps a database already seeded there): a fresh SQLite database,
`migrate`, `collectstatic`, `missing_image_install`, `seed_demo`; then gunicorn serves it
with DEBUG off and WhiteNoise (config.settings.local, tasks in-process, no Redis), on a free
port of 127.0.0.1. Each page is requested once first (a running shop has rendered it
before: its product cards are cached), then Lighthouse (mobile, its default throttling)
runs once per page against it, Chromium headless with CHROME_PATH=/usr/bin/chromium. The
member page is signed in as the demo shopper: a session made for them is passed as a
cookie (--extra-headers); the pickup follow page is the signed link of the shopper's
latest click & collect order.

Lighthouse 12 has no PWA category any more (nor its installable-manifest and
service-worker audits), so the PWA checks are made here with Playwright on the same
Chromium: the installability errors Chromium itself reports for the home page
(Page.getInstallabilityErrors over CDP; none means installable), the manifest it parsed,
a service worker controlling the page after a reload, and, offline, that the home page and
the shop's offline page answer 200 from the service worker.

Prints JSON and writes it to bench/results/lighthouse-<date>[-<label>].json: per page the
four category scores (0-100) and the audits scoring under 1 that count in them, so the
table in bench/README.md can say what stands between a page and 100. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, log  # noqa: E402

CHROME = "/usr/bin/chromium"
CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
SHOPPER = "shopper@solomo.example"

# Run in the demo's environment by `manage.py shell`: the pages that need the demo's data.
PAGES_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from django.test import Client
from oscar.core.loading import get_model
from stores.links import pickup_link_url
from stores.models import Pickup

user = get_user_model().objects.get(email=%(shopper)r)
category = get_model("catalogue", "Category").objects.filter(depth=1).order_by("path").first()
product = get_model("catalogue", "Product").objects.filter(
    is_public=True, structure="standalone", stockrecords__num_in_stock__gt=0
).order_by("pk").first()
pickup = Pickup.objects.filter(order__user=user).order_by("-order__date_placed").first()
client = Client()
client.force_login(user)
print(json.dumps({
    "category": category.get_absolute_url(),
    "product": product.get_absolute_url(),
    "pickup": pickup_link_url(order_number=pickup.order.number),
    "session": client.cookies["sessionid"].value,
}))
"""


def _environ(workdir: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DEBUG": "False",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "REDIS_URL": "",
        "STATIC_ROOT": str(workdir / "staticfiles"),
        "MEDIA_ROOT": str(workdir / "media"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
    }


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def demo_build(workdir: Path, env: dict[str, str], *, reuse: bool) -> None:
    """What `make run` does before serving, on the database in `workdir`."""
    seeded = workdir / "seeded"
    if reuse and seeded.exists():
        log("reusing the seeded demo in " + str(workdir))
        _manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        return
    (workdir / "db.sqlite3").unlink(missing_ok=True)
    for step in (
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput", "--verbosity", "0"],
        ["missing_image_install"],
        ["seed_demo"],
    ):
        log("manage.py " + " ".join(step))
        _manage(env, *step)
    seeded.touch()


def server_start(env: dict[str, str], port: int) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "config.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "2", "--threads", "4"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer within 120 s")


def warm_up(url: str, cookie: str | None) -> None:
    """One request first, as a running shop has served the page before (cached cards)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()


def lighthouse_run(
    binary: str, url: str, out: Path, cookie: str | None, cpu_slowdown: float | None
) -> dict:
    """One Lighthouse run: the four scores and the audits under 1 that weigh in them."""
    command = [
        binary,
        url,
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={' '.join(CHROME_FLAGS)}",
        "--quiet",
    ]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    if cpu_slowdown is not None:
        command.append(f"--throttling.cpuSlowdownMultiplier={cpu_slowdown}")
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROME}, timeout=300)
    report = json.loads(out.read_text())
    scores = {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}
    below = {}
    for name in CATEGORIES:
        for ref in report["categories"][name]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                below[ref["id"]] = {
                    "category": name,
                    "score": audit["score"],
                    "title": audit["title"],
                    "value": audit.get("displayValue", ""),
                }
    return {
        "url": report["finalDisplayedUrl"],
        "scores": scores,
        "below_1": below,
        "lighthouse": report["lighthouseVersion"],
        # Lighthouse's own measure of this machine's CPU during the run: under 1000 it
        # warns that the performance score suffers from a slow (here: shared) host.
        "benchmark_index": report["environment"]["benchmarkIndex"],
        "cpu_slowdown": report["configSettings"]["throttling"]["cpuSlowdownMultiplier"],
    }


def pwa_checks(base: str) -> dict:
    """Installability as Chromium judges it, the service worker, and offline answers."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        # A profile of its own: in an incognito context Chromium never offers to install.
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROME,
            args=CHROME_FLAGS,
            viewport={"width": 375, "height": 812},
        )
        page = context.new_page()
        page.goto(base + "/", wait_until="load")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload(wait_until="load")
        controlled = page.evaluate("!!navigator.serviceWorker.controller")
        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        manifest = cdp.send("Page.getAppManifest")
        parsed = json.loads(manifest.get("data") or "{}")
        context.set_offline(True)
        offline = {}
        for path in ("/", "/offline/"):
            response = page.goto(base + path, wait_until="load")
            offline[path] = response.status if response is not None else None
        context.close()
    return {
        "installable": not errors,
        "installability_errors": errors,
        "manifest_url": manifest.get("url"),
        "manifest_errors": manifest.get("errors", []),
        "manifest_display": parsed.get("display"),
        "manifest_icons": sorted({icon.get("sizes", "") for icon in parsed.get("icons", [])}),
        "service_worker_controls_page": controlled,
        "offline_status": offline,
    }


def _version(binary: str) -> str:
    return subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lighthouse", required=True, help="path of the lighthouse binary")
    parser.add_argument("--workdir", help="where the demo's database and files go")
    parser.add_argument("--reuse", action="store_true", help="keep a seeded demo in workdir")
    parser.add_argument("--label", default="", help="suffix of the result file")
    parser.add_argument("--pages", help="comma-separated page names (default: all)")
    parser.add_argument(
        "--cpu-slowdown",
        type=float,
        help="Lighthouse's CPU slowdown multiplier (default: its own, 4) for a slow host",
    )
    args = parser.parse_args()
    if not Path(CHROME).exists():
        sys.exit(f"needs Chromium at {CHROME} (apt-get install -y chromium)")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="solomo-lighthouse-"))
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _environ(workdir, port)
    demo_build(workdir, env, reuse=args.reuse)
    # The last line: the shell may print before the script does.
    output = _manage(env, "shell", "-c", PAGES_SCRIPT % {"shopper": SHOPPER})
    data = json.loads(output.strip().splitlines()[-1])
    base = f"http://127.0.0.1:{port}"
    pages = {
        "home": ("/", False),
        "category": (data["category"], False),
        "product": (data["product"], False),
        "store locator": ("/stores/", False),
        "member page": ("/loyalty/", True),
        "pickup follow": (data["pickup"], False),
    }
    wanted = set(args.pages.split(",")) if args.pages else set(pages)
    server = server_start(env, port)
    results: dict = {"pages": {}}
    try:
        for name, (path, signed_in) in pages.items():
            if name not in wanted:
                continue
            log(f"lighthouse {name}: {path}")
            cookie = f"sessionid={data['session']}" if signed_in else None
            out = workdir / f"{name.replace(' ', '-')}.report.json"
            warm_up(base + path, cookie)
            results["pages"][name] = lighthouse_run(
                args.lighthouse, base + path, out, cookie, args.cpu_slowdown
            )
        log("PWA checks with Playwright")
        results["pwa"] = pwa_checks(base)
    finally:
        server.terminate()
        server.wait(30)
    results.update(
        date=dt.date.today().isoformat(),
        chromium=_version(CHROME),
        node=_version("node") if shutil.which("node") else None,
        load_average=os.getloadavg(),
    )
    text = json.dumps(results, indent=2)
    print(text)
    suffix = f"-{args.label}" if args.label else ""
    target = ROOT / "bench" / "results" / f"lighthouse-{results['date']}{suffix}.json"
    target.write_text(text + "\n")
    log(f"written to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
