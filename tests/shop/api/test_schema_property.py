"""Property-based run of the API against its own schema (schemathesis, in process through
Django's WSGI application): whatever the generated input, no answer is a server error, and
every answer the schema describes matches it. Bounded (a few examples per operation) so
it runs in seconds with the suite."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from loyalty.services.ledger import points_credit
from loyalty.services.members import member_enrol
from tests.factories import product
from tests.shop.api.factories import bearer_client, customer
from tests.stores.factories import stock, store

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def wsgi_keeps_the_test_connection():
    """Django's WSGI handler closes the database connection after each request; inside the
    test's transaction that would lose it. django.test.Client unhooks the same receivers."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def shopper_token(settings, wsgi_keeps_the_test_connection):
    # Generous budgets: the run makes far more requests a minute than a person would.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "10000/min", "ip": "10000/min", "auth": "10000/min"},
    }
    user = customer()
    member = member_enrol(user=user)
    points_credit(member=member, amount=300, reason="Order", idempotency_key="e:1")
    stock(store("Centre"), product("Tea", stock=0), 5)
    client = bearer_client(user)
    return client._credentials["HTTP_AUTHORIZATION"]


def test_no_server_error_and_answers_match_the_schema(shopper_token):
    # Loaded here, not with schemathesis' pytest plugin: its lazy loader does not work with
    # the pytest this project uses, and a plain loop needs no plugin.
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def answers_well(case):
            case.call_and_validate(
                headers={"Authorization": shopper_token},
                checks=[not_a_server_error, response_schema_conformance],
            )

        answers_well()

    assert len(operations) >= 20
