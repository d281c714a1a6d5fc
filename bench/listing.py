"""Listing pages: ours (shop.search, on the database) against plain Oscar (Haystack + Whoosh).

Run from the project root:

    .venv/bin/python bench/listing.py               # SQLite, in-process + HTTP (~5 min)
    .venv/bin/python bench/listing.py --no-http     # in-process only
    .venv/bin/python bench/listing.py --postgres    # also on a throw-away PostgreSQL database

One fresh database per engine (a temporary SQLite file, or a temporary PostgreSQL
database that is dropped afterwards), migrated and seeded once with `seed_demo`;
the Whoosh index for the vanilla side is built from it with `rebuild_index`.
Each side is then measured in its own process (ours: config.settings.test,
vanilla: bench.settings_vanilla), DEBUG off, with Django's test client
in-process: per page a warm-up, then R runs of N requests (median requests/s),
then one request with its SQL queries captured and its product cards counted.
With wrk installed, each side is also served by gunicorn (one sync worker) on
127.0.0.1 and hit by `wrk` for a few seconds per page.

Whoosh is a bench-only dependency: `.venv/bin/pip install Whoosh==2.7.4`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, log, scratch_postgres  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SIDES = {"ours": "config.settings.test", "vanilla": "bench.settings_vanilla"}
PAGE_NAMES = ["catalogue", "category", "search", "product", "home"]
# A product card in our templates / in Oscar's stock templates.
CARD_RE = re.compile(r'<article class="(?:product-card|product_pod)"')
STOP_WORDS = {"about", "their", "there", "these", "which", "while", "where", "after", "other"}


# --- Worker: runs inside one side's Django --------------------------------------------------


def choose_pages(query: str | None) -> dict[str, str]:
    """The same URLs on both sides, chosen from the seeded data."""
    from oscar.core.loading import get_model

    category_model = get_model("catalogue", "Category")
    product_model = get_model("catalogue", "Product")

    products = list(product_model.objects.browsable().order_by("pk"))
    if not products:
        raise SystemExit("No browsable products: did seed_demo run?")
    # The public category with the most products (itself and its descendants).
    categories = category_model.objects.filter(is_public=True, ancestors_are_public=True)
    category = max(
        categories,
        key=lambda c: (
            product_model.objects.filter(categories__in=c.get_descendants_and_self())
            .distinct()
            .count(),
            -c.pk,
        ),
    )
    if not query:
        # The commonest word of five letters or more in titles and descriptions.
        words = Counter()
        for product in products:
            text = f"{product.title} {product.description}".lower()
            words.update(set(re.findall(r"[a-z]{5,}", text)) - STOP_WORDS)
        query = words.most_common(1)[0][0]
    return {
        "catalogue": "/catalogue/",
        "category": category.get_absolute_url(),
        "search": f"/search/?q={query}",
        "product": products[0].get_absolute_url(),
        "home": "/",
    }


def products_in_context(context, html: str) -> int | None:
    if context is None:
        return None
    if "product" in context and "page_obj" not in context and "featured_products" not in context:
        return 1  # a product page
    for key in ("featured_products", "results", "products"):
        if key in context and context[key] is not None:
            return len(context[key])
    return None


def worker(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    pages = choose_pages(args.query)
    client = Client()
    side = args.worker
    results: dict[str, dict] = {}
    for name in PAGE_NAMES:
        url = pages[name]
        for _ in range(args.warmup):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{side}: GET {url} answered {response.status_code}")
        rates = []
        for _ in range(args.runs):
            started = time.perf_counter()
            for _ in range(args.requests):
                response = client.get(url)
            rates.append(args.requests / (time.perf_counter() - started))
            if response.status_code != 200:
                raise SystemExit(f"{side}: GET {url} answered {response.status_code}")
        results[name] = {"url": url, "rates": rates, "rps": statistics.median(rates)}
        spread = f"{min(rates):.1f}-{max(rates):.1f}"
        log(f"  {side:<7} {name:<9} {statistics.median(rates):7.1f} req/s ({spread}) {url}")

    # Counting pass, after the timings: template instrumentation (response.context)
    # slows rendering down, so it stays out of the measured requests.
    setup_test_environment()
    for name in PAGE_NAMES:
        url = pages[name]
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        html = response.content.decode()
        results[name].update(
            queries=len(queries),
            cards=len(CARD_RE.findall(html)),
            in_context=products_in_context(response.context, html),
        )
    Path(args.output).write_text(json.dumps({"pages": pages, "results": results}))


# --- Orchestrator ---------------------------------------------------------------------------


def run(cmd: list[str], env: dict[str, str], what: str) -> None:
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{what} failed ({done.returncode})")
    log(f"{what}: done in {time.monotonic() - started:.1f} s")


def side_env(base: dict[str, str], side: str) -> dict[str, str]:
    env = dict(base, DJANGO_SETTINGS_MODULE=SIDES[side])
    return env


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def measure_http(env: dict[str, str], side: str, pages: dict[str, str], duration: int) -> dict:
    """gunicorn (1 sync worker) on loopback, `wrk -t1 -c2` for `duration` seconds per page."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=side_env(env, side),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rates = {}
    try:
        wait_for(base + "/health/")
        for name in PAGE_NAMES:
            for _ in range(5):  # warm-up (thumbnails, caches)
                wait_for(base + pages[name])
            out = subprocess.run(
                ["wrk", "-t1", "-c2", f"-d{duration}s", base + pages[name]],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            match = re.search(r"Requests/sec:\s+([\d.]+)", out)
            if "Non-2xx" in out or not match:
                raise SystemExit(f"wrk on {side} {pages[name]}: unexpected output\n{out}")
            rates[name] = float(match.group(1))
            log(f"  {side:<7} {name:<9} {rates[name]:7.1f} req/s over HTTP")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return rates


def bench_engine(engine: str, database_url: str, tmp: Path, args) -> dict:
    log(f"== {engine}: {database_url}")
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(tmp / "media"),
        BENCH_WHOOSH_PATH=str(tmp / "whoosh"),
        ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        DEBUG="False",
        LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore",  # Whoosh: "does not handle faceting", on every search
    )
    manage = [sys.executable, "manage.py"]
    run([*manage, "migrate", "--noinput", "-v0"], side_env(env, "ours"), "migrate")
    run([*manage, "seed_demo", "-v0"], side_env(env, "ours"), "seed_demo")
    run(
        [*manage, "rebuild_index", "--noinput", "-v0"],
        side_env(env, "vanilla"),
        "rebuild_index (Whoosh)",
    )
    sides = {}
    for side in SIDES:
        output = tmp / f"{side}.json"
        log(f"{side}: {args.runs} runs x {args.requests} requests per page, in-process")
        cmd = [sys.executable, __file__, "--worker", side, "--output", str(output)]
        cmd += ["--runs", str(args.runs), "--requests", str(args.requests)]
        cmd += ["--warmup", str(args.warmup)]
        if args.query:
            cmd += ["--query", args.query]
        done = subprocess.run(cmd, cwd=ROOT, env=side_env(env, side))
        if done.returncode:
            raise SystemExit(f"{side} worker failed ({done.returncode})")
        sides[side] = json.loads(output.read_text())
    if sides["ours"]["pages"] != sides["vanilla"]["pages"]:
        raise SystemExit(f"The sides chose different pages: {sides}")
    if args.http:
        for side in SIDES:
            log(f"{side}: gunicorn + wrk, {args.http_duration} s per page")
            http = measure_http(env, side, sides[side]["pages"], args.http_duration)
            for name, rate in http.items():
                sides[side]["results"][name]["http_rps"] = rate
    return sides


def fmt_count(name: str, result: dict) -> str:
    cards, in_context = result["cards"], result["in_context"]
    if name == "product":
        return f"{in_context} (detail page)"
    if in_context is None or cards == in_context:
        return str(cards)
    return f"{cards} (context: {in_context}) ⚠"


def table(engine: str, sides: dict, http: bool) -> tuple[str, list[str]]:
    head = ["page", "side", "products listed", "queries/request", "median req/s", "ours/vanilla"]
    if http:
        head += ["HTTP req/s (wrk)", "HTTP ours/vanilla"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    warnings = []
    for name in PAGE_NAMES:
        ours = sides["ours"]["results"][name]
        vanilla = sides["vanilla"]["results"][name]
        for side, result in (("ours", ours), ("vanilla", vanilla)):
            label = f"{name} `{result['url']}`" if side == "ours" else ""
            row = [label, side, fmt_count(name, result), str(result["queries"])]
            row.append(f"{result['rps']:.1f}")
            row.append(f"{ours['rps'] / vanilla['rps']:.2f}×" if side == "ours" else "")
            if http:
                row.append(f"{result['http_rps']:.1f}")
                ratio = ours["http_rps"] / vanilla["http_rps"]
                row.append(f"{ratio:.2f}×" if side == "ours" else "")
            lines.append("| " + " | ".join(row) + " |")
            if name == "product":
                continue
            if result["in_context"] is not None and result["cards"] != result["in_context"]:
                warnings.append(
                    f"{engine}, {side}, {name}: {result['in_context']} products in the view's "
                    f"context but {result['cards']} product cards in the HTML"
                )
            if result["cards"] == 0:
                warnings.append(f"{engine}, {side}, {name}: the page lists no products")
    return "\n".join(lines), warnings


def versions() -> str:
    from importlib.metadata import version

    packages = ["Django", "django-oscar", "django-haystack", "Whoosh"]
    return ", ".join(f"{p} {version(p)}" for p in packages)


def orchestrate(args: argparse.Namespace) -> None:
    import importlib.util

    if importlib.util.find_spec("whoosh") is None:
        raise SystemExit(
            "The vanilla side needs Whoosh (bench only, not in requirements): "
            ".venv/bin/pip install Whoosh==2.7.4"
        )
    if args.http and not shutil.which("wrk"):
        log("wrk not found (apt-get install -y wrk): skipping the HTTP measurement")
        args.http = False
    started = time.monotonic()
    engines: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="solomo-bench-") as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "sqlite").mkdir()
        engines["SQLite"] = bench_engine(
            "SQLite", f"sqlite:///{tmp / 'sqlite' / 'db.sqlite3'}", tmp / "sqlite", args
        )
        if args.postgres:
            with scratch_postgres(args.postgres, f"solomo_bench_{os.getpid()}") as url:
                (tmp / "pg").mkdir()
                engines["PostgreSQL"] = bench_engine("PostgreSQL", url, tmp / "pg", args)
    elapsed = time.monotonic() - started

    now = dt.datetime.now().astimezone()
    report = [
        f"# Listing pages: ours vs plain django-oscar — {now:%Y-%m-%d %H:%M %Z}",
        "",
        f"`.venv/bin/python bench/listing.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`"
        f" — {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {versions()}; "
        f"{args.runs} runs × {args.requests} requests per page in-process (median), "
        f"DEBUG off, total {elapsed:.0f} s.",
        "Ours: `config.settings.test` (shop.search, database). "
        "Vanilla: `bench.settings_vanilla` (Oscar's search app and templates, Haystack + Whoosh).",
        "",
    ]
    all_warnings = []
    for engine, sides in engines.items():
        text, warnings = table(engine, sides, args.http)
        report += [f"## {engine}", "", text, ""]
        all_warnings += warnings
    if all_warnings:
        report += ["**Check:**", "", *[f"- {w}" for w in all_warnings], ""]
    output = "\n".join(report)
    print(output)
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    path = results_dir / f"listing-{now:%Y-%m-%d}.md"
    path.write_text(output)
    log(f"written to {path.relative_to(ROOT)} ({elapsed:.0f} s in all)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per page (default 7)")
    parser.add_argument("--requests", type=int, default=50, help="requests per run (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up requests (default 5)")
    parser.add_argument("--query", help="search query (default: the commonest word)")
    parser.add_argument("--no-http", dest="http", action="store_false", help="skip gunicorn+wrk")
    parser.add_argument(
        "--http-duration", type=int, default=3, help="wrk seconds per page (default 3)"
    )
    pg_default = os.environ.get("DATABASE_URL", "")
    if not pg_default.startswith(("postgres://", "postgresql://")):
        pg_default = "postgres://postgres@127.0.0.1:5432/postgres"
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=pg_default,
        metavar="URL",
        help="also run on a temporary database on this PostgreSQL server "
        f"(default {pg_default}); created and dropped by the bench",
    )
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
    else:
        orchestrate(args)


if __name__ == "__main__":
    main()
