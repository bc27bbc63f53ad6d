"""The contract every provider adapter fulfils. Handlers, service and store only ever see this."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, field_validator

from payments.http import HttpClient
from payments.money import Money
from payments.orders import Order, OrderStatus

if TYPE_CHECKING:
    from payments.api import CreateOrderRequest


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A provider's HTTP request exactly as it arrived: signatures are checked over these bytes."""

    method: str
    body: bytes
    headers: Mapping[str, str]  # keys lower-cased
    query: Mapping[str, list[str]]
    now: datetime

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


@dataclass(frozen=True, slots=True)
class RawResponse:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class CallContext:
    notify_url: str
    now: datetime
    request: CreateOrderRequest  # carries the customer data the provider needs; never stored


@dataclass(frozen=True, slots=True)
class PaymentAction:
    """How the merchant sends the payer on: a redirect (GET link or POST form) or a code to show."""

    type: str  # "redirect" | "qr_code"
    url: str | None = None
    method: str | None = None
    form: Mapping[str, str] | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        for key in ("url", "method", "code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.form is not None:
            data["form"] = dict(self.form)
        return data


@dataclass(frozen=True, slots=True)
class ProviderPayment:
    """The provider accepted the order."""

    status: OrderStatus
    provider_status: str
    provider_reference: str | None
    payment_url: str | None
    action: PaymentAction | None
    payload: dict[str, Any] = field(default_factory=dict)  # redacted reply, for the audit trail


@dataclass(frozen=True, slots=True)
class Notification:
    """A verified statement from the provider about one order."""

    order_id: str
    status: OrderStatus
    provider_status: str
    amount: Money | None
    provider_reference: str | None
    verified_by: str  # how we know it is genuine: "hmac-sha512", "provider-query", …
    payload: dict[str, Any] = field(default_factory=dict)  # redacted
    kind: str = "payment"  # "payment" | "refund"
    # Known when pulled from the provider for an unpaid order: lets a retried create resume.
    payment_url: str | None = None
    action: PaymentAction | None = None
    # The provider's unique id of this event when it is not a payment status (e.g. a refund): the
    # service records each such event once, however often it is delivered.
    event_key: str | None = None
    # What the provider's acknowledgement must echo (e.g. Alipay's reqMsgId); opaque to the service.
    reply_context: Mapping[str, str] = field(default_factory=dict)
    # Set when the provider's protocol says to acknowledge and do nothing (e.g. MultiSafepay GETs
    # without a timestamp). The service then neither reads nor writes the order.
    no_op_reason: str | None = None


class ProviderSettings(BaseModel, frozen=True, extra="forbid"):
    """Each adapter's entry in the provider-credentials secret."""

    base_url: str

    @field_validator("base_url")
    @classmethod
    def _https_or_loopback(cls, value: str) -> str:
        # Credentials travel to this URL: TLS, except for a sandbox on this machine.
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https URL")
        return value


class Provider(Protocol):
    name: ClassVar[str]
    settings_model: ClassVar[type[ProviderSettings]]

    def check_order(self, request: CreateOrderRequest) -> None:
        """Raise ValidationFailed (naming the field) for what this provider cannot take."""

    def default_expiry_seconds(self, request: CreateOrderRequest) -> int: ...

    def create_payment(self, order: Order, ctx: CallContext) -> ProviderPayment: ...

    def parse_notification(self, request: RawRequest) -> Notification:
        """Verify and read a notification. Raise NotificationRejected on anything not proven genuine."""

    def acknowledge(self, notification: Notification | None, error: Exception | None) -> RawResponse: ...

    def query(self, order: Order) -> Notification | None:
        """Pull the order's status from the provider; None when the provider does not know the order."""


class ProviderFactory(Protocol):
    name: ClassVar[str]
    settings_model: ClassVar[type[ProviderSettings]]

    def __call__(self, settings: Any, http: HttpClient) -> Provider: ...
