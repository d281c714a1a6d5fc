"""The signed-in user's own settings: notification channels and marketing consent, this
device's push subscription, and a copy of their data. Any signed-in user, for themselves
only. The site's services and form do the work (shop/communication, shop/accounts), so a
setting saved here is the one the site shows, with the same checks and consent records."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.accounts.export import export_request
from shop.communication.forms import NotificationSettingsForm
from shop.communication.preferences import (
    consents_current,
    consents_update,
    preference_for,
    preference_update,
)
from shop.communication.push import InvalidSubscription, subscription_delete, subscription_save

CHANNELS = ("email", "sms", "push")


def signed_in(request: Request) -> User:
    """The request's user: the views below let only signed-in users in (IsAuthenticated)."""
    user = request.user
    assert isinstance(user, User), "IsAuthenticated lets only signed-in users in"
    return user


class MarketingSerializer(serializers.Serializer):
    email = serializers.BooleanField()
    sms = serializers.BooleanField()
    push = serializers.BooleanField()


class NotificationsSerializer(serializers.Serializer):
    email = serializers.BooleanField(help_text="Order and pickup updates by e-mail.")
    sms = serializers.BooleanField(help_text="… by SMS (needs phone_number).")
    push = serializers.BooleanField(help_text="… as notifications on a subscribed device.")
    phone_number = serializers.CharField(allow_blank=True, max_length=25)
    marketing = MarketingSerializer(help_text="Consent to offers and news, per channel.")


def _current(user: Any) -> dict[str, Any]:
    preference = preference_for(user=user)
    return {
        "email": preference.email,
        "sms": preference.sms,
        "push": preference.push,
        "phone_number": preference.phone_number,
        "marketing": consents_current(user=user),
    }


class NotificationsView(APIView):
    """A signed-in user: the channels of their order and pickup updates, and their
    marketing consent per channel (each change recorded, R41)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=NotificationsSerializer)
    def get(self, request: Request) -> Response:
        return Response(NotificationsSerializer(_current(signed_in(request))).data)

    @extend_schema(request=NotificationsSerializer, responses=NotificationsSerializer)
    def put(self, request: Request) -> Response:
        given = NotificationsSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        # The site's form: the same rules (a number for SMS, one channel at least).
        form = NotificationSettingsForm(
            data={
                **{name: data[name] for name in (*CHANNELS, "phone_number")},
                **{f"marketing_{name}": data["marketing"][name] for name in CHANNELS},
            }
        )
        if not form.is_valid():
            fields = {name: [str(m) for m in errors] for name, errors in form.errors.items()}
            raise exceptions.ValidationError(fields)
        clean = form.cleaned_data
        preference_update(
            user=signed_in(request),
            email=clean["email"],
            sms=clean["sms"],
            push=clean["push"],
            phone_number=clean["phone_number"],
        )
        consents_update(
            user=signed_in(request),
            wanted={name: clean[f"marketing_{name}"] for name in CHANNELS},
            source="api-notification-settings",
        )
        return Response(NotificationsSerializer(_current(signed_in(request))).data)


class PushKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField()
    auth = serializers.CharField()


class PushSubscriptionSerializer(serializers.Serializer):
    endpoint = serializers.URLField(help_text="PushSubscription.toJSON()'s endpoint.")
    keys = PushKeysSerializer(required=False)


class PushSubscribedSerializer(serializers.Serializer):
    id = serializers.IntegerField()


class PushDeletedSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()


class PushSubscriptionsView(APIView):
    """A signed-in user: subscribe this device to push (POST its PushSubscription) or
    unsubscribe it (DELETE with its endpoint); endpoints are checked before they are kept
    (shop/communication/push.py)."""

    permission_classes = [IsAuthenticated]

    def _refused(self, exc: InvalidSubscription) -> exceptions.ValidationError:
        return exceptions.ValidationError({"endpoint": [str(exc)]})

    @extend_schema(request=PushSubscriptionSerializer, responses={201: PushSubscribedSerializer})
    def post(self, request: Request) -> Response:
        try:
            subscription = subscription_save(
                user=signed_in(request),
                payload=request.data,
                user_agent=request.headers.get("User-Agent", ""),
            )
        except InvalidSubscription as exc:
            raise self._refused(exc) from exc
        return Response({"id": subscription.pk}, status=status.HTTP_201_CREATED)

    @extend_schema(request=PushSubscriptionSerializer, responses=PushDeletedSerializer)
    def delete(self, request: Request) -> Response:
        endpoint = request.data.get("endpoint") if isinstance(request.data, dict) else None
        if not isinstance(endpoint, str) or not endpoint:
            raise exceptions.ValidationError(
                {"endpoint": [_("Give the endpoint of the subscription to remove.")]}
            )
        return Response(
            {"deleted": subscription_delete(user=signed_in(request), endpoint=endpoint)}
        )


class ExportSerializer(serializers.Serializer):
    requested_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class ExportView(APIView):
    """A signed-in user: ask for a copy of their data; the download link arrives by e-mail
    (shop/accounts/export.py), as from the site's page."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: ExportSerializer})
    def post(self, request: Request) -> Response:
        export = export_request(user=signed_in(request))
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)
