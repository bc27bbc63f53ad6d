"""One shape over every provider: create an order, make a genuine notification for an outcome,
deliver it to the service directly (bulk cases) or through the real handler (a sample).

Built on the provider kits (local/providers/<name>/kit.py) and their sandboxes; nothing here signs by
itself.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3

from local.testing import ProviderKit, Reply, SignedNotification, kit_of, table_arguments
from payments.api import parse_create_order
from payments.errors import PaymentsError
from payments.orders import Order, OrderStatus
from payments.providers.base import RawRequest, RawResponse
from payments.service import PaymentsService
from payments.store.table import Table
from tests.support.lambdas import Api
from tests.support.orders import order_body

BASE_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"  # what API Gateway would pass on


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
            url=f"{parts.scheme}://{parts.netloc}{parts.path}",
        )

    def replace(self, **changes: Any) -> Delivery:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A provider statement and the unified status the provider's documentation says it means."""

    name: str
    target: OrderStatus
    word: str  # the provider's own status word, as recorded in `provider_status`
    refund_key: str | None = None  # refunds reported by their own event: recorded once per event


def use_fresh_table(api: Api, template_properties: dict[str, Any], name: str) -> None:
    """Point the handlers at a new, empty orders table of the template's shape.

    moto copies a whole table for every transaction: small tables keep long generated runs fast.
    """
    boto3.client("dynamodb").create_table(**table_arguments(template_properties, name))
    for function in api.functions.values():
        for table in tables_of(function.module):
            table.name = name


def tables_of(module: Any) -> list[Table]:
    """The tables a handler module's stores were built over at import: its own store's, or those of
    its service, publisher, failed deliveries… (the stores of one service share one Table)."""
    found: dict[int, Table] = {}
    for value in vars(module).values():
        for holder in (value, *getattr(value, "__dict__", {}).values()):
            table = getattr(holder, "table", None)
            if isinstance(table, Table):
                found[id(table)] = table
    return list(found.values())


@dataclass
class Harness:
    provider: str
    sandbox: Any = field(repr=False)
    service: PaymentsService = field(repr=False)
    api: Api = field(repr=False)
    variant: str = ""  # one of the kit's variants (a sign type); "" for a provider of one
    amount: int = 1000

    @property
    def label(self) -> str:
        return f"{self.provider}-{self.variant}" if self.variant else self.provider

    def use_fresh_table(self, template_properties: dict[str, Any], name: str) -> None:
        use_fresh_table(self.api, template_properties, name)
        self.service.store.table.name = name

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
    @property
    def kit(self) -> ProviderKit[Any, Any]:
        return kit_of(self.provider)

    def notification(self, order_id: str, outcome: str) -> tuple[Delivery, Outcome]:
        """A genuine, correctly signed notification that the order is now `outcome`: a key of the
        kit's `outcomes`, or "refund:<refund id>:<amount>[:pending]" (a provider's own refund event)."""
        if outcome.startswith("refund:"):
            _, refund_id, amount, *pending = outcome.split(":")
            refund = self.kit.refund_statement(
                self.sandbox, order_id, refund_id, int(amount), pending=bool(pending)
            )
            if refund is None:
                raise ValueError(f"{self.provider} reports no refund by an event of its own")
            return _delivery(refund), Outcome(outcome, refund.target, refund.word, refund.refund_key)
        statement = self.kit.statement(self.sandbox, order_id, outcome)
        return _delivery(statement), Outcome(outcome, statement.target, statement.word)

    def deliver(self, delivery: Delivery) -> RawResponse:
        return self.service.receive_notification(self.provider, delivery.raw())

    def deliver_via_handler(self, delivery: Delivery) -> Reply:
        return self.api.request(
            delivery.method, delivery.url, body=delivery.body, headers=delivery.headers, api_key=None
        )

    # -- the provider's side --------------------------------------------------------------------------
    def provider_creates(self, order_id: str) -> int:
        """Create requests for `order_id` that reached the provider (accepted or not)."""
        return self.kit.create_calls(self.sandbox, order_id)

    def provider_has(self, order_id: str) -> bool:
        return self.kit.holds_order(self.sandbox, order_id)


def _delivery(statement: SignedNotification) -> Delivery:
    return Delivery(statement.method, statement.url, dict(statement.headers), statement.body)


def restate_amount(harness: Harness, order_id: str, value: int) -> None:
    """The provider now holds `order_id` paid, at `value` minor units instead of ours."""
    harness.kit.restate_amount(harness.sandbox, order_id, value)
