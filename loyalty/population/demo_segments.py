"""Demo segments over the population, saved for the marketers' pages."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from .plan import registry_model

STRASBOURG = (48.5839, 7.7455)


def _nearest_store(lat: float, lng: float) -> int | None:
    stores = (
        registry_model("stores.Store")
        .objects.filter(is_active=True)
        .values_list("pk", "latitude", "longitude")
    )
    best = min(
        stores,
        key=lambda s: (s[1] - lat) ** 2 + ((s[2] - lng) * math.cos(math.radians(lat))) ** 2,
        default=None,
    )
    return best[0] if best else None


def demo_segments() -> list[tuple[str, str, dict]]:
    """(name, description, rules) of the demo segments this database can express."""
    found = []
    store_id = _nearest_store(*STRASBOURG)
    if store_id is not None:
        found.append(
            (
                "Gold members near Strasbourg",
                "Gold tier, home store within 15 km of the store nearest Strasbourg's centre.",
                {
                    "match": "all",
                    "conditions": [
                        {"type": "tier", "op": "in", "value": ["gold"]},
                        {
                            "type": "home_store_distance",
                            "op": "lte",
                            "value": "15",
                            "store": store_id,
                        },
                    ],
                },
            )
        )
    found.append(
        (
            "Lapsed 90 days",
            "Customers who ordered before but not in the last 90 days.",
            {
                "match": "all",
                "conditions": [
                    {"type": "orders_count", "op": "gte", "value": 1},
                    {"type": "days_since_last_order", "op": "gte", "value": 90},
                ],
            },
        )
    )
    category_model = registry_model("catalogue.Category")
    coffee = (
        category_model.objects.filter(name__iexact="coffee").order_by("depth", "pk").first()
        or category_model.objects.filter(name__icontains="coffee").order_by("depth", "pk").first()
    )
    if coffee is not None:
        found.append(
            (
                "Bought coffee in the last 30 days",
                f"Bought in the category {coffee.name} (or below) in the last 30 days.",
                {
                    "match": "all",
                    "conditions": [
                        {"type": "bought_category", "op": "in", "value": coffee.pk, "days": 30}
                    ],
                },
            )
        )
    month = datetime.now(UTC).month
    found.append(
        (
            "Birthday this month",
            f"Born in month {month} (the month the segment was saved in).",
            {
                "match": "all",
                "conditions": [{"type": "birthday_month", "op": "in", "value": [month]}],
            },
        )
    )
    return found


def demo_segments_save() -> list[tuple[str, bool]]:
    """Save the demo segments missing by name; (name, created) for each. Idempotent."""
    from loyalty.models import Segment
    from loyalty.services.segments import segment_save

    saved = []
    for name, description, rules in demo_segments():
        exists = Segment.objects.filter(name=name).exists()
        if not exists:
            segment_save(name=name, description=description, rules=rules)
        saved.append((name, not exists))
    return saved
