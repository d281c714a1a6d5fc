"""An offline fake of Stripe's v1 HTTP API, for tests (R11).

`FakeStripe` is a real HTTP server on 127.0.0.1 that speaks Stripe's form-encoded v1 API for the
parts the shop uses (PaymentIntents, Charges, Refunds) closely enough that the real `stripe`
library talks to it unchanged: `StripeClient(..., base_addresses={"api": fake.url})`. It checks the
`Authorization: Bearer sk_test_...` header, answers errors in Stripe's JSON error format, and
implements Stripe's idempotency: a POST with an `Idempotency-Key` it has seen (per API key) with
the same method, path and parameters replays the first response with `Idempotent-Replayed: true`;
different parameters give a 400 `idempotency_error`; a key whose first request is still running
gives a 409 `idempotency_key_in_use` (which stripe-python retries).

Test controls, all thread-safe:

- what the shopper's browser (Stripe.js) does: `customer_pays(pi_id, payment_method)`, and the
  page at `next_action.redirect_to_url.url` of a 3-D Secure payment (GET it: it links to
  `.../complete` and `.../fail`, which redirect to the `return_url` like Stripe does);
- state changes Stripe makes on its own: `require_action`, `fail_attempt`, `process`, `succeed`;
- inspection: `payment_intents`, `charges`, `refunds` (id -> copy), `requests`
  (`(method, path, params, idempotency_key)` tuples), `events` (the Events Stripe would send);
- faults: `fail_next` (5xx/409 before or after the effect is committed), `timeout_next`
  (commit, then hold the answer until the client gives up), `disconnect_next` (commit, then close
  the socket without answering), `hold_next` (keep a request in flight until released);
- webhooks: `event(type, obj)` builds an Event, `sign(payload, secret)` the `Stripe-Signature`
  header value, with the stripe library's own scheme.

The `fake_stripe` fixture starts one server per test and points the Django settings at it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import secrets
import select
import socket
import string
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import stripe

SECRET_KEY = "sk_test_fake"
PUBLISHABLE_KEY = "pk_test_fake"
WEBHOOK_SECRET = "whsec_test_fake"
API_VERSION = stripe.api_version

_ALPHABET = string.ascii_letters + string.digits
_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
_CONFIRMABLE = ("requires_confirmation", "requires_payment_method", "requires_action")
_AMOUNT_UPDATABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")

# Stripe's test payment methods (https://docs.stripe.com/testing) and what confirming does.
_ACTION_REQUIRED = {
    "pm_card_threeDSecure2Required",
    "pm_card_threeDSecureRequired",
    "pm_card_authenticationRequired",
    "pm_card_authenticationRequiredOnSetup",
}
_DECLINES = {
    # payment method: (code, decline_code, message)
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_visa_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_visa_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedLostCard": ("card_declined", "lost_card", "Your card was declined."),
    "pm_card_chargeDeclinedStolenCard": ("card_declined", "stolen_card", "Your card was declined."),
    "pm_card_chargeDeclinedFraudulent": ("card_declined", "fraudulent", "Your card was declined."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", None, "Your card has expired."),
    "pm_card_chargeDeclinedIncorrectCvc": (
        "incorrect_cvc",
        None,
        "Your card's security code is incorrect.",
    ),
    "pm_card_chargeDeclinedProcessingError": (
        "processing_error",
        None,
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}
_CURRENCY_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£"}
_ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "xof", "xaf", "ugx", "pyg", "rwf", "kmf", "gnf"}
_MINIMUM_AMOUNT = {"eur": 50, "usd": 50, "gbp": 30}


def _rand(n: int = 24) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def _new_id(prefix: str) -> str:
    return f"{prefix}_3{_rand(23)}"


def _money(amount: int, currency: str) -> str:
    text = f"{amount}" if currency in _ZERO_DECIMAL else f"{amount / 100:.2f}"
    symbol = _CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


# --- Stripe's wire format --------------------------------------------------------------------


def parse_params(query: str) -> dict[str, Any]:
    """Parse a Stripe form-encoded body or query string into nested dicts and lists.

    `metadata[order]=1` -> {"metadata": {"order": "1"}}; `expand[]=a` and `expand[0]=a` (what
    stripe-python sends) -> {"expand": ["a"]}. Values stay strings, as Stripe receives them.
    """
    root: dict[str, Any] = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))] if match else [key]
        for value in values:
            node = root
            for part in parts[:-1]:
                if part == "":
                    part = str(len(node))
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            last = parts[-1]
            node[str(len(node)) if last == "" else last] = value
    return _listify(root, parent=None)


def _listify(node: Any, parent: str | None) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, parent=k) for k, v in node.items()}
    if converted and parent != "metadata" and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


class StripeAPIError(Exception):
    """An error answered in Stripe's format: {"error": {"type", "code", "message", "param"}}.

    `store=False` marks errors Stripe raises before an endpoint starts executing (parameter
    validation): their response is not saved under the idempotency key.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        store: bool = True,
        **extra: Any,
    ):
        super().__init__(message)
        self.status = status
        self.store = store
        error: dict[str, Any] = {}
        if code:
            error["code"] = code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        error.update(extra)
        error["message"] = message
        if param:
            error["param"] = param
        error["type"] = type
        self.body = {"error": error}


def _missing(param: str) -> StripeAPIError:
    return StripeAPIError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param, store=False
    )


def _int(params: dict, name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value is None:
        if required:
            raise _missing(name)
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeAPIError(
            400,
            f"Invalid integer: {value}",
            code="parameter_invalid_integer",
            param=name,
            store=False,
        ) from None


def _bool(value: Any, name: str) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise StripeAPIError(
        400, f"Invalid boolean: {value}", code="parameter_invalid_boolean", param=name, store=False
    )


def _metadata(current: dict, value: Any) -> dict:
    """Stripe's metadata update: keys merge, `metadata[key]=` unsets one, `metadata=` clears."""
    if value is None:
        return current
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise StripeAPIError(
            400, "Invalid hash", code="parameter_invalid_empty", param="metadata", store=False
        )
    merged = dict(current)
    for key, val in value.items():
        if val == "":
            merged.pop(key, None)
        else:
            merged[key] = str(val)
    return merged


def _no_such(kind: str, object_id: str, param: str) -> StripeAPIError:
    return StripeAPIError(
        404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param
    )


# --- Webhook events --------------------------------------------------------------------------


def event(
    type: str,
    obj: dict,
    *,
    event_id: str | None = None,
    created: int | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
    previous_attributes: dict | None = None,
) -> dict:
    """A Stripe Event (snapshot payload) about `obj`, as Stripe posts it to a webhook endpoint."""
    data: dict[str, Any] = {"object": copy.deepcopy(obj)}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": event_id or _new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()) if created is None else created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }


def sign(payload: bytes | str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value for `payload`: `t=<ts>,v1=<hex>`, computed by the
    stripe library itself (so `stripe.Webhook.construct_event` accepts it)."""
    if isinstance(payload, bytes | bytearray):
        payload = payload.decode("utf-8")
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)


# --- The server ------------------------------------------------------------------------------


class _Rule:
    def __init__(self, kind: str, method: str, prefix: str, count: int, **options: Any):
        self.kind = kind
        self.method = method.upper()
        self.prefix = prefix
        self.count = count
        self.options = options

    def matches(self, method: str, path: str) -> bool:
        return self.count > 0 and self.method == method and path.startswith(self.prefix)


class _Request:
    """What the endpoint code needs to know about the request being served."""

    def __init__(self, method: str, path: str, params: dict, request_id: str, key: str | None):
        self.method = method
        self.path = path
        self.params = params
        self.request_id = request_id
        self.idempotency_key = key


class FakeStripe:
    """A local, threaded HTTP server speaking (a faithful subset of) Stripe's v1 API."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.clock = time.time  # tests may replace it to control `created`
        self._reset_state()
        handler = type("FakeStripeHandler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeStripe:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for gate in self._gates:
                gate.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _reset_state(self) -> None:
        self._intents: dict[str, dict] = {}
        self._charges: dict[str, dict] = {}
        self._refunds: dict[str, dict] = {}
        self._order: dict[str, int] = {}  # id -> creation sequence, for stable newest-first lists
        self._seq = 0
        self._idempotency: dict[tuple[str, str], dict] = {}
        self._requests: list[tuple[str, str, dict, str | None]] = []
        self._events: list[dict] = []
        self._rules: list[_Rule] = []
        self._gates: list[threading.Event] = []

    def reset(self) -> None:
        """Forget every object, idempotency key, request, event and pending fault."""
        with self._lock:
            for gate in getattr(self, "_gates", []):
                gate.set()
            self._reset_state()

    # -- inspection --

    @property
    def payment_intents(self) -> dict[str, dict]:
        with self._lock:
            return {k: self._public(v) for k, v in self._intents.items()}

    @property
    def charges(self) -> dict[str, dict]:
        with self._lock:
            return {k: self._public(v) for k, v in self._charges.items()}

    @property
    def refunds(self) -> dict[str, dict]:
        with self._lock:
            return {k: self._public(v) for k, v in self._refunds.items()}

    @property
    def requests(self) -> list[tuple[str, str, dict, str | None]]:
        """Every API request received: (method, path, params, idempotency_key)."""
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def events(self) -> list[dict]:
        """The Events Stripe would have sent for what happened so far, oldest first."""
        with self._lock:
            return copy.deepcopy(self._events)

    def events_of_type(self, type: str) -> list[dict]:
        return [e for e in self.events if e["type"] == type]

    # -- webhooks --

    event = staticmethod(event)
    sign = staticmethod(sign)

    def signed_event(
        self,
        type: str,
        obj: dict,
        secret: str = WEBHOOK_SECRET,
        **kwargs: Any,
    ) -> tuple[bytes, str]:
        """(payload, Stripe-Signature) for a webhook POST of a new Event about `obj`."""
        payload = json.dumps(event(type, obj, **kwargs)).encode()
        return payload, sign(payload, secret)

    # -- what the browser / Stripe do on their own --

    def customer_pays(self, pi_id: str, payment_method: str = "pm_card_visa", **kw: Any) -> dict:
        """What Stripe.js's confirmPayment does in the shopper's browser. Declines don't raise:
        the PaymentIntent is left in requires_payment_method with last_payment_error set."""
        with self._lock:
            pi = self._get_intent(pi_id)
            with contextlib.suppress(StripeAPIError):
                self._confirm(pi, payment_method, kw.get("return_url"), None)
            return self._public(pi)

    def require_action(self, pi_id: str, return_url: str | None = None) -> dict:
        with self._lock:
            pi = self._get_intent(pi_id)
            if not pi["payment_method"]:
                pi["payment_method"] = "pm_card_threeDSecure2Required"
            self._requires_action(pi, return_url or pi.get("_return_url"), None)
            return self._public(pi)

    def fail_attempt(self, pi_id: str, payment_method: str = "pm_card_chargeDeclined") -> dict:
        with self._lock:
            pi = self._get_intent(pi_id)
            if pi["status"] == "requires_action":
                self._authentication_failed(pi, None)
            else:
                with contextlib.suppress(StripeAPIError):
                    self._decline(pi, payment_method, None)
            return self._public(pi)

    def process(self, pi_id: str) -> dict:
        with self._lock:
            pi = self._get_intent(pi_id)
            pi["payment_method"] = pi["payment_method"] or "pm_card_visa"
            pi["status"] = "processing"
            pi["next_action"] = None
            self._emit("payment_intent.processing", pi, None)
            return self._public(pi)

    def succeed(self, pi_id: str) -> dict:
        with self._lock:
            pi = self._get_intent(pi_id)
            self._succeed(pi, pi["payment_method"] or "pm_card_visa", None)
            return self._public(pi)

    def _get_intent(self, pi_id: str) -> dict:
        try:
            return self._intents[pi_id]
        except KeyError:
            raise KeyError(f"FakeStripe has no PaymentIntent {pi_id!r}") from None

    # -- fault injection --

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        status: int = 500,
        *,
        after_commit: bool = True,
        count: int = 1,
    ) -> None:
        """Answer the next `count` matching requests with an error `status`.

        after_commit=True: the request takes effect (and its real response is saved under its
        idempotency key, so a retry replays it) before the error is answered. False: nothing
        happens on the server.
        """
        with self._lock:
            self._rules.append(
                _Rule("fail", method, path_prefix, count, status=status, after_commit=after_commit)
            )

    def timeout_next(
        self, method: str, path_prefix: str, *, count: int = 1, delay: float | None = None
    ) -> None:
        """Let the next `count` matching requests take effect, then hold the answer: until the
        client hangs up (delay=None, i.e. its own timeout fires), or for `delay` seconds."""
        with self._lock:
            self._rules.append(_Rule("timeout", method, path_prefix, count, delay=delay))

    def disconnect_next(self, method: str, path_prefix: str, *, count: int = 1) -> None:
        """Let the next `count` matching requests take effect, then close the connection
        without answering."""
        with self._lock:
            self._rules.append(_Rule("disconnect", method, path_prefix, count))

    def hold_next(self, method: str, path_prefix: str, *, count: int = 1) -> threading.Event:
        """Keep the next `count` matching requests in flight (their idempotency key in use)
        until the returned Event is set."""
        gate = threading.Event()
        with self._lock:
            self._gates.append(gate)
            self._rules.append(_Rule("hold", method, path_prefix, count, gate=gate))
        return gate

    def _take_rules(self, method: str, path: str) -> dict[str, _Rule]:
        taken: dict[str, _Rule] = {}
        with self._lock:
            for rule in self._rules:
                if rule.kind not in taken and rule.matches(method, path):
                    rule.count -= 1
                    taken[rule.kind] = rule
            self._rules = [r for r in self._rules if r.count > 0]
        return taken

    # -- request handling (called by the handler threads) --

    def _serve(
        self, method: str, path: str, params: dict, api_key: str, key: str | None, request_id: str
    ) -> tuple[int, dict, dict[str, str], _Rule | None]:
        """Run one authenticated API request: (status, body, extra headers, after-effect rule)."""
        with self._lock:
            self._requests.append((method, path, copy.deepcopy(params), key))
        rules = self._take_rules(method, path)
        fail = rules.get("fail")
        if fail and not fail.options["after_commit"]:
            return (*self._fault_response(fail.options["status"]), {}, None)

        req = _Request(method, path, params, request_id, key)
        headers: dict[str, str] = {}
        if key and method == "POST":
            headers["Idempotency-Key"] = key
            slot = (api_key, key)
            with self._lock:
                record = self._idempotency.get(slot)
                if record is None:
                    record = {"method": method, "path": path, "params": params, "done": False}
                    self._idempotency[slot] = record
                elif not record["done"]:
                    return (*self._in_use(key), headers, None)
                elif (record["method"], record["path"], record["params"]) != (
                    method,
                    path,
                    params,
                ):
                    return (*self._key_reused(key), headers, None)
                else:
                    headers.update(
                        {"Idempotent-Replayed": "true", "Original-Request": record["request_id"]}
                    )
                    status, body = record["status"], copy.deepcopy(record["body"])
                    return (*self._after(fail, status, body), headers, self._late(rules))
            self._wait_for_release(rules)
            status, body, store = self._execute(req)
            with self._lock:
                if store and self._idempotency.get(slot) is record:
                    record.update(
                        done=True,
                        status=status,
                        body=copy.deepcopy(body),
                        request_id=request_id,
                    )
                elif self._idempotency.get(slot) is record:
                    del self._idempotency[slot]
        else:
            self._wait_for_release(rules)
            status, body, _ = self._execute(req)
        return (*self._after(fail, status, body), headers, self._late(rules))

    def _wait_for_release(self, rules: dict[str, _Rule]) -> None:
        hold = rules.get("hold")
        if hold:
            while not hold.options["gate"].wait(0.05) and not self._stop.is_set():
                pass

    @staticmethod
    def _late(rules: dict[str, _Rule]) -> _Rule | None:
        return rules.get("timeout") or rules.get("disconnect")

    def _after(self, fail: _Rule | None, status: int, body: dict) -> tuple[int, dict]:
        if fail:
            return self._fault_response(fail.options["status"])
        return status, body

    @staticmethod
    def _fault_response(status: int) -> tuple[int, dict]:
        if status == 409:
            return FakeStripe._in_use("")
        if status == 429:
            err = StripeAPIError(
                429,
                "Request rate limit exceeded. Learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.",
                code="rate_limit",
            )
            return err.status, err.body
        err = StripeAPIError(
            status,
            "Sorry, something went wrong. We've already been notified of the problem, but if "
            "you need any help, you can reach us at support.stripe.com/contact.",
            type="api_error",
        )
        return err.status, err.body

    @staticmethod
    def _in_use(key: str) -> tuple[int, dict]:
        err = StripeAPIError(
            409,
            "There is currently another in-progress request using this Idempotent Key (that "
            "probably means you submitted twice, and the other request is still going "
            f"through): {key}. Please try again later.",
            type="idempotency_error",
            code="idempotency_key_in_use",
        )
        return err.status, err.body

    @staticmethod
    def _key_reused(key: str) -> tuple[int, dict]:
        err = StripeAPIError(
            400,
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request.",
            type="idempotency_error",
        )
        return err.status, err.body

    _ROUTES: list[tuple[str, re.Pattern, str]] = [
        ("POST", re.compile(r"/v1/payment_intents"), "_create_intent"),
        ("GET", re.compile(r"/v1/payment_intents"), "_list_intents"),
        ("GET", re.compile(r"/v1/payment_intents/([^/]+)"), "_retrieve_intent"),
        ("POST", re.compile(r"/v1/payment_intents/([^/]+)"), "_update_intent"),
        ("POST", re.compile(r"/v1/payment_intents/([^/]+)/confirm"), "_confirm_intent"),
        ("POST", re.compile(r"/v1/payment_intents/([^/]+)/cancel"), "_cancel_intent"),
        ("POST", re.compile(r"/v1/refunds"), "_create_refund"),
        ("GET", re.compile(r"/v1/refunds"), "_list_refunds"),
        ("GET", re.compile(r"/v1/refunds/([^/]+)"), "_retrieve_refund"),
        ("GET", re.compile(r"/v1/charges/([^/]+)"), "_retrieve_charge"),
    ]

    def _execute(self, req: _Request) -> tuple[int, dict, bool]:
        for method, pattern, name in self._ROUTES:
            match = pattern.fullmatch(req.path)
            if match and method == req.method:
                try:
                    with self._lock:
                        body = getattr(self, name)(req, *match.groups())
                    return 200, body, True
                except StripeAPIError as err:
                    return err.status, err.body, err.store
                except Exception as exc:  # a bug in the fake: say so instead of hanging up
                    err = StripeAPIError(
                        500, f"FakeStripe failed: {exc!r}", type="api_error", store=False
                    )
                    return err.status, err.body, False
        err = _unrecognized(req.method, req.path)
        return err.status, err.body, False

    # -- objects --

    def _now(self) -> int:
        return int(self.clock())

    def _register(self, table: dict, obj: dict) -> None:
        self._seq += 1
        self._order[obj["id"]] = self._seq
        table[obj["id"]] = obj

    def _emit(self, type: str, obj: dict, req: _Request | None) -> None:
        self._events.append(
            event(
                type,
                self._public(obj),
                created=self._now(),
                request_id=req.request_id if req else None,
                idempotency_key=req.idempotency_key if req else None,
            )
        )

    @staticmethod
    def _public(obj: dict) -> dict:
        return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}

    def _render(self, obj: dict, params: dict, *, prefix: str = "") -> dict:
        out = self._public(obj)
        expand = params.get("expand") or []
        if isinstance(expand, str):
            expand = [expand]
        for path in expand:
            if prefix and path.startswith(prefix):
                path = path[len(prefix) :]
            if path == "latest_charge" and out.get("latest_charge"):
                out["latest_charge"] = self._public(self._charges[out["latest_charge"]])
            elif path == "charge" and out.get("object") == "refund":
                out["charge"] = self._public(self._charges[out["charge"]])
            elif path == "payment_intent" and out.get("payment_intent"):
                out["payment_intent"] = self._public(self._intents[out["payment_intent"]])
        return out

    def _list(self, table: dict, objs: list[dict], req: _Request, url: str) -> dict:
        params = req.params
        limit = _int(params, "limit")
        if limit is None:
            limit = 10
        if not 1 <= limit <= 100:
            raise StripeAPIError(
                400,
                "This value must be greater than or equal to 1 and less than or equal to 100.",
                code="parameter_invalid_integer",
                param="limit",
                store=False,
            )
        created = params.get("created")
        if created is not None:
            bounds = created if isinstance(created, dict) else {"eq": created}
            ops = {
                "eq": lambda a, b: a == b,
                "gt": lambda a, b: a > b,
                "gte": lambda a, b: a >= b,
                "lt": lambda a, b: a < b,
                "lte": lambda a, b: a <= b,
            }
            for op in bounds:
                if op not in ops:
                    raise StripeAPIError(
                        400, f"Received unknown parameter: created[{op}]", param=f"created[{op}]"
                    )
                bound = _int(bounds, op)
                objs = [o for o in objs if ops[op](o["created"], bound)]
        objs = sorted(objs, key=lambda o: (o["created"], self._order[o["id"]]), reverse=True)
        ids = [o["id"] for o in objs]
        for cursor in ("starting_after", "ending_before"):
            value = params.get(cursor)
            if value is not None and value not in table:
                raise StripeAPIError(
                    404, f"No such object: '{value}'", code="resource_missing", param=cursor
                )
        if params.get("starting_after") in ids:
            objs = objs[ids.index(params["starting_after"]) + 1 :]
        elif params.get("ending_before") in ids:
            objs = objs[: ids.index(params["ending_before"])][-limit:]
        page = objs[:limit]
        return {
            "object": "list",
            "data": [self._render(o, req.params, prefix="data.") for o in page],
            "has_more": len(objs) > limit,
            "url": url,
        }

    # PaymentIntents

    def _create_intent(self, req: _Request) -> dict:
        p = req.params
        amount = _int(p, "amount", required=True)
        currency = p.get("currency")
        if not currency:
            raise _missing("currency")
        currency = str(currency).lower()
        self._check_amount(amount, currency)
        apm = p.get("automatic_payment_methods")
        if isinstance(apm, dict):
            apm = {
                "allow_redirects": apm.get("allow_redirects", "always"),
                "enabled": _bool(apm.get("enabled", "false"), "automatic_payment_methods[enabled]"),
            }
        types = p.get("payment_method_types") or ["card"]
        pi_id = _new_id("pi")
        pi = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": apm or None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": f"{pi_id}_secret_{_rand(25)}",
            "confirmation_method": "automatic",
            "created": self._now(),
            "currency": currency,
            "customer": p.get("customer"),
            "description": p.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": _metadata({}, p.get("metadata")),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_configuration_details": None,
            "payment_method_options": {
                "card": {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            },
            "payment_method_types": list(types),
            "processing": None,
            "receipt_email": p.get("receipt_email"),
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "source": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        self._register(self._intents, pi)
        self._emit("payment_intent.created", pi, req)
        if p.get("confirm") is not None and _bool(p["confirm"], "confirm"):
            self._confirm(pi, p.get("payment_method"), p.get("return_url"), req)
        return self._render(pi, p)

    @staticmethod
    def _check_amount(amount: int, currency: str) -> None:
        minimum = _MINIMUM_AMOUNT.get(currency, 1)
        if amount < minimum:
            raise StripeAPIError(
                400,
                f"Amount must be at least {_money(minimum, currency)} {currency}",
                code="amount_too_small",
                param="amount",
            )
        if amount > 99999999:
            raise StripeAPIError(
                400,
                f"Amount must be no more than {_money(99999999, currency)}",
                code="amount_too_large",
                param="amount",
            )

    def _intent_or_404(self, pi_id: str, param: str = "intent") -> dict:
        pi = self._intents.get(pi_id)
        if pi is None:
            raise _no_such("payment_intent", pi_id, param)
        return pi

    def _list_intents(self, req: _Request) -> dict:
        objs = list(self._intents.values())
        if req.params.get("customer"):
            objs = [o for o in objs if o["customer"] == req.params["customer"]]
        return self._list(self._intents, objs, req, "/v1/payment_intents")

    def _retrieve_intent(self, req: _Request, pi_id: str) -> dict:
        return self._render(self._intent_or_404(pi_id), req.params)

    def _update_intent(self, req: _Request, pi_id: str) -> dict:
        pi = self._intent_or_404(pi_id)
        p = req.params
        amount = _int(p, "amount")
        if amount is not None and amount != pi["amount"]:
            if pi["status"] not in _AMOUNT_UPDATABLE:
                raise StripeAPIError(
                    400,
                    "This PaymentIntent's amount could not be updated because it has a status "
                    f"of {pi['status']}. You may only update the amount of a PaymentIntent with "
                    "one of the following statuses: " + ", ".join(_AMOUNT_UPDATABLE) + ".",
                    code="payment_intent_unexpected_state",
                )
            self._check_amount(amount, pi["currency"])
            pi["amount"] = amount
        if "currency" in p and str(p["currency"]).lower() != pi["currency"]:
            if pi["status"] not in _AMOUNT_UPDATABLE:
                raise StripeAPIError(
                    400,
                    "This PaymentIntent's currency could not be updated because it has a status "
                    f"of {pi['status']}.",
                    code="payment_intent_unexpected_state",
                )
            pi["currency"] = str(p["currency"]).lower()
        pi["metadata"] = _metadata(pi["metadata"], p.get("metadata"))
        for field in ("description", "receipt_email", "customer"):
            if field in p:
                pi[field] = p[field] or None
        if p.get("payment_method") and pi["status"] in _AMOUNT_UPDATABLE:
            pi["payment_method"] = p["payment_method"]
            pi["status"] = "requires_confirmation"
        return self._render(pi, p)

    def _confirm_intent(self, req: _Request, pi_id: str) -> dict:
        pi = self._intent_or_404(pi_id)
        self._confirm(pi, req.params.get("payment_method"), req.params.get("return_url"), req)
        return self._render(pi, req.params)

    def _cancel_intent(self, req: _Request, pi_id: str) -> dict:
        pi = self._intent_or_404(pi_id)
        if pi["status"] not in _CANCELABLE:
            raise StripeAPIError(
                400,
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses may "
                "be canceled: " + ", ".join(_CANCELABLE) + ".",
                code="payment_intent_unexpected_state",
                payment_intent=self._public(pi),
            )
        reason = req.params.get("cancellation_reason")
        if reason is not None and reason not in _CANCELLATION_REASONS:
            raise StripeAPIError(
                400,
                "Invalid cancellation_reason: must be one of "
                + ", ".join(_CANCELLATION_REASONS[:-1])
                + f", or {_CANCELLATION_REASONS[-1]}",
                param="cancellation_reason",
                store=False,
            )
        pi.update(
            status="canceled",
            canceled_at=self._now(),
            cancellation_reason=reason,
            next_action=None,
        )
        self._emit("payment_intent.canceled", pi, req)
        return self._render(pi, req.params)

    def _confirm(
        self, pi: dict, payment_method: str | None, return_url: str | None, req: _Request | None
    ) -> None:
        if pi["status"] == "succeeded":
            raise StripeAPIError(
                400,
                "You cannot confirm this PaymentIntent because it has already succeeded after "
                "being previously confirmed.",
                code="payment_intent_unexpected_state",
                payment_intent=self._public(pi),
            )
        if pi["status"] not in _CONFIRMABLE:
            raise StripeAPIError(
                400,
                "You cannot confirm this PaymentIntent because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses may "
                "be confirmed: " + ", ".join(_CONFIRMABLE) + ".",
                code="payment_intent_unexpected_state",
                payment_intent=self._public(pi),
            )
        payment_method = payment_method or pi["payment_method"]
        if not payment_method:
            raise StripeAPIError(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "You can either update the PaymentIntent with a payment method and then confirm "
                "it again, or confirm it again directly with a payment method.",
                code="payment_intent_unexpected_state",
                payment_intent=self._public(pi),
            )
        if return_url:
            pi["_return_url"] = return_url
        pi["payment_method"] = payment_method
        if payment_method in _DECLINES:
            self._decline(pi, payment_method, req)
        elif payment_method in _ACTION_REQUIRED and pi["status"] != "requires_action":
            self._requires_action(pi, return_url or pi.get("_return_url"), req)
        else:
            self._succeed(pi, payment_method, req)

    def _requires_action(self, pi: dict, return_url: str | None, req: _Request | None) -> None:
        pi["status"] = "requires_action"
        pi["last_payment_error"] = None
        pi["next_action"] = {
            "redirect_to_url": {
                "return_url": return_url,
                "url": f"{self.url}/_fake/3ds/{pi['id']}",
            },
            "type": "redirect_to_url",
        }
        self._emit("payment_intent.requires_action", pi, req)

    def _new_charge(self, pi: dict, payment_method: str, *, failure: tuple | None) -> dict:
        amount = pi["amount"]
        charge = {
            "id": _new_id("ch"),
            "object": "charge",
            "amount": amount,
            "amount_captured": 0 if failure else amount,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None if failure else _new_id("txn"),
            "billing_details": {"address": None, "email": None, "name": None, "phone": None},
            "calculated_statement_descriptor": "SOLOMO",
            "captured": not failure,
            "created": self._now(),
            "currency": pi["currency"],
            "customer": pi["customer"],
            "description": pi["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": failure[0] if failure else None,
            "failure_message": failure[2] if failure else None,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(pi["metadata"]),
            "on_behalf_of": None,
            "outcome": {
                "network_status": "declined_by_network" if failure else "approved_by_network",
                "reason": (failure[1] or failure[0]) if failure else None,
                "risk_level": "normal",
                "seller_message": (
                    "The bank did not return any further details with this decline."
                    if failure
                    else "Payment complete."
                ),
                "type": "issuer_declined" if failure else "authorized",
            },
            "paid": not failure,
            "payment_intent": pi["id"],
            "payment_method": payment_method,
            "receipt_email": pi["receipt_email"],
            "receipt_url": None,
            "refunded": False,
            "review": None,
            "shipping": None,
            "status": "failed" if failure else "succeeded",
            "transfer_data": None,
            "transfer_group": None,
        }
        self._register(self._charges, charge)
        return charge

    def _succeed(self, pi: dict, payment_method: str, req: _Request | None) -> None:
        if pi["status"] in ("succeeded", "canceled"):
            raise ValueError(f"PaymentIntent {pi['id']} is already {pi['status']}")
        charge = self._new_charge(pi, payment_method, failure=None)
        pi.update(
            status="succeeded",
            payment_method=payment_method,
            amount_received=pi["amount"],
            latest_charge=charge["id"],
            last_payment_error=None,
            next_action=None,
        )
        self._emit("charge.succeeded", charge, req)
        self._emit("payment_intent.succeeded", pi, req)

    def _decline(self, pi: dict, payment_method: str, req: _Request | None) -> None:
        code, decline_code, message = _DECLINES.get(
            payment_method, _DECLINES["pm_card_chargeDeclined"]
        )
        charge = self._new_charge(pi, payment_method, failure=(code, decline_code, message))
        error: dict[str, Any] = {
            "charge": charge["id"],
            "code": code,
            "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
            "message": message,
            "payment_method": {"id": payment_method, "object": "payment_method", "type": "card"},
            "type": "card_error",
        }
        if decline_code:
            error["decline_code"] = decline_code
        pi.update(
            status="requires_payment_method",
            payment_method=None,
            latest_charge=charge["id"],
            last_payment_error=error,
            next_action=None,
        )
        self._emit("charge.failed", charge, req)
        self._emit("payment_intent.payment_failed", pi, req)
        extra = {k: v for k, v in error.items() if k not in ("code", "doc_url", "message", "type")}
        raise StripeAPIError(
            402, message, type="card_error", code=code, payment_intent=self._public(pi), **extra
        )

    def _authentication_failed(self, pi: dict, req: _Request | None) -> None:
        payment_method = pi["payment_method"]
        pi.update(
            status="requires_payment_method",
            payment_method=None,
            next_action=None,
            last_payment_error={
                "code": "payment_intent_authentication_failure",
                "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
                "message": "The provided PaymentMethod has failed authentication. You can provide "
                "payment_method_data or a new PaymentMethod to attempt to fulfill this "
                "PaymentIntent again.",
                "payment_method": {
                    "id": payment_method,
                    "object": "payment_method",
                    "type": "card",
                },
                "type": "invalid_request_error",
            },
        )
        self._emit("payment_intent.payment_failed", pi, req)

    # Refunds and charges

    def _create_refund(self, req: _Request) -> dict:
        p = req.params
        if p.get("payment_intent"):
            pi = self._intent_or_404(p["payment_intent"], "payment_intent")
            charge = self._charges.get(pi["latest_charge"] or "")
            if charge is None or charge["status"] != "succeeded":
                raise StripeAPIError(
                    400,
                    f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                )
        elif p.get("charge"):
            charge = self._charges.get(p["charge"])
            if charge is None:
                raise _no_such("charge", p["charge"], "charge")
            if charge["status"] != "succeeded":
                raise StripeAPIError(
                    400, f"The charge {charge['id']} has failed and cannot be refunded."
                )
        else:
            raise StripeAPIError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
                store=False,
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        amount = _int(p, "amount")
        if amount is not None and amount < 1:
            raise StripeAPIError(
                400,
                "Invalid positive integer",
                code="parameter_invalid_integer",
                param="amount",
                store=False,
            )
        reason = p.get("reason")
        if reason is not None and reason not in _REFUND_REASONS:
            raise StripeAPIError(
                400,
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                param="reason",
                store=False,
            )
        if remaining <= 0:
            raise StripeAPIError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise StripeAPIError(
                400,
                f"Refund amount ({_money(amount, charge['currency'])}) is greater than unrefunded "
                f"amount on charge ({_money(remaining, charge['currency'])})",
                param="amount",
            )
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": _new_id("txn"),
            "charge": charge["id"],
            "created": self._now(),
            "currency": charge["currency"],
            "destination_details": {"card": {"reference_status": "pending", "type": "refund"}},
            "metadata": _metadata({}, p.get("metadata")),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self._register(self._refunds, refund)
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self._emit("refund.created", refund, req)
        self._emit("charge.refunded", charge, req)
        return self._render(refund, p)

    def _list_refunds(self, req: _Request) -> dict:
        objs = list(self._refunds.values())
        for field in ("payment_intent", "charge"):
            if req.params.get(field):
                objs = [o for o in objs if o[field] == req.params[field]]
        return self._list(self._refunds, objs, req, "/v1/refunds")

    def _retrieve_refund(self, req: _Request, refund_id: str) -> dict:
        refund = self._refunds.get(refund_id)
        if refund is None:
            raise _no_such("refund", refund_id, "id")
        return self._render(refund, req.params)

    def _retrieve_charge(self, req: _Request, charge_id: str) -> dict:
        charge = self._charges.get(charge_id)
        if charge is None:
            raise _no_such("charge", charge_id, "id")
        return self._render(charge, req.params)

    # The hosted 3-D Secure page the shopper is redirected to (no API key: it is the browser).

    def _three_d_secure(self, pi_id: str, action: str) -> tuple[int, str, dict[str, str]]:
        with self._lock:
            pi = self._intents.get(pi_id)
            if pi is None:
                return 404, "<h1>No such PaymentIntent</h1>", {}
            if action == "":
                base = f"/_fake/3ds/{pi_id}"
                page = (
                    "<!doctype html><title>3D Secure 2 Test Page</title>"
                    f"<h1>Authenticate {_money(pi['amount'], pi['currency'])}</h1>"
                    f'<a id="complete" href="{base}/complete">Complete</a> '
                    f'<a id="fail" href="{base}/fail">Fail</a>'
                )
                return 200, page, {"Content-Type": "text/html; charset=utf-8"}
            if pi["status"] == "requires_action":
                if action == "complete":
                    self._succeed(pi, pi["payment_method"], None)
                else:
                    self._authentication_failed(pi, None)
            return_url = (pi["next_action"] or {}).get("redirect_to_url", {}).get(
                "return_url"
            ) or pi.get("_return_url")
            if not return_url:
                return 200, f"<h1>{pi['status']}</h1>", {"Content-Type": "text/html"}
            query = urlencode(
                {
                    "payment_intent": pi["id"],
                    "payment_intent_client_secret": pi["client_secret"],
                    "redirect_status": "succeeded" if pi["status"] == "succeeded" else "failed",
                }
            )
            sep = "&" if "?" in return_url else "?"
            return 302, "", {"Location": f"{return_url}{sep}{query}"}


def _unrecognized(method: str, path: str) -> StripeAPIError:
    return StripeAPIError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we "
        "can help at https://support.stripe.com/.",
        store=False,
    )


class _Handler(BaseHTTPRequestHandler):
    fake: FakeStripe
    server_version = "nginx"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        request_id = f"req_{_rand(14)}"
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""

        page = re.fullmatch(r"/_fake/3ds/([^/]+)(?:/(complete|fail))?", path)
        if page and method == "GET":
            status, html, headers = self.fake._three_d_secure(page.group(1), page.group(2) or "")
            self._send(status, html.encode(), headers, request_id)
            return

        auth = self.headers.get("Authorization") or ""
        api_key = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        if not api_key.startswith("sk_test_"):
            self._send_json(*self._unauthorized(api_key), {}, request_id)
            return
        params = parse_params(raw if method == "POST" else url.query)
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        status, body, headers, late = self.fake._serve(
            method, path, params, api_key, key, request_id
        )
        if late is not None and late.kind == "disconnect":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if late is not None:
            self._hold(late.options.get("delay"))
        self._send_json(status, body, headers, request_id)

    def _hold(self, delay: float | None) -> None:
        """Hold the answer `delay` seconds, or (None) until the client hangs up."""
        deadline = time.monotonic() + (60 if delay is None else delay)
        while time.monotonic() < deadline and not self.fake._stop.is_set():
            if delay is None:
                readable, _, _ = select.select([self.connection], [], [], 0.02)
                if readable:
                    try:
                        if not self.connection.recv(1, socket.MSG_PEEK):
                            return  # the client closed its end
                    except OSError:
                        return
            else:
                time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))

    @staticmethod
    def _unauthorized(api_key: str) -> tuple[int, dict]:
        if not api_key:
            message = (
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/."
            )
        else:
            message = f"Invalid API Key provided: {api_key[:8]}{'*' * 12}{api_key[-4:]}"
        err = StripeAPIError(401, message)
        return err.status, err.body

    def _send_json(self, status: int, body: dict, headers: dict, request_id: str) -> None:
        if "error" in body and isinstance(body["error"], dict):
            body["error"].setdefault(
                "request_log_url", f"https://dashboard.stripe.com/test/logs/{request_id}"
            )
        payload = json.dumps(body, indent=2).encode()
        all_headers = {
            "Content-Type": "application/json",
            "Stripe-Version": self.headers.get("Stripe-Version") or API_VERSION,
            **headers,
        }
        self._send(status, payload, all_headers, request_id)

    def _send(self, status: int, payload: bytes, headers: dict, request_id: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Request-Id", request_id)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Access-Control-Allow-Origin", "*")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up (a held or timed-out answer)


# --- pytest ----------------------------------------------------------------------------------


@pytest.fixture
def fake_stripe(settings):
    """A FakeStripe server for this test, with the Django settings pointing at it."""
    fake = FakeStripe().start()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_TIMEOUT = 2
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fast_retries(monkeypatch):
    """stripe-python sleeps >= 0.5 s between automatic retries; tests don't need to wait.

    Patches the stripe library's own backoff (a third-party internal), not our code."""
    monkeypatch.setattr(stripe.RequestsClient, "_sleep_time_seconds", lambda self, n: 0.01)
