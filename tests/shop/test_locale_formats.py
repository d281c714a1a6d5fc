"""Money and dates follow the active language: "€12.90" / "12,90 €", British English dates
(config/formats/en), on the storefront and in the dashboard."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import formats, translation
from oscar.core.loading import get_model

from shop.payment.money import money_display
from tests.factories import product
from tests.loyalty.factories import member_factory, order_for
from tests.stores.factories import pickup_order, staff_of, store

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db

# 4 December 2026, 14:05 in Strasbourg: "12/04/2026" would be the US reading.
PLACED = dt.datetime(2026, 12, 4, 13, 5, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("language", "date", "short_date", "date_time"),
    [
        ("en", "4 Dec 2026", "04/12/2026", "4 Dec 2026, 14:05"),
        ("fr", "4 décembre 2026", "04/12/2026", "4 décembre 2026 14:05"),
    ],
)
def test_dates_are_day_first_in_english_and_french(language, date, short_date, date_time):
    local = PLACED.astimezone(dt.timezone(dt.timedelta(hours=1)))
    with translation.override(language):
        assert formats.date_format(local) == date
        assert formats.date_format(local, "SHORT_DATE_FORMAT") == short_date
        assert formats.date_format(local, "DATETIME_FORMAT") == date_time


@pytest.mark.parametrize(("language", "shown"), [("en", "€1,234.50"), ("fr", "1\u202f234,50\xa0€")])
def test_money_display_follows_the_language(language, shown):
    with translation.override(language):
        assert money_display(Decimal("1234.5"), "EUR") == shown


@pytest.mark.parametrize(
    ("prefix", "shown"), [("", "4 Dec 2026, 14:05"), ("/fr", "4 décembre 2026 14:05")]
)
def test_the_order_history_shows_day_first_dates(client, prefix, shown):
    member = member_factory()
    order = order_for(member.user, (product("Lamp", price="12.90"), 1))
    Order.objects.filter(pk=order.pk).update(date_placed=PLACED)
    client.force_login(member.user)

    page = client.get(f"{prefix}/accounts/orders/").content.decode()

    assert shown in page
    assert "Dec. 4" not in page and "12/04/2026" not in page


@pytest.mark.parametrize(("prefix", "shown"), [("", "€"), ("/fr", "\xa0€")])
def test_the_staff_pickup_queue_shows_money_in_the_language(client, prefix, shown):
    centre = store("Centre")
    pickup = pickup_order(centre)
    client.force_login(staff_of(centre, "staff@centre.example"))
    total = pickup.order.total_incl_tax
    expected = f"€{total:.2f}" if prefix == "" else f"{total:.2f}".replace(".", ",") + shown

    page = client.get(f"{prefix}/dashboard/stores/pickups/").content.decode()

    assert f'<td class="queue-due">{expected}</td>' in page
    assert f"{total:.2f} EUR" not in page
