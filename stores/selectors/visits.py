"""Stores and store visits for loyalty's attribution report (README.md "Attribution")."""

import datetime as dt

from django.db.models import QuerySet

from ..models import Pickup, Store


def store_names(*, store_ids: set[int]) -> dict[int, str]:
    """{store id: name} for the given stores."""
    return dict(Store.objects.filter(pk__in=store_ids).values_list("pk", "name"))


def saved_store_ids(*, user_ids: QuerySet) -> dict[int, int]:
    """{user id: id of the store they saved as theirs} for the users of a subquery."""
    return dict(
        Store.objects.filter(preferences__user_id__in=user_ids).values_list(
            "preferences__user_id", "pk"
        )
    )


def store_visits(
    *, user_ids: QuerySet, start: dt.datetime, end: dt.datetime
) -> list[tuple[int, dt.datetime, int]]:
    """(user id, moment, store id) of every visit to a store between `start` and `end`: a
    customer saying "I'm here" for a pickup, or collecting it."""
    pickups = Pickup.objects.filter(order__user_id__in=user_ids)
    visits = []
    for field in ("customer_arrived_at", "collected_at"):
        visits += list(
            pickups.filter(**{f"{field}__gte": start, f"{field}__lte": end}).values_list(
                "order__user_id", field, "store_id"
            )
        )
    return visits
