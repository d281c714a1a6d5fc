"""Every API error as one JSON shape: {"code": ..., "message": ..., "fields": {...}}.

`code` is stable for apps to branch on; `message` is for people, in the request's language
(Accept-Language); `fields` maps each invalid input field to its messages (empty unless
the input was invalid).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

logger = logging.getLogger("django.request")


class Refused(exceptions.APIException):
    """A request the shop refuses for a reason the person can act on (nothing changed)."""

    status_code: int = status.HTTP_409_CONFLICT
    default_code = "refused"

    def __init__(self, message: str, *, code: str = "refused", status_code: int = 409) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code


def _messages(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _messages(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _messages(value)]
    return [str(detail)]


def _fields(detail: dict) -> dict[str, list[str]]:
    return {name: _messages(value) for name, value in detail.items()}


def error_body(*, code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def _first_code(codes: Any) -> str:
    while isinstance(codes, list | dict):
        if not codes:
            return "error"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def _validation_body(exc: exceptions.ValidationError) -> dict:
    detail = exc.detail
    if not isinstance(detail, dict):
        return error_body(code="invalid", message=" ".join(_messages(detail)))
    general = _messages(detail.get("non_field_errors", []))
    fields = _fields({k: v for k, v in detail.items() if k != "non_field_errors"})
    message = " ".join(general) or _("Some fields are not valid: see each field's message.")
    return error_body(code="invalid", message=message, fields=fields)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler (Http404 and PermissionDenied included), with the body reshaped."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        # Not an API error: a bug. Logged as Django logs a 500, answered in the same shape.
        request = context.get("request")
        logger.error("Internal Server Error: %s", getattr(request, "path", "?"), exc_info=exc)
        message = _("Something went wrong on our side. Please try again in a moment.")
        return Response(error_body(code="server_error", message=message), status=500)
    if not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc)
    else:
        response.data = error_body(
            code=_first_code(exc.get_codes()), message=" ".join(_messages(exc.detail))
        )
    return response


class NotFoundView(APIView):
    """Anyone: an address under /api/v1/ that names no endpoint, as a 404 in the shape."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # throttled like the rest
        raise exceptions.NotFound(_("There is no such address in the API."))
