"""A native app written from the committed OpenAPI schema alone (docs/openapi.yaml).

The script below knows operation ids and the field names the schema declares, never a
path: it signs in, browses, chooses a store, fills the basket, checks out for pickup paid
at the counter and reads the pickup's status. Every field it sends must be declared in
the operation's request schema and every field it reads in the response's, so the test
fails when the schema and the API part ways on anything an app relies on.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from tests.factories import product
from tests.shop.api.factories import PASSWORD, customer
from tests.stores.factories import ALWAYS_OPEN, stock, store

pytestmark = pytest.mark.django_db

SCHEMA = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml").read_text("utf-8")
)


def _resolve(node: dict) -> dict:
    """A schema object with its $ref (and a single allOf) followed."""
    while True:
        if "$ref" in node:
            node = SCHEMA["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
        elif len(node.get("allOf", ())) == 1:
            node = node["allOf"][0]
        else:
            return node


def _properties(node: dict) -> set[str]:
    return set(_resolve(node).get("properties", {}))


class SchemaClient:
    """Calls operations by their id; checks what it sends and reads against the schema."""

    def __init__(self):
        self.http = APIClient()
        self.operations = {
            operation["operationId"]: (method, path, operation)
            for path, methods in SCHEMA["paths"].items()
            for method, operation in methods.items()
        }

    def call(self, operation_id: str, *, path=None, query=None, body=None) -> tuple[int, Any]:
        method, template, operation = self.operations[operation_id]
        declared = {p["name"] for p in operation.get("parameters", ())}
        assert set(path or {}) | set(query or {}) <= declared, operation_id
        if body is not None:
            request = operation["requestBody"]["content"]["application/json"]["schema"]
            assert set(body) <= _properties(request), operation_id
            assert set(_resolve(request).get("required", ())) <= set(body), operation_id
        url = template.format(**(path or {}))
        response = getattr(self.http, method)(
            url, data=body if body is not None else query, format="json" if body else None
        )
        return response.status_code, response.json()

    def reads(self, operation_id: str, status: int, *fields: str, schema=None) -> None:
        """`fields` are declared in the operation's answer for `status` (or in `schema`)."""
        _method, _path, operation = self.operations[operation_id]
        answer = schema or operation["responses"][str(status)]["content"]["application/json"]
        assert set(fields) <= _properties(answer.get("schema", answer)), operation_id


def test_an_app_written_from_the_schema_checks_out_for_pickup_and_follows_its_pickup():
    shop = store("Centre", hours=ALWAYS_OPEN, lat=48.58, lng=7.75)
    tea = product("Green tea", price="4.00", stock=0)
    stock(shop, tea, 5, price="4.00")
    customer()
    app = SchemaClient()

    status, tokens = app.call(
        "auth_token_create", body={"email": "ann@example.com", "password": PASSWORD}
    )
    assert status == 200
    app.reads("auth_token_create", 200, "access", "refresh")
    app.http.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    status, found = app.call("products_list", query={"q": "tea"})
    assert status == 200
    app.reads("products_list", 200, "results")
    assert [item["title"] for item in found["results"]] == ["Green tea"]

    status, near = app.call("stores_near_retrieve", query={"lat": 48.57, "lng": 7.74})
    assert status == 200
    app.reads("stores_near_retrieve", 200, "stores")
    slug = near["stores"][0]["slug"]
    assert slug == shop.slug
    assert app.call("stores_choose_create", path={"slug": slug})[0] == 200

    status, _basket = app.call("basket_create", body={"product": found["results"][0]["id"]})
    assert status == 201
    status, options = app.call("checkout_pickup_options_list")
    assert status == 200
    (option,) = options
    slot = option["slots"][0]["starts_at"]

    status, placed = app.call(
        "checkout_create", body={"store": slug, "slot": slot, "payment": "pay-at-pickup"}
    )
    assert status == 201
    app.reads("checkout_create", 201, "order", "card")
    number = placed["order"]["number"]

    status, order = app.call("orders_retrieve", path={"number": number})
    assert status == 200
    app.reads("orders_retrieve", 200, "number", "pickup", "total_incl_tax")
    app.reads(
        "orders_retrieve",
        200,
        "store",
        "slot_starts_at",
        "status",
        "status_label",
        "code",
        schema=SCHEMA["components"]["schemas"]["Pickup"],
    )
    assert (order["number"], order["total_incl_tax"]) == (number, "4.00")
    assert (order["pickup"]["store"], order["pickup"]["slot_starts_at"]) == (slug, slot)
    assert order["pickup"]["status"] == "new"
    assert len(order["pickup"]["code"]) >= 6
