"""API test helpers: clients signed in the two ways the API accepts."""

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

PASSWORD = "a-long-pass-phrase-1"


def customer(email: str = "ann@example.com", **fields):
    return get_user_model().objects.create_user(email, email, PASSWORD, **fields)


def bearer_client(user) -> APIClient:
    """An app's client: the user's access token in the Authorization header."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client
