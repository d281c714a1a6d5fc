"""The API's error shape for what is not an API error: a bug answers 500 in the shape, and
is logged as Django logs a server error."""

import logging

from django.utils import translation
from rest_framework.test import APIRequestFactory

from shop.api.errors import api_exception_handler


def test_an_unexpected_exception_is_a_logged_500_in_the_error_shape(caplog):
    request = APIRequestFactory().get("/api/v1/me/")

    with caplog.at_level(logging.ERROR, logger="django.request"), translation.override("fr"):
        response = api_exception_handler(RuntimeError("boom"), {"request": request})

    assert response.status_code == 500
    assert response.data == {
        "code": "server_error",
        "message": "Un problème est survenu de notre côté. Veuillez réessayer dans un instant.",
        "fields": {},
    }
    assert [r.getMessage() for r in caplog.records] == ["Internal Server Error: /api/v1/me/"]
    assert caplog.records[0].exc_info[1].args == ("boom",)
