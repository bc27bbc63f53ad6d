"""One shape over the three providers: create an order, make a genuine notification for an outcome,
deliver it to the service directly (bulk cases) or through the real handler (a sample).

Built on the provider kits (tests/support/*_kit.py) and sandboxes; nothing here signs by itself.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3

from local.inprocess import Reply
from local.providers.alipay_intl.sandbox import RESULT_CODES
from local.template import table_arguments
from payments.api import parse_create_order
from payments.errors import PaymentsError
from payments.orders import Order, OrderStatus
from payments.providers.base import RawRequest, RawResponse
from payments.service import PaymentsService
from payments.store import OrdersStore
from tests.support.lambdas import Api
from tests.support.orders import order_body

BASE_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"  # what API Gateway would pass on
S = OrderStatus


@dataclass(frozen=True, slots=True)
class Delivery:
    """A notification as it travels: what a provider (or an attacker) POSTs to our notify route."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    def raw(self, now: datetime | None = None) -> RawRequest:
        parts = urlsplit(self.url)
        return RawRequest(
            method=self.method,
            body=self.body,
            headers={name.lower(): value for name, value in self.headers.items()},
            query=parse_qs(parts.query, keep_blank_values=True),
            now=now or datetime.now(UTC),
        )

    def replace(self, **changes: Any) -> Delivery:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A provider statement and the unified status the provider's documentation says it means."""

    name: str
    target: OrderStatus
    word: str  # the provider's own status word, as recorded in `provider_status`
    refund_key: str | None = None  # UseePay refunds: recorded once per provider event


# Independent of the adapters' tables: what each provider's word means, from its notes.
OUTCOMES: dict[str, dict[str, tuple[str, OrderStatus]]] = {
    "multisafepay": {
        "pending": ("initialized", S.PENDING),
        "paid": ("completed", S.PAID),
        "failed": ("declined", S.FAILED),
        "cancelled": ("void", S.CANCELLED),
        "expired": ("expired", S.EXPIRED),
        "refunded": ("refunded", S.REFUNDED),
        "partially_refunded": ("partial_refunded", S.PARTIALLY_REFUNDED),
        "charged_back": ("chargeback", S.CHARGED_BACK),
        "unmapped": ("teleported", S.UNKNOWN),
    },
    "useepay": {
        "pending": ("pending", S.PENDING),
        "paid": ("succeed", S.PAID),
        "failed": ("failed", S.FAILED),
        "cancelled": ("cancelled", S.CANCELLED),
        "expired": ("closed", S.EXPIRED),
        "unmapped": ("mystery", S.UNKNOWN),
        # refunds: UseePay's own events, each with its id ("refund:<id>:<amount>[:pending]")
    },
    "alipay_intl": {
        "paid": ("SUCCESS", S.PAID),
        "failed": ("PROCESS_FAIL", S.FAILED),
        "unmapped": ("UNKNOWN_EXCEPTION", S.UNKNOWN),
    },
}


MSP_REFUNDED_TOTALS = {"partially_refunded": 300, "refunded": 1000}


def use_fresh_table(api: Api, template_properties: dict[str, Any], name: str) -> None:
    """Point the handlers at a new, empty orders table of the template's shape.

    moto copies a whole table for every transaction: small tables keep long generated runs fast.
    """
    boto3.client("dynamodb").create_table(**table_arguments(template_properties, name))
    for function in api.functions.values():
        for store in stores_of(function.module):
            store.table_name = name


def stores_of(module: Any) -> list[OrdersStore]:
    """The order stores a handler module built at import: its own, or its service's, publisher's…"""
    found = []
    for value in vars(module).values():
        if isinstance(value, OrdersStore):
            found.append(value)
        elif isinstance(getattr(value, "store", None), OrdersStore):
            found.append(value.store)
    return found


@dataclass
class Harness:
    provider: str
    sandbox: Any = field(repr=False)
    service: PaymentsService = field(repr=False)
    api: Api = field(repr=False)
    variant: str = ""  # e.g. the UseePay sign type
    amount: int = 1000

    @property
    def label(self) -> str:
        return f"{self.provider}-{self.variant}" if self.variant else self.provider

    def use_fresh_table(self, template_properties: dict[str, Any], name: str) -> None:
        use_fresh_table(self.api, template_properties, name)
        self.service.store.table_name = name

    # -- orders -------------------------------------------------------------------------------------
    def body(self, order_id: str) -> dict[str, Any]:
        return order_body(order_id, provider=self.provider, amount={"value": self.amount, "currency": "EUR"})

    def create(self, order_id: str) -> Order | PaymentsError:
        """Create through the service; a provider error is returned (the order is kept as unknown)."""
        request = parse_create_order(json.dumps(self.body(order_id)))
        try:
            return self.service.create_order(request, BASE_URL).order
        except PaymentsError as error:
            return error

    def order(self, order_id: str) -> Order | None:
        return self.service.store.get(order_id)

    # -- notifications ------------------------------------------------------------------------------
    def notification(self, order_id: str, outcome: str) -> tuple[Delivery, Outcome]:
        """A genuine, correctly signed notification that the order is now `outcome`."""
        if outcome.startswith("refund:"):
            return self._refund(order_id, outcome)
        word, target = OUTCOMES[self.provider][outcome]
        if self.provider == "multisafepay":
            self.sandbox.set_status(order_id, word)
            # The order's cumulative refunded total, as MultiSafepay reports it with these words.
            self.sandbox.orders[order_id]["amount_refunded"] = MSP_REFUNDED_TOTALS.get(outcome, 0)
            url, headers, body = self.sandbox.notification(order_id)
        elif self.provider == "useepay":
            self.sandbox.settle(order_id, word)
            url, headers, body = self.sandbox.notification(order_id)
        else:
            sent = self.sandbox.notification(order_id, word)
            url, headers, body = sent.url, sent.headers, sent.body
            word = f"{RESULT_CODES[word][1]}:{word}"  # Alipay's resultStatus:resultCode
        return Delivery("POST", url, dict(headers), body), Outcome(outcome, target, word)

    def _refund(self, order_id: str, outcome: str) -> tuple[Delivery, Outcome]:
        _, refund_id, amount, *pending = outcome.split(":")
        code = "pending" if pending else "succeed"
        url, headers, body = self.sandbox.refund_notification(
            order_id, int(amount), result_code=code, refund_id=refund_id
        )
        if pending:
            target = S.UNKNOWN  # recorded, moves nothing
        elif int(amount) < self.amount:
            target = S.PARTIALLY_REFUNDED
        else:
            target = S.REFUNDED
        key = f"refund:{refund_id}:{code}"
        outcome_ = Outcome(outcome, target, f"refund:{code}", refund_key=key)
        return Delivery("POST", url, dict(headers), body), outcome_

    def deliver(self, delivery: Delivery) -> RawResponse:
        return self.service.receive_notification(self.provider, delivery.raw())

    def deliver_via_handler(self, delivery: Delivery) -> Reply:
        return self.api.request(
            delivery.method, delivery.url, body=delivery.body, headers=delivery.headers, api_key=None
        )

    # -- the provider's side --------------------------------------------------------------------------
    def provider_creates(self, order_id: str) -> int:
        """Create requests for `order_id` that reached the provider (accepted or not)."""
        if self.provider == "multisafepay":
            return sum(
                1
                for call in self.sandbox.calls
                if call.method == "POST"
                and call.path.endswith("/orders")
                and isinstance(call.body, dict)
                and call.body.get("order_id") == order_id
            )
        if self.provider == "useepay":
            return sum(
                1
                for call in self.sandbox.calls
                if call.get("transactionType") == "pay" and call.get("transactionId") == order_id
            )
        return sum(
            1
            for call in self.sandbox.calls
            if call.function.endswith("prepareForRedirect") and call.body.get("merchantTransId") == order_id
        )

    def provider_has(self, order_id: str) -> bool:
        if self.provider == "multisafepay":
            return order_id in self.sandbox.orders
        if self.provider == "useepay":
            return order_id in self.sandbox.transactions
        return order_id in self.sandbox.orders


def restate_amount(harness: Harness, order_id: str, value: int) -> None:
    """The provider now holds `order_id` paid, at `value` minor units instead of ours."""
    sandbox = harness.sandbox
    if harness.provider == "multisafepay":
        sandbox.orders[order_id]["amount"] = value
    elif harness.provider == "useepay":
        sandbox.transactions[order_id]["amount"] = str(value)
    else:
        sandbox.orders[order_id]["orderAmount"]["value"] = str(value)
    sandbox.pay_silently(order_id)
