import pytest
from oscar.test.factories import UserFactory

from shop.communication.models import PushSubscription
from shop.communication.preferences import preference_update
from tests.shop.communication.fake_dns import fake_dns  # noqa: F401  (a fixture for these tests)


@pytest.fixture
def customer(db):
    return UserFactory(email="lea@example.com")


def with_sms(user, phone="+33612345678"):
    preference_update(user=user, email=True, sms=True, push=True, phone_number=phone)
    return user


def with_push(user, endpoint="https://push.example.net/sub/1"):
    from tests.shop.communication.keys import subscriber_keys

    p256dh, auth = subscriber_keys()
    return PushSubscription.objects.create(user=user, endpoint=endpoint, p256dh=p256dh, auth=auth)
