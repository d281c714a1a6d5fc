"""Staff editing stock in the dashboard cannot go below what orders hold."""

import pytest
from django.urls import reverse
from oscar.test.factories import UserFactory

from tests.factories import category, product
from tests.shop.dashboard.stock_fixtures import stock_form_data

pytestmark = pytest.mark.django_db


def test_stock_below_allocated_is_a_form_error_and_nothing_changes(client):
    # Given a product with 5 in stock, 3 of them allocated to orders
    item = product("Munster", stock=5, categories=[category("Cheese")])
    record = item.stockrecords.get()
    record.num_allocated = 3
    record.save()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("dashboard:catalogue-product", kwargs={"pk": item.pk})

    # When staff set the stock to 2
    response = client.post(url, stock_form_data(item, record, 2))

    # Then the page says why, and the stock record is untouched
    assert response.status_code == 200
    errors = response.context["stockrecord_formset"].forms[0].errors
    assert errors["num_in_stock"] == [
        "3 units are allocated to orders not yet shipped or collected: stock can't be set "
        "below that. Cancel or fulfil those orders first."
    ]
    record.refresh_from_db()
    assert (record.num_in_stock, record.num_allocated) == (5, 3)


def test_stock_at_or_above_allocated_saves(client):
    item = product("Munster", stock=5, categories=[category("Cheese")])
    record = item.stockrecords.get()
    record.num_allocated = 3
    record.save()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("dashboard:catalogue-product", kwargs={"pk": item.pk})

    response = client.post(url, stock_form_data(item, record, 3))

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.num_in_stock == 3
