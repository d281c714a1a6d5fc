"""The Stripe fake speaks like Stripe, as seen through the real stripe library (R11)."""

import json
import threading
import time
import uuid

import pytest
import requests
import stripe
from django.conf import settings

from tests.fake_stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe, parse_params


def make_client(fake: FakeStripe, *, timeout: float = 1.0, retries: int = 2, key=SECRET_KEY):
    http = stripe.RequestsClient(timeout=timeout)
    return stripe.StripeClient(
        key,
        base_addresses={"api": fake.url},
        max_network_retries=retries,
        http_client=http,
    )


@pytest.fixture
def client(fake_stripe, fast_retries):
    return make_client(fake_stripe)


def key() -> str:
    return str(uuid.uuid4())


def create(client, amount=2500, **extra):
    params = {
        "amount": amount,
        "currency": "eur",
        "metadata": {"order_number": "100042"},
        "automatic_payment_methods": {"enabled": True},
        **extra,
    }
    return client.v1.payment_intents.create(params=params, options={"idempotency_key": key()})


def test_fixture_points_the_settings_at_the_fake(fake_stripe):
    assert fake_stripe.url == settings.STRIPE_API_BASE
    assert fake_stripe.url.startswith("http://127.0.0.1:")
    assert settings.STRIPE_SECRET_KEY == "sk_test_fake"
    assert settings.STRIPE_PUBLISHABLE_KEY == "pk_test_fake"
    assert settings.STRIPE_WEBHOOK_SECRET == "whsec_test_fake"
    assert settings.STRIPE_TIMEOUT == 2


def test_form_bodies_are_rebuilt_into_stripes_nesting():
    parsed = parse_params(
        "amount=100&metadata%5Border_number%5D=X&automatic_payment_methods%5Benabled%5D=true"
        "&expand%5B%5D=a&expand%5B%5D=b&metadata%5B0%5D=zero&items%5B0%5D%5Bprice%5D=p"
    )
    assert parsed == {
        "amount": "100",
        "metadata": {"order_number": "X", "0": "zero"},
        "automatic_payment_methods": {"enabled": "true"},
        "expand": ["a", "b"],
        "items": [{"price": "p"}],
    }


def test_create_and_retrieve_a_payment_intent(client, fake_stripe):
    pi = create(client, description="Order 100042", receipt_email="a@example.com")

    assert pi.id.startswith("pi_")
    assert pi.object == "payment_intent"
    assert pi.amount == 2500
    assert pi.amount_received == 0
    assert pi.currency == "eur"
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(f"{pi.id}_secret_")
    assert pi.metadata.to_dict() == {"order_number": "100042"}
    assert pi.automatic_payment_methods.enabled is True
    assert pi.latest_charge is None
    assert pi.last_payment_error is None
    assert pi.next_action is None
    assert pi.livemode is False
    assert pi.cancellation_reason is None
    assert isinstance(pi.created, int)

    again = client.v1.payment_intents.retrieve(pi.id)
    assert again.to_dict() == pi.to_dict()
    method, path, params, idem = fake_stripe.requests[0]
    assert (method, path) == ("POST", "/v1/payment_intents")
    assert params["metadata"] == {"order_number": "100042"}
    assert params["automatic_payment_methods"] == {"enabled": "true"}
    assert idem
    assert fake_stripe.events_of_type("payment_intent.created")[0]["data"]["object"]["id"] == pi.id


def test_confirm_with_a_good_card_succeeds_and_keeps_a_charge(client):
    pi = create(client)
    pi = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})

    assert pi.status == "succeeded"
    assert pi.amount_received == 2500
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.object == "charge"
    assert (charge.amount, charge.amount_captured, charge.amount_refunded) == (2500, 2500, 0)
    assert charge.refunded is False
    assert charge.payment_intent == pi.id
    assert charge.currency == "eur"

    expanded = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert expanded.latest_charge.id == charge.id


def test_a_declined_card_raises_card_error_and_is_replayed_as_such(client, fake_stripe):
    pi = create(client)
    options = {"idempotency_key": key()}
    params = {"payment_method": "pm_card_chargeDeclined"}
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(pi.id, params=params, options=options)

    err = declined.value
    assert err.http_status == 402
    assert err.code == "card_declined"
    assert err.user_message == "Your card was declined."
    assert err.json_body["error"]["type"] == "card_error"
    assert err.json_body["error"]["decline_code"] == "generic_decline"
    assert err.json_body["error"]["payment_intent"]["id"] == pi.id
    assert err.request_id.startswith("req_")

    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "card_declined"

    with pytest.raises(stripe.CardError) as replayed:
        client.v1.payment_intents.confirm(pi.id, params=params, options=options)
    assert replayed.value.headers["Idempotent-Replayed"] == "true"

    pi = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded"
    assert pi.last_payment_error is None


def test_three_d_secure_requires_action_and_the_hosted_page_completes_it(client, fake_stripe):
    pi = create(client)
    pi = client.v1.payment_intents.confirm(
        pi.id,
        params={
            "payment_method": "pm_card_threeDSecure2Required",
            "return_url": "http://testserver/checkout/return/",
        },
    )
    assert pi.status == "requires_action"
    assert pi.next_action.type == "redirect_to_url"
    redirect = pi.next_action.redirect_to_url
    assert redirect.return_url == "http://testserver/checkout/return/"

    assert "Complete" in requests.get(redirect.url, timeout=2).text
    done = requests.get(f"{redirect.url}/complete", allow_redirects=False, timeout=2)
    assert done.status_code == 302
    assert done.headers["Location"].startswith(
        f"http://testserver/checkout/return/?payment_intent={pi.id}&payment_intent_client_secret="
    )
    assert done.headers["Location"].endswith("&redirect_status=succeeded")
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    assert (
        fake_stripe.payment_intents[pi.id].keys()
        == client.v1.payment_intents.retrieve(pi.id).to_dict().keys()
    )


def test_browser_and_stripe_side_controls(client, fake_stripe):
    pi = create(client)
    assert fake_stripe.customer_pays(pi.id)["status"] == "succeeded"

    pi = create(client)
    assert fake_stripe.customer_pays(pi.id, "pm_card_authenticationRequired")["status"] == (
        "requires_action"
    )
    failed = fake_stripe.fail_attempt(pi.id)
    assert failed["status"] == "requires_payment_method"
    assert failed["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    assert fake_stripe.customer_pays(pi.id, "pm_card_chargeDeclined")["last_payment_error"][
        "decline_code"
    ] == ("generic_decline")
    assert fake_stripe.require_action(pi.id)["next_action"]["type"] == "redirect_to_url"
    assert fake_stripe.process(pi.id)["status"] == "processing"
    assert fake_stripe.succeed(pi.id)["status"] == "succeeded"
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    assert fake_stripe.payment_intents[pi.id]["amount_received"] == 2500
    types = [e["type"] for e in fake_stripe.events]
    assert "payment_intent.payment_failed" in types
    assert types[-1] == "payment_intent.succeeded"


def test_update_amount_and_metadata_until_succeeded(client, fake_stripe):
    pi = create(client)
    pi = client.v1.payment_intents.update(
        pi.id, params={"amount": 3000, "metadata": {"basket": "7"}}
    )
    assert pi.amount == 3000
    assert pi.metadata.to_dict() == {"order_number": "100042", "basket": "7"}
    pi = client.v1.payment_intents.update(pi.id, params={"metadata": {"basket": ""}})
    assert pi.metadata.to_dict() == {"order_number": "100042"}

    fake_stripe.customer_pays(pi.id)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.update(pi.id, params={"amount": 100})
    assert refused.value.code == "payment_intent_unexpected_state"


def test_cancel_and_cancel_again(client, fake_stripe):
    pi = create(client)
    pi = client.v1.payment_intents.cancel(
        pi.id, params={"cancellation_reason": "abandoned"}, options={"idempotency_key": key()}
    )
    assert pi.status == "canceled"
    assert pi.cancellation_reason == "abandoned"

    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.cancel(pi.id)
    assert again.value.http_status == 400
    assert again.value.code == "payment_intent_unexpected_state"
    assert again.value.user_message.startswith(
        "You cannot cancel this PaymentIntent because it has a status of canceled."
    )

    paid = create(client)
    fake_stripe.customer_pays(paid.id)
    with pytest.raises(stripe.InvalidRequestError, match="status of succeeded"):
        client.v1.payment_intents.cancel(paid.id)


def test_list_is_newest_first_and_pages(client, fake_stripe):
    now = [1_000]
    fake_stripe.clock = lambda: now[0]
    first = create(client)
    now[0] = 2_000
    second = create(client)
    now[0] = 3_000
    third = create(client)

    page = client.v1.payment_intents.list(params={"limit": 2})
    assert page.object == "list"
    assert page.url == "/v1/payment_intents"
    assert [p.id for p in page.data] == [third.id, second.id]
    assert page.has_more is True
    rest = client.v1.payment_intents.list(params={"limit": 2, "starting_after": second.id})
    assert [p.id for p in rest.data] == [first.id]
    assert rest.has_more is False

    window = client.v1.payment_intents.list(params={"created": {"gte": 1_500, "lte": 2_500}})
    assert [p.id for p in window.data] == [second.id]
    assert [p.id for p in client.v1.payment_intents.list().auto_paging_iter()] == [
        third.id,
        second.id,
        first.id,
    ]


def test_unknown_ids_and_routes_are_404s_in_stripes_format(client, fake_stripe):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.retrieve("pi_nope")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"
    assert missing.value.param == "intent"
    assert missing.value.user_message == "No such payment_intent: 'pi_nope'"
    with pytest.raises(stripe.InvalidRequestError, match="No such charge"):
        client.v1.charges.retrieve("ch_nope")
    with pytest.raises(stripe.InvalidRequestError, match="No such refund"):
        client.v1.refunds.retrieve("re_nope")

    answer = requests.get(
        f"{fake_stripe.url}/v1/customers",
        headers={"Authorization": "Bearer sk_test_fake"},
        timeout=2,
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert answer.json()["error"]["message"].startswith("Unrecognized request URL (GET:")
    assert answer.headers["Request-Id"].startswith("req_")
    assert answer.headers["Stripe-Version"]


def test_a_missing_parameter_is_a_400(client):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.create(params={"amount": 100})
    assert missing.value.code == "parameter_missing"
    assert missing.value.param == "currency"


def test_an_api_key_is_required(fake_stripe):
    answer = requests.get(f"{fake_stripe.url}/v1/payment_intents", timeout=2)
    assert answer.status_code == 401
    assert "You did not provide an API key" in answer.json()["error"]["message"]
    with pytest.raises(stripe.AuthenticationError):
        make_client(fake_stripe, key="sk_live_nope").v1.payment_intents.list()


def test_same_idempotency_key_replays_the_first_response(client, fake_stripe):
    options = {"idempotency_key": key()}
    params = {"amount": 1000, "currency": "eur", "metadata": {"order_number": "1"}}
    first = client.v1.payment_intents.create(params=params, options=options)
    second = client.v1.payment_intents.create(params=params, options=options)

    assert second.id == first.id
    assert len(fake_stripe.payment_intents) == 1

    headers = {
        "Authorization": "Bearer sk_test_fake",
        "Idempotency-Key": options["idempotency_key"],
    }
    raw = requests.post(
        f"{fake_stripe.url}/v1/payment_intents",
        data={"amount": "1000", "currency": "eur", "metadata[order_number]": "1"},
        headers=headers,
        timeout=2,
    )
    assert raw.status_code == 200
    assert raw.headers["Idempotent-Replayed"] == "true"
    assert raw.json()["id"] == first.id
    # Keys are scoped to the API key.
    other = requests.post(
        f"{fake_stripe.url}/v1/payment_intents",
        data={"amount": "1000", "currency": "eur"},
        headers={**headers, "Authorization": "Bearer sk_test_other"},
        timeout=2,
    )
    assert other.json()["id"] != first.id


def test_same_idempotency_key_with_other_parameters_is_an_idempotency_error(client, fake_stripe):
    options = {"idempotency_key": key()}
    client.v1.payment_intents.create(params={"amount": 1000, "currency": "eur"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as reused:
        client.v1.payment_intents.create(
            params={"amount": 2000, "currency": "eur"}, options=options
        )
    assert reused.value.http_status == 400
    assert reused.value.json_body["error"]["type"] == "idempotency_error"
    assert options["idempotency_key"] in reused.value.user_message
    assert len(fake_stripe.payment_intents) == 1


def test_a_key_still_in_flight_is_a_409_and_then_replays(fake_stripe, fast_retries):
    client = make_client(fake_stripe, retries=0)
    gate = fake_stripe.hold_next("POST", "/v1/payment_intents")
    options = {"idempotency_key": key()}
    params = {"amount": 1000, "currency": "eur"}
    results = []
    first = threading.Thread(
        target=lambda: results.append(client.v1.payment_intents.create(params, options))
    )
    first.start()
    deadline = time.monotonic() + 2
    while not fake_stripe.requests and time.monotonic() < deadline:
        time.sleep(0.005)  # until the first request is in flight
    try:
        with pytest.raises(stripe.APIError) as in_use:
            client.v1.payment_intents.create(params=params, options=options)
        assert in_use.value.http_status == 409
        assert in_use.value.json_body["error"]["code"] == "idempotency_key_in_use"
        assert in_use.value.json_body["error"]["type"] == "idempotency_error"
    finally:
        gate.set()
        first.join(timeout=5)
    replay = client.v1.payment_intents.create(params=params, options=options)
    assert replay.id == results[0].id
    assert len(fake_stripe.payment_intents) == 1


def test_a_timeout_after_commit_then_retries_with_the_key_make_one_intent(
    fake_stripe, fast_retries
):
    fake_stripe.timeout_next("POST", "/v1/payment_intents")
    client = make_client(fake_stripe, timeout=0.3, retries=2)

    pi = create(client)

    assert list(fake_stripe.payment_intents) == [pi.id]
    posts = [r for r in fake_stripe.requests if r[0] == "POST"]
    assert len(posts) == 2
    assert posts[0][3] == posts[1][3]


def test_our_own_retry_after_a_timeout_replays_with_the_same_key(fake_stripe, fast_retries):
    fake_stripe.timeout_next("POST", "/v1/payment_intents", delay=1.0)
    client = make_client(fake_stripe, timeout=0.3, retries=0)
    options = {"idempotency_key": key()}
    params = {"amount": 1000, "currency": "eur"}

    with pytest.raises(stripe.APIConnectionError):
        client.v1.payment_intents.create(params=params, options=options)
    assert len(fake_stripe.payment_intents) == 1  # Stripe did it; we don't know yet

    pi = client.v1.payment_intents.create(params=params, options=options)
    assert list(fake_stripe.payment_intents) == [pi.id]


def test_a_dropped_connection_after_commit_is_retried_into_one_intent(client, fake_stripe):
    fake_stripe.disconnect_next("POST", "/v1/payment_intents")
    pi = create(client)
    assert list(fake_stripe.payment_intents) == [pi.id]


def test_a_500_after_commit_is_retried_by_the_library_into_one_intent(client, fake_stripe):
    fake_stripe.fail_next("POST", "/v1/payment_intents", status=500, after_commit=True)
    pi = create(client)
    assert list(fake_stripe.payment_intents) == [pi.id]
    assert len([r for r in fake_stripe.requests if r[0] == "POST"]) == 2


def test_a_409_before_commit_is_retried_and_a_5xx_without_retries_raises(fake_stripe, fast_retries):
    fake_stripe.fail_next("POST", "/v1/payment_intents", status=409, after_commit=False)
    pi = create(make_client(fake_stripe, retries=2))
    assert list(fake_stripe.payment_intents) == [pi.id]

    fake_stripe.reset()
    fake_stripe.fail_next("POST", "/v1/payment_intents", status=503, after_commit=False, count=3)
    with pytest.raises(stripe.APIError) as failed:
        create(make_client(fake_stripe, retries=2))
    assert failed.value.http_status == 503
    assert fake_stripe.payment_intents == {}


def test_refunds(client, fake_stripe):
    pi = create(client)
    fake_stripe.customer_pays(pi.id)

    refund = client.v1.refunds.create(
        params={
            "payment_intent": pi.id,
            "amount": 1000,
            "reason": "requested_by_customer",
            "metadata": {"order_number": "100042"},
        },
        options={"idempotency_key": key()},
    )
    assert refund.id.startswith("re_")
    assert refund.object == "refund"
    assert (refund.amount, refund.currency, refund.status) == (1000, "eur", "succeeded")
    assert refund.payment_intent == pi.id
    assert refund.metadata.to_dict() == {"order_number": "100042"}
    charge = client.v1.charges.retrieve(refund.charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, False)

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2000})
    assert too_much.value.param == "amount"
    assert too_much.value.user_message == (
        "Refund amount (€20.00) is greater than unrefunded amount on charge (€15.00)"
    )

    rest = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert rest.amount == 1500
    assert client.v1.charges.retrieve(refund.charge).refunded is True
    with pytest.raises(stripe.InvalidRequestError) as already:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1})
    assert already.value.code == "charge_already_refunded"

    listed = client.v1.refunds.list(params={"payment_intent": pi.id})
    assert [r.id for r in listed.data] == [rest.id, refund.id]
    assert client.v1.refunds.retrieve(refund.id).amount == 1000
    assert set(fake_stripe.refunds) == {refund.id, rest.id}
    assert client.v1.payment_intents.retrieve(pi.id).amount_received == 2500


def test_an_unpaid_intent_cannot_be_refunded(client):
    pi = create(client)
    with pytest.raises(stripe.InvalidRequestError, match="does not have a successful charge"):
        client.v1.refunds.create(params={"payment_intent": pi.id})


def test_signed_events_are_accepted_by_the_stripe_library(client, fake_stripe):
    pi = create(client)
    fake_stripe.customer_pays(pi.id)
    evt = fake_stripe.event("payment_intent.succeeded", fake_stripe.payment_intents[pi.id])
    payload = json.dumps(evt).encode()

    parsed = stripe.Webhook.construct_event(
        payload, fake_stripe.sign(payload, WEBHOOK_SECRET), WEBHOOK_SECRET
    )
    assert parsed.id.startswith("evt_")
    assert parsed.type == "payment_intent.succeeded"
    assert parsed.data.object.id == pi.id
    assert parsed.data.object.status == "succeeded"
    assert fake_stripe.sign(payload, WEBHOOK_SECRET, timestamp=123).startswith("t=123,v1=")

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            payload, fake_stripe.sign(payload, "whsec_other"), WEBHOOK_SECRET
        )

    recorded = fake_stripe.events_of_type("payment_intent.succeeded")[0]
    body, signature = fake_stripe.signed_event(recorded["type"], recorded["data"]["object"])
    assert stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET).type == recorded["type"]
