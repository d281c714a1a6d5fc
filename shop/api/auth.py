"""Signing apps in: a short-lived access token and a refresh token used once.

Anyone may ask for tokens (that is how one signs in); the login lockout (R36) counts
failures by e-mail address and client IP as on the site, and AuthThrottle limits requests
per IP. A refresh returns a new refresh token and blacklists the one used
(SIMPLE_JWT ROTATE_REFRESH_TOKENS, BLACKLIST_AFTER_ROTATION); revoking blacklists one.
The site's own scripts need none of this: they send the session cookie and the CSRF token.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)

from shop.api.throttles import AuthThrottle, IPThrottle


class TokenObtainSerializer(TokenObtainPairSerializer):
    """E-mail and password, checked by the site's own authentication backends (the
    lockout first, then Oscar's e-mail backend)."""

    username_field = "email"
    default_error_messages = {
        "no_active_account": _("The e-mail address or the password is not right.")
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"] = serializers.EmailField(write_only=True)
        self.fields["access"] = serializers.CharField(read_only=True)
        self.fields["refresh"] = serializers.CharField(read_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        request = self.context["request"]
        # The Django request: the lockout marks it, and its middleware answers 429.
        self.user = authenticate(
            request._request, username=attrs["email"], password=attrs["password"]
        )
        if self.user is None or not self.user.is_active:
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        refresh = RefreshToken.for_user(self.user)
        return {"refresh": str(refresh), "access": str(refresh.access_token)}


class TokenObtainView(TokenObtainPairView):
    """Anyone: sign in with e-mail and password, get an access and a refresh token."""

    serializer_class = TokenObtainSerializer
    throttle_classes = [AuthThrottle, IPThrottle]


class TokenRotateView(TokenRefreshView):
    """Anyone holding a refresh token: a new access token and a new refresh token; the
    refresh token sent is blacklisted and refused from then on."""

    throttle_classes = [AuthThrottle, IPThrottle]


class TokenRevokeView(TokenBlacklistView):
    """Anyone holding a refresh token: sign the app out (the token is blacklisted)."""

    throttle_classes = [AuthThrottle, IPThrottle]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class MeView(APIView):
    """A signed-in user: who the token or the session belongs to."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
