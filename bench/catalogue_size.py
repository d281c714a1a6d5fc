"""A catalogue at size on PostgreSQL, built once and reused (bench/README.md, "pages_at_size.py").

    .venv/bin/python bench/catalogue_size.py --reuse-db solomo_size_10k      # ~5 minutes once
    .venv/bin/python bench/catalogue_size.py --reuse-db solomo_size_10k --products 20000 --rebuild

`seed_demo` first (site, the online warehouse and the four Strasbourg stores, their staff,
the demo's 66 products and 13 categories), then in bulk: `--products` products (default
10,000) in 20 categories with three subcategories each (80 in all), English and French
titles and descriptions, one small generated JPEG each, a stock record at the warehouse
and at about 70 % of products in each store; then `population_generate` for `--members`
members (default 10,000) with `--orders` orders (default 30,000), their pickups and points
ledgers; then VACUUM ANALYZE and the Whoosh index of plain Oscar's side (`rebuild_index`).

The database is `--reuse-db NAME` on the server of `--postgres`; its media and Whoosh index
live in `--data-dir` (default /tmp/solomo-bench-size/NAME). A finished build writes
`built.json` there; a later run finds it and does nothing (a database without it, from an
interrupted build, is dropped and built again; `--rebuild` forces that) but `migrate`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from urllib.parse import urlsplit, urlunsplit  # noqa: E402

from bench.common import (  # noqa: E402
    database_exists,
    log,
    population_generate,
    postgres_server_default,
)

BATCH = 5000
# (English, French): every product is "<adjective> <origin> <noun> no. N, <size>".
NOUNS = [
    ("coffee", "café"), ("cheese", "fromage"), ("honey", "miel"), ("jam", "confiture"),
    ("tea", "thé"), ("chocolate", "chocolat"), ("mustard", "moutarde"), ("bread", "pain"),
    ("wine", "vin"), ("beer", "bière"), ("sausage", "saucisse"), ("mug", "tasse"),
    ("towel", "torchon"), ("candle", "bougie"), ("soap", "savon"), ("biscuits", "biscuits"),
    ("pasta", "pâtes"), ("oil", "huile"), ("vinegar", "vinaigre"), ("cider", "cidre"),
]  # fmt: skip
ADJECTIVES = [
    ("organic", "bio"), ("smoked", "fumé"), ("sweet", "doux"), ("spicy", "épicé"),
    ("dark", "noir"), ("classic", "classique"), ("artisan", "artisanal"), ("fresh", "frais"),
    ("aged", "affiné"), ("wild", "sauvage"),
]  # fmt: skip
ORIGINS = [
    ("Alsace", "d'Alsace"), ("Vosges", "des Vosges"), ("Strasbourg", "de Strasbourg"),
    ("Colmar", "de Colmar"), ("Black Forest", "de la Forêt-Noire"), ("Lorraine", "de Lorraine"),
    ("Jura", "du Jura"), ("Burgundy", "de Bourgogne"), ("Savoy", "de Savoie"),
    ("Brittany", "de Bretagne"), ("Provence", "de Provence"), ("Normandy", "de Normandie"),
]  # fmt: skip
SIZES = ["250 g", "500 g", "1 kg"]
# One product in RARE_EVERY has this word in its title: the bench's "rare word" search.
RARE_WORD = "Yirgacheffe"
RARE_EVERY = 2000
COLOURS = ["#8d5524", "#c68642", "#2e7d32", "#1565c0", "#6a1b9a", "#c62828", "#00838f"]


def data_dir_default(name: str) -> Path:
    return Path(tempfile.gettempdir()) / "solomo-bench-size" / name


def environment(database_url: str, data_dir: Path) -> dict[str, str]:
    """What each process on this catalogue needs (this one, the bench's, rebuild_index)."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(data_dir / "media"),
        "BENCH_WHOOSH_PATH": str(data_dir / "whoosh"),
        "REDIS_URL": "",
        "CONN_MAX_AGE": "60",
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "DEBUG": "False",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",  # Whoosh: "does not handle faceting", on every search
    }


def _jpeg(text: str, colour: str) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 160), colour)
    ImageDraw.Draw(image).text((12, 70), text, fill="white")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


def _categories() -> dict[tuple[int, int], int]:
    """20 top-level categories (one per noun), 3 children each (one per size): leaf ids."""
    from oscar.core.loading import get_model

    category = get_model("catalogue", "Category")
    leaves = {}
    for n, (noun, noun_fr) in enumerate(NOUNS):
        top = category.add_root(
            name=f"Bench {noun}", name_en=f"Bench {noun}", name_fr=f"Banc {noun_fr}"
        )
        for s, size in enumerate(SIZES):
            child = top.add_child(
                name=f"{noun.capitalize()} {size}",
                name_en=f"{noun.capitalize()} {size}",
                name_fr=f"{noun_fr.capitalize()} {size}",
            )
            leaves[(n, s)] = child.pk
    return leaves


def _product_text(i: int, rng: random.Random) -> tuple[int, int, dict[str, str]]:
    n, a, o, s = (rng.randrange(len(x)) for x in (NOUNS, ADJECTIVES, ORIGINS, SIZES))
    (noun, noun_fr), (adj, adj_fr), (origin, origin_fr) = NOUNS[n], ADJECTIVES[a], ORIGINS[o]
    rare = f" {RARE_WORD}" if i % RARE_EVERY == 7 else ""
    title = f"{adj.capitalize()} {origin}{rare} {noun} no. {i}, {SIZES[s]}"
    title_fr = f"{noun_fr.capitalize()} {adj_fr} {origin_fr}{rare} n° {i}, {SIZES[s]}"
    description = (
        f"A {adj} {noun} from {origin}, chosen by our buyers for its character. "
        f"Sold in {SIZES[s]}; keep it in a cool, dry place."
    )
    description_fr = (
        f"Un {noun_fr} {adj_fr} {origin_fr}, choisi par nos acheteurs pour son caractère. "
        f"Vendu en {SIZES[s]} ; à conserver au frais et au sec."
    )
    return (
        n,
        s,
        {
            "title": title,
            "title_en": title,
            "title_fr": title_fr,
            "description": description,
            "description_en": description,
            "description_fr": description_fr,
        },
    )


def _products(count: int, media: Path, rng: random.Random) -> None:
    """`count` products, their categories, images and stock records, in batches of BATCH."""
    from django.db import transaction
    from django.utils.text import slugify
    from oscar.core.loading import get_model

    product_model = get_model("catalogue", "Product")
    link_model = get_model("catalogue", "ProductCategory")
    image_model = get_model("catalogue", "ProductImage")
    stock_model = get_model("partner", "StockRecord")
    store_partners = list(
        get_model("stores", "Store").objects.order_by("pk").values_list("partner_id", flat=True)
    )
    warehouse = get_model("partner", "Partner").objects.get(code="online").pk
    product_class = get_model("catalogue", "ProductClass").objects.order_by("pk").first()
    leaves = _categories()
    folder = media / "images" / "products" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for start in range(0, count, BATCH):
        with transaction.atomic():
            rows, places = [], []
            for i in range(start, min(count, start + BATCH)):
                n, s, text = _product_text(i, rng)
                rows.append(
                    product_model(
                        structure="standalone",
                        upc=f"BENCH{i:07d}",
                        slug=slugify(text["title"])[:128],
                        product_class=product_class,
                        is_public=True,
                        **text,
                    )
                )
                places.append(leaves[(n, s)])
            products = product_model.objects.bulk_create(rows)
            link_model.objects.bulk_create(
                link_model(product=p, category_id=c) for p, c in zip(products, places, strict=True)
            )
            images = []
            for product in products:
                path = folder / f"{product.upc}.jpg"
                path.write_bytes(_jpeg(product.upc, COLOURS[product.pk % len(COLOURS)]))
                images.append(image_model(product=product, original=str(path.relative_to(media))))
            image_model.objects.bulk_create(images)
            stock = []
            for product in products:
                price = f"{rng.randint(150, 4000) / 100:.2f}"
                for partner in [warehouse, *store_partners]:
                    if partner != warehouse and rng.random() >= 0.7:
                        continue
                    stock.append(
                        stock_model(
                            product=product,
                            partner_id=partner,
                            partner_sku=f"{partner}-{product.upc}",
                            price=price,
                            num_in_stock=rng.randint(0, 40) if partner != warehouse else 500,
                        )
                    )
            stock_model.objects.bulk_create(stock, batch_size=BATCH)
        done = min(count, start + BATCH)
        log(f"  products: {done:,}/{count:,} ({time.monotonic() - started:.0f} s)")


def _counts() -> dict[str, int]:
    from django.contrib.auth import get_user_model
    from oscar.core.loading import get_model

    return {
        "products": get_model("catalogue", "Product").objects.count(),
        "categories": get_model("catalogue", "Category").objects.count(),
        "images": get_model("catalogue", "ProductImage").objects.count(),
        "stock_records": get_model("partner", "StockRecord").objects.count(),
        "stores": get_model("stores", "Store").objects.count(),
        "users": get_user_model().objects.count(),
        "members": get_model("loyalty", "Member").objects.count(),
        "orders": get_model("order", "Order").objects.count(),
        "ledger_entries": get_model("loyalty", "PointsEntry").objects.count(),
    }


def build(args: argparse.Namespace, database_url: str, data_dir: Path) -> dict[str, int]:
    """Seed the database (in this process) and index it for Whoosh (another process)."""
    env = environment(database_url, data_dir)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    log("migrate")
    call_command("migrate", verbosity=0)
    log("seed_demo")
    call_command("seed_demo", verbosity=0)
    started = time.monotonic()
    _products(args.products, data_dir / "media", random.Random(args.seed))
    log(f"products done in {time.monotonic() - started:.0f} s")
    population_generate(members=args.members, orders=args.orders, seed=args.seed)
    with connection.cursor() as cursor:
        # VACUUM too: rows inserted in bulk wait in the GIN indexes' pending lists, which
        # the planner prices so high that it reads the whole table instead (autovacuum
        # would flush them later; a bench must not depend on when).
        cursor.execute("VACUUM ANALYZE")
    log("rebuild_index (Whoosh, plain Oscar's side)")
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "manage.py", "rebuild_index", "--noinput", "-v0"],
        cwd=ROOT,
        env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": "bench.settings_vanilla"},
        check=True,
    )
    log(f"rebuild_index done in {time.monotonic() - started:.0f} s")
    return _counts()


def catalogue_ensure(args: argparse.Namespace) -> tuple[str, Path, dict]:
    """The database URL, data directory and counts of the catalogue, built if needed."""
    import psycopg

    name = args.reuse_db
    data_dir = Path(args.data_dir or data_dir_default(name))
    marker = data_dir / "built.json"
    server = args.postgres
    database_url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    if database_exists(server, name) and marker.exists() and not args.rebuild:
        built = json.loads(marker.read_text())
        log(f"reusing {name}, built {built['built_at']}: {built['counts']}")
        # The code may have migrations the database has not (search indexes...).
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env={**os.environ, **environment(database_url, data_dir)},
            check=True,
        )
        return database_url, data_dir, built["counts"]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    started = time.monotonic()
    counts = build(args, database_url, data_dir)
    built = {
        "built_at": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "seconds": round(time.monotonic() - started),
        "options": {k: getattr(args, k) for k in ("products", "members", "orders", "seed")},
        "counts": counts,
    }
    marker.write_text(json.dumps(built, indent=1))
    log(f"built {name} in {built['seconds']} s: {counts}")
    return database_url, data_dir, counts


def arguments_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reuse-db", default="solomo_size_10k", help="database name to keep")
    parser.add_argument("--postgres", default=postgres_server_default(), help="server URL")
    parser.add_argument("--data-dir", help="media and Whoosh index (default /tmp/...)")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--rebuild", action="store_true", help="drop and build again")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments_add(parser)
    catalogue_ensure(parser.parse_args())


if __name__ == "__main__":
    main()
