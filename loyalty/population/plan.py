"""What a population is: its plan (seed, sizes, day), its totals, the catalogue it reads,
and the names and cities it draws from."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from django.apps import apps

HOME_DELIVERY = "home-delivery"
MAX_MEMBERS = 10_000_000  # seven digits of index in the member number
FIRST_NAMES = (  # noqa: SIM905
    "Camille Léa Manon Chloé Inès Jade Louise Emma Alice Lina Sarah Julie Anna Clara Zoé "
    "Hugo Lucas Louis Gabriel Arthur Jules Adam Nathan Paul Théo Tom Raphaël Noah Léo Marc "
    "Olivia Sophie Emily Grace Oliver Jack Harry George Thomas Daniel"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel "
    "Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Muller Meyer Schmitt Weber "
    "Klein Wolff Fischer Schneider Hoffmann Koenig Smith Jones Taylor Brown Wilson Evans"
).split()
# A catalogue made only when the database has no product with a category and a price.
CATALOGUE = {
    "Groceries": ["Coffee", "Tea", "Cheese", "Bakery", "Wine", "Fruit & vegetables"],
    "Home": ["Kitchen", "Candles"],
    "Gifts": ["Gift boxes"],
}
# Stores made only when the database has none: around these (lat, lng), a few km apart.
STORE_CITIES = (
    ("Strasbourg", 48.5839, 7.7455),
    ("Colmar", 48.0794, 7.3585),
    ("Mulhouse", 47.7508, 7.3359),
    ("Metz", 49.1193, 6.1757),
    ("Nancy", 48.6921, 6.1844),
)


class PopulationError(Exception):
    """The population cannot be generated as asked; nothing was written."""


@dataclass(frozen=True)
class PopulationPlan:
    members: int
    orders: int
    seed: int = 42
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    batch: int = 2000
    # Only used when the database has no store.
    stores: int = 20

    @property
    def prefix(self) -> str:
        return f"pop{self.seed}"

    @property
    def now(self) -> datetime:
        """Midnight UTC starting `today`: the population's "now", the same for every run
        of that day and never in the future of one."""
        return datetime.combine(self.today, time(0), tzinfo=UTC)

    def batches(self) -> Iterator[tuple[int, int, int]]:
        """(index, first member, end) of every batch."""
        for index, start in enumerate(range(0, self.members, self.batch)):
            yield index, start, min(start + self.batch, self.members)

    def orders_between(self, start: int, stop: int) -> int:
        """Orders of members [start, stop): the total is spread evenly over the members."""
        return round(self.orders * stop / self.members) - round(self.orders * start / self.members)


@dataclass
class PopulationTotals:
    members: int = 0
    orders: int = 0
    lines: int = 0
    pickups: int = 0
    entries: int = 0
    consents: int = 0
    batches_skipped: int = 0


@dataclass(frozen=True)
class Catalogue:
    # (product id, price, currency, stockrecord id, partner id, partner name, sku, title, upc)
    products_by_category: dict[int, list[tuple]]
    categories: list[int]
    stores: list[tuple[int, int, float, float, int, int]]  # id, partner, lat, lng, cap, slot min
    site_id: int
    tier_levels: list


@contextmanager
def logger_quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


@functools.cache
def registry_model(label: str):
    app_label, model_name = label.split(".")
    return apps.get_model(app_label, model_name)
