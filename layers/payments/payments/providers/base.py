"""The contract every provider adapter fulfils, and the base they share.

Handlers, flows and the store only ever see `Provider`. Each adapter module has the same shape:
settings, status table, create, notification verification as small steps, acknowledgement, status pull.
Verification is written once here (`ProviderBase.parse_notification`): read the message in its
canonical form → verify the signature over exactly what was signed → read the fields → map them to
provider-neutral facts. An adapter supplies only the steps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from payments.errors import NotificationRejected, PaymentsError, ProviderUnavailable
from payments.facts import CancelResult, PaymentAction, Statement
from payments.http import HttpClient, HttpResponse
from payments.ledger import Refund, provider_refund_key
from payments.orders import Order
from payments.providers.capabilities import Capabilities
from payments.records import frozen

# The doctor's code (payments/refusals.py, payments/providers/diagnosis.py) is imported by the refusal
# path only: a genuine notification and a function's init never load it.
if TYPE_CHECKING:
    from payments.api import CreateOrderRequest
    from payments.providers.diagnosis import Candidate
    from payments.providers.settings import ProviderSettings  # pydantic: loaded with an adapter
    from payments.refusals import Diagnosis

__all__ = [
    "CallContext",
    "CancelResult",
    "Capabilities",
    "PaymentAction",
    "Provider",
    "ProviderBase",
    "ProviderFactory",
    "RawRequest",
    "RawResponse",
    "RefundContext",
    "SignedMessage",
    "Statement",
]


@frozen
class RawRequest:
    """A provider's HTTP request exactly as it arrived: signatures are checked over these bytes."""

    method: str
    body: bytes
    headers: Mapping[str, str]  # keys lower-cased
    query: Mapping[str, list[str]]
    now: datetime
    # Where the provider sent it, as we published the address (PublicBaseUrl or the stage URL, then
    # the route): what a provider that signs the URL it called signed. "" when not known.
    url: str = ""
    # Only for the doctor (payments/refusals.py): the path the function was called on (which may carry a
    # stage or base path the provider never saw) and the caller's address.
    received_path: str = ""
    source_ip: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def query_value(self, name: str) -> str | None:
        """The single value of a query parameter; None when absent. Repeats are ambiguous: rejected."""
        values = self.query.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise ValueError(f"query parameter '{name}' repeated")
        return values[0]

    @property
    def content_type(self) -> str | None:
        return self.header("content-type")


@frozen
class RawResponse:
    """What the notify route answers the provider: status, body and content type."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@frozen
class CallContext:
    """What an adapter needs to create a payment: our notify URL, the time, the merchant's request."""

    notify_url: str
    now: datetime
    request: CreateOrderRequest  # carries the customer data the provider needs; never stored


@frozen
class RefundContext:
    """What an adapter needs to ask for a refund: our notify URL and the time."""

    notify_url: str  # where the provider reports the refund's result, when it reports one
    now: datetime


@frozen
class SignedMessage:
    """A notification in its canonical form: the exact bytes the provider signed, the signature,
    and the fields as read (not yet trusted)."""

    signed: bytes
    signature: str
    fields: Mapping[str, Any]
    claimed_order_id: str | None = None  # unverified: only to file a refused attempt
    reply_context: Mapping[str, str] = field(default_factory=dict)
    timestamp: str | None = None  # a signed timestamp, for providers that bound a signature's age


class Provider(Protocol):
    name: ClassVar[str]
    label: ClassVar[str]
    notification_headers: ClassVar[frozenset[str]]
    settings_model: ClassVar[type[ProviderSettings]]

    @property
    def capabilities(self) -> Capabilities:
        """What this provider takes under its settings, checked by the service before `check_order`,
        and how its protocol behaves (what the flows read)."""

    def check_order(self, request: CreateOrderRequest) -> None:
        """Raise ValidationFailed (naming the field) for what this provider cannot take beyond what
        its `capabilities` say."""

    def default_expiry_seconds(self, request: CreateOrderRequest) -> int: ...

    def refund_key(self, order_id: str, refund_id: str) -> str:
        """The id a merchant refund is sent under (the same on every retry): `Refund.provider_key`."""

    def create_payment(self, order: Order, ctx: CallContext) -> Statement:
        """Create the payment; the provider's verified reply as a statement (through the gate).
        Raises ProviderRejected (refused), ProviderDuplicateOrder (the id is taken: ask with
        `query`), or another ProviderError (the outcome is unknown)."""

    def parse_notification(self, request: RawRequest) -> Statement:
        """Verify and read a notification. Raise NotificationRejected on anything not proven genuine."""

    def diagnose(self, request: RawRequest, rejection: NotificationRejected) -> Diagnosis:
        """Why a refused notification was refused (payments/refusals.py); never accepts it."""

    def key_pair(self) -> tuple[Any, Any]: ...

    def signing(self) -> tuple[str, str]: ...

    def environment(self) -> tuple[str, str]: ...

    def signed_notify_path(self, url: str) -> str | None: ...

    def reply_time(self, reply: HttpResponse) -> datetime | None: ...

    def acknowledge(self, notification: Statement | None, error: Exception | None) -> RawResponse:
        """The reply the provider expects: success, a refusal, or "retry later" for our failures."""

    def query(self, order: Order) -> Statement | None:
        """Pull the order's status. None only when the provider answers that it does not know the
        order; anything unclear raises ProviderError."""

    def refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement:
        """Ask for `refund` under its provider-facing id (`refund.provider_key`, the same on every
        retry). The answer is a statement with a RefundFact for that id: pending, succeeded or failed.
        Raises ProviderRejected when refused, another ProviderError when the outcome is unknown."""

    def resolve_refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement | None:
        """What became of a refund whose outcome we do not know. None only when the provider shows
        that it never received it, so that sending it again cannot refund twice."""

    def cancel(self, order: Order) -> CancelResult:
        """Withdraw an unpaid order. Raises ProviderRejected when the provider refuses (e.g. it is
        paid), another ProviderError when the outcome is unknown."""


class ProviderFactory(Protocol):
    name: ClassVar[str]
    label: ClassVar[str]
    settings_model: ClassVar[type[ProviderSettings]]
    documented_capabilities: ClassVar[Capabilities]  # with the settings' defaults: what the docs show

    def __call__(self, settings: Any, http: HttpClient) -> Provider: ...


class ProviderBase:
    """What the adapters share: verification as steps, rejections, acknowledgements, wire checks."""

    # The provider's name for people, as the provider spells it: in messages, the OpenAPI document,
    # the demo shop and the sandbox's pages (the one place it is written).
    label: ClassVar[str]
    # What the provider's documentation says it takes and does, with the settings' defaults where a
    # value comes from the merchant's secret entry (then the adapter overrides `capabilities`).
    documented_capabilities: ClassVar[Capabilities]
    notification_methods: ClassVar[frozenset[str]] = frozenset({"POST"})
    # The request headers a notification's verification reads (kept with a refusal, for a replay).
    notification_headers: ClassVar[frozenset[str]] = frozenset()
    ok_body: ClassVar[str] = "OK"
    _key_suspected: Callable[[], object] | None = None

    # -- what the provider takes -------------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        return self.documented_capabilities

    def check_order(self, request: CreateOrderRequest) -> None:
        """Nothing beyond `capabilities` by default."""

    def default_expiry_seconds(self, request: CreateOrderRequest) -> int:
        return self.capabilities.default_expiry_seconds

    def refund_key(self, order_id: str, refund_id: str) -> str:
        return provider_refund_key(order_id, refund_id)

    # -- verification, written once ---------------------------------------------------------------
    def parse_notification(self, request: RawRequest) -> Statement:
        if request.method not in self.notification_methods:
            allowed = " or ".join(sorted(self.notification_methods))
            raise NotificationRejected(
                "method_not_allowed", f"{self.label} notifications are {allowed} requests", status=405
            )
        message = self.notification_message(request)
        if isinstance(message, Statement):  # an unsigned hint or a no-op the protocol defines
            return message
        if not message.signature.strip():
            raise self.rejection(message, "missing_signature", "the notification carries no signature")
        if not self.signature_valid(message, request):
            raise self.rejection(message, "bad_signature", "the signature does not match the notification")
        return self.notification_from(message)

    def notification_message(self, request: RawRequest) -> SignedMessage | Statement:
        """Step 1: the canonical form (raises NotificationRejected when malformed)."""
        raise NotImplementedError

    def signature_valid(self, message: SignedMessage, request: RawRequest) -> bool:
        """Step 2: the provider's algorithm and key over `message.signed`."""
        raise NotImplementedError

    def notification_from(self, message: SignedMessage) -> Statement:
        """Steps 3 and 4, on verified fields only: read them and map them to facts."""
        raise NotImplementedError

    # -- why a notification was refused (the doctor), written once: only ever after a refusal -------
    def diagnose(self, request: RawRequest, rejection: NotificationRejected) -> Diagnosis:
        """Why `request` was refused, in words with the fix. Tries this provider's candidates (its
        `signature_candidates`, then known alterations of the body) on a refused notification only, and
        never accepts it: the refusal stands whatever is found."""
        from payments.refusals import (
            MALFORMED,
            REASON_CODES,
            SIGNATURE_INVALID,
            Diagnosis,
            default_explanation,
        )

        if rejection.diagnosis is not None:  # the refuser knew (the gate: which order, whose)
            return rejection.diagnosis
        code = REASON_CODES.get(rejection.reason, MALFORMED)
        if code in (SIGNATURE_INVALID, MALFORMED):
            found = self._first_candidate(request)
            if found is not None:
                return found
        if code == REASON_CODES["stale_signature"]:
            return Diagnosis(code, self.stale_explanation(request, rejection))
        return Diagnosis(code, default_explanation(code, self.label, rejection.message))

    def _first_candidate(self, request: RawRequest) -> Diagnosis | None:
        from payments.providers.diagnosis import MAX_DIAGNOSED_BODY, altered_body, body_alterations
        from payments.refusals import Diagnosis

        if len(request.body) > MAX_DIAGNOSED_BODY:
            return None
        message = self._message_or_none(request)
        if message is not None:
            for candidate in self.signature_candidates(message, request):
                if candidate.holds():
                    return Diagnosis(candidate.code, candidate.explanation)
        for body, what in body_alterations(request.body, request.content_type):
            altered = replace(request, body=body)
            message = self._message_or_none(altered)
            if message is not None and self.signature_valid(message, altered):
                return Diagnosis(*altered_body(what))
        return None

    def _message_or_none(self, request: RawRequest) -> SignedMessage | None:
        try:
            message = self.notification_message(request)
        except NotificationRejected:
            return None
        return message if isinstance(message, SignedMessage) and message.signature.strip() else None

    def signature_candidates(self, message: SignedMessage, request: RawRequest) -> Iterable[Candidate]:
        """Mistakes this provider's scheme allows beyond the body's (other hash, own key, other path)."""
        return ()

    def stale_explanation(self, request: RawRequest, rejection: NotificationRejected) -> str:
        """A signed timestamp out of tolerance, saying by how much (providers that bound it)."""
        from payments.refusals import REASON_CODES, default_explanation

        return default_explanation(REASON_CODES["stale_signature"], self.label, rejection.message)

    # -- the configuration as the doctor sees it (payments/doctor.py) ---------------------------------
    def key_pair(self) -> tuple[Any, Any]:
        """(your RSA private key, the provider's RSA public key) where it signs with RSA; Nones else."""
        return None, None

    def signing(self) -> tuple[str, str]:
        """(status, words): the signing scheme as configured."""
        raise NotImplementedError

    def environment(self) -> tuple[str, str]:
        """(status, words): sandbox or live, from the settings, and whether they agree."""
        raise NotImplementedError

    def environment_of(self, base_url: str, known: Mapping[str, str]) -> tuple[str, str]:
        """`environment` from the host of `base_url`: one of the provider's `known` hosts (host -> what it
        is), a sandbox on this machine, or a host that is not the provider's (a warning)."""
        host = base_url.split("://", 1)[-1].split("/", 1)[0]
        if host in known:
            return "ok", f"{known[host]} ({host}): use credentials of the same environment"
        if host.startswith(("127.0.0.1", "localhost")):
            return "ok", f"a sandbox on this machine ({host})"
        return "warn", f"{host} is not a {self.label} host"

    def signed_notify_path(self, url: str) -> str | None:
        """For a provider that signs the path it calls: the exact path of `url` it signs."""
        return None

    def reply_time(self, reply: HttpResponse) -> datetime | None:
        """The time the provider stamped its reply with, where it does beyond the Date header."""
        return None

    @staticmethod
    def rejection(
        message: SignedMessage | None, reason: str, text: str, status: int = 401
    ) -> NotificationRejected:
        return NotificationRejected(
            reason,
            text,
            status=status,
            claimed_order_id=message.claimed_order_id if message else None,
            reply_context=message.reply_context if message else None,
        )

    # -- acknowledgements -----------------------------------------------------------------------------
    def acknowledge(self, notification: Statement | None, error: Exception | None) -> RawResponse:
        """Plain HTTP: 200 with `ok_body` for anything verified; our error shape otherwise, with a 5xx
        for our own failures so that the provider retries."""
        if error is None:
            return RawResponse(200, self.ok_body)
        if isinstance(error, PaymentsError):
            status = error.status if 400 <= error.status < 500 else 503
            return RawResponse(status, json.dumps(error.to_body()), "application/json")
        return RawResponse(500, json.dumps({"error": {"code": "internal_error"}}), "application/json")

    # -- wire ------------------------------------------------------------------------------------------
    def raise_for_server_error(self, reply: HttpResponse) -> HttpResponse:
        if reply.status >= 500:
            raise ProviderUnavailable(f"{self.label} answered HTTP {reply.status}")
        return reply

    def bad_reply(self, text: str, code: str = "provider_bad_reply") -> ProviderUnavailable:
        return ProviderUnavailable(f"{self.label}'s reply {text}", code=code)

    def reply_signature_failed(self, text: str = "signature does not verify") -> ProviderUnavailable:
        """A reply that fails its signature check under the configured key: this call's outcome stays
        unknown (the flows and the reconciler ask again), and the key may just have been rotated: the
        directory reads the secret again (`when_key_suspected`), so that the next call has the fresh one."""
        if self._key_suspected is not None:
            self._key_suspected()
        return self.bad_reply(text, "provider_bad_signature")

    def when_key_suspected(self, callback: Callable[[], object]) -> None:
        """What `reply_signature_failed` calls: set by the directory on each adapter it builds."""
        self._key_suspected = callback

    @staticmethod
    def seconds_left(order: Order, now: datetime) -> int:
        return int((datetime.fromisoformat(order.expires_at) - now).total_seconds())

    @staticmethod
    def is_web_url(value: Any) -> bool:
        return isinstance(value, str) and value.startswith(("https://", "http://"))
