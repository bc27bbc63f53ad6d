"""All DynamoDB access. Single table:

    pk = ORDER#<order_id>   sk = ORDER               the order (status, ledger totals, version, …)
                            sk = REFUND#<refund_id>   one item per refund (the refund ledger)
                            sk = EVENT#<seq:012d>     its audit events, verified facts only, in order
    pk = REJECTED#<provider>#<yyyy-mm-dd>  sk = <time>#<random>
                            notification attempts we refused (unverified or not ours), 180-day TTL

Every change to an order is one transaction (`commit`): the order conditional on the version read,
each refund it touches conditional on its own version, and the audit events explaining the change.
So there is never a state change without its event, nor a lost update.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from payments.clock import iso
from payments.errors import ConcurrentUpdateError, StoreUnavailable
from payments.facts import RefundStatus
from payments.ledger import IN_FLIGHT, Refund
from payments.money import Money
from payments.orders import OPEN, Order, OrderEvent, OrderStatus, watched
from payments.schedule import DUE_PARTITION, next_check, next_watch_check, schedule_spent

if TYPE_CHECKING:
    from payments.engine import Plan

__all__ = ["ConcurrentUpdateError", "OrdersStore", "iso"]

TABLE_ENV = "ORDERS_TABLE_NAME"
ORDER_SK = "ORDER"
EVENT_PREFIX = "EVENT#"
REFUND_PREFIX = "REFUND#"
REJECTED_PREFIX = "REJECTED#"
MERCHANT_EVENTS_PK = "MERCHANT_EVENTS"  # published events: sk = their id, and sk = LISTED#… below
# The catch-up list's key: when the event was stored, then its id. Not its id alone: ids follow the
# change's recorded time, and an event stored late would sort before a cursor already handed out.
LISTED_PREFIX = "LISTED#"
MERCHANT_EVENT_TTL_S = 30 * 24 * 3600  # how long a merchant can catch up on missed events
WEBHOOK_TRIES_PREFIX = "WEBHOOK_TRIES#"  # pk of a queued webhook's failed attempts (payments/webhooks.py)
WEBHOOK_TRIES_TTL_S = 15 * 24 * 3600  # past the webhook queue's 14-day retention
MAX_PAYLOAD_CHARS = 16_000
REJECTED_ATTEMPT_TTL_S = 180 * 24 * 3600  # forged or unmatched deliveries are kept for 180 days
EVENTS_PAGE = 50  # newest events a read returns; older ones through the cursor
MAX_REFUNDS_READ = 200

# Throttling and transient errors are retried inside botocore with exponential backoff and jitter.
# No client-side parameter validation: every request is built here, DynamoDB validates it again,
# and either failure ends the same way (StoreUnavailable); it saves ~0.1 ms of CPU per call.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 5},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
    parameter_validation=False,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# TransactionConflict (a concurrent transaction on the same item) cancels a transaction and botocore
# does not retry cancellations: the store does, this many attempts in all, with exponential backoff.
CONFLICT_ATTEMPTS = 5
CONFLICT_BACKOFF_S = 0.025

# Order attributes a commit may change, besides status, version, updated_at and event_seq.
_CHANGEABLE = (
    "payment_url",
    "payment_action",
    "provider_reference",
    "provider_status",
    "refunded_value",
    "reserved_value",
    "flags",
    "ignored_reports",
    "checks",
    "amount_confirmed",
    "watch_until",
)
DUE_INDEX = "DueIndex"


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": order_pk(order_id)}, "sk": {"S": ORDER_SK}}


def event_sk(seq: int) -> str:
    return f"{EVENT_PREFIX}{seq:012d}"


def _serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items() if value is not None}


def _deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def _stored(value: Any) -> Any:
    """Attribute value as DynamoDB keeps it: tuples as lists, empty lists not at all."""
    if isinstance(value, tuple):
        return list(value) or None
    return value


def order_due_at(order: Order) -> str | None:
    """When reconciliation next checks the order; None when it is not open work."""
    if "needs_attention" in order.flags:
        return None
    if order.status in OPEN:
        due = next_check(order.created_at, order.checks)
    elif watched(order) and order.watch_until is not None:
        due = next_watch_check(order.created_at, order.checks, order.watch_until)
    else:
        return None
    return iso(due) if due else None


def refund_due_at(refund: Refund) -> str | None:
    if refund.status not in IN_FLIGHT:
        return None
    due = next_check(refund.created_at, refund.checks)
    return iso(due) if due else None


def _not_the_last(checks: int) -> None:
    """A bare check count never takes an item off the due index: the check that spends the schedule
    goes through the engine, which flags the order `needs_attention` with its event and metric."""
    if schedule_spent(checks):
        raise ValueError("the last scheduled check is recorded with its needs_attention flag, not here")


def _due(due_at: str | None) -> dict[str, Any]:
    return {"due_pk": DUE_PARTITION if due_at else None, "due_at": due_at}


def _order_item(order: Order) -> dict[str, Any]:
    return _serialize(
        {
            "pk": order_pk(order.order_id),
            "sk": ORDER_SK,
            "order_id": order.order_id,
            "provider": order.provider,
            "status": str(order.status),
            "amount_value": order.amount.value,
            "currency": order.amount.currency,
            "description": order.description,
            "return_url": order.return_url,
            "cancel_url": order.cancel_url,
            "flow": order.flow,
            "terminal_type": order.terminal_type,
            "request_hash": order.request_hash,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
            "expires_at": order.expires_at,
            "version": order.version,
            "event_seq": order.event_seq,
            "metadata": order.metadata or None,
            "payment_url": order.payment_url,
            "payment_action": order.payment_action,
            "provider_reference": order.provider_reference,
            "provider_status": order.provider_status,
            "refunded_value": order.refunded_value,
            "reserved_value": order.reserved_value,
            "flags": _stored(order.flags),
            "ignored_reports": _stored(order.ignored_reports),
            "lease_until": order.lease_until,
            "checks": order.checks,
            "amount_confirmed": order.amount_confirmed or None,
            "watch_until": order.watch_until,
            **_due(order_due_at(order)),
        }
    )


def _order_from_item(raw: Mapping[str, Any]) -> Order:
    item = _deserialize(raw)
    lease = item.get("lease_until")
    return Order(
        order_id=item["order_id"],
        provider=item["provider"],
        status=OrderStatus(item["status"]),
        amount=Money(int(item["amount_value"]), item["currency"]),
        description=item["description"],
        return_url=item.get("return_url"),
        cancel_url=item.get("cancel_url"),
        flow=item["flow"],
        terminal_type=item["terminal_type"],
        request_hash=item["request_hash"],
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        expires_at=item["expires_at"],
        version=int(item["version"]),
        event_seq=int(item.get("event_seq", 0)),
        metadata=dict(item.get("metadata") or {}),
        payment_url=item.get("payment_url"),
        payment_action=_plain(item.get("payment_action")),
        provider_reference=item.get("provider_reference"),
        provider_status=item.get("provider_status"),
        refunded_value=int(item.get("refunded_value", 0)),
        reserved_value=int(item.get("reserved_value", 0)),
        flags=tuple(item.get("flags") or ()),
        ignored_reports=tuple(item.get("ignored_reports") or ()),
        checks=int(item.get("checks", 0)),
        lease_until=int(lease) if lease is not None else None,
        amount_confirmed=bool(item.get("amount_confirmed")),
        watch_until=item.get("watch_until"),
    )


def _refund_item(refund: Refund, provider: str) -> dict[str, Any]:
    return _serialize(
        {
            "pk": order_pk(refund.order_id),
            "sk": f"{REFUND_PREFIX}{refund.refund_id}",
            "refund_id": refund.refund_id,
            "order_id": refund.order_id,
            "amount_value": refund.amount.value,
            "currency": refund.amount.currency,
            "status": str(refund.status),
            "origin": refund.origin,
            "provider_key": refund.provider_key,
            "created_at": refund.created_at,
            "updated_at": refund.updated_at,
            "reason": refund.reason,
            "provider_reference": refund.provider_reference,
            "request_hash": refund.request_hash,
            "version": refund.version,
            "lease_until": refund.lease_until,
            "checks": refund.checks,
            "provider": provider,  # so the due index can group work by provider
            **_due(refund_due_at(refund)),
        }
    )


def _refund_from_item(raw: Mapping[str, Any]) -> Refund:
    item = _deserialize(raw)
    return Refund(
        refund_id=item["refund_id"],
        order_id=item["order_id"],
        amount=Money(int(item["amount_value"]), item["currency"]),
        status=RefundStatus(item["status"]),
        origin=item["origin"],
        provider_key=item["provider_key"],
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        reason=item.get("reason"),
        provider_reference=item.get("provider_reference"),
        request_hash=item.get("request_hash"),
        version=int(item["version"]),
        lease_until=int(item["lease_until"]) if item.get("lease_until") is not None else None,
        checks=int(item.get("checks", 0)),
    )


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; our stored maps hold only strings and ints."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if type(value).__name__ == "Decimal":
        return int(value)
    return value


def _payload_text(payload: Mapping[str, Any] | None) -> str | None:
    if payload is None:
        return None
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) > MAX_PAYLOAD_CHARS:
        text = json.dumps({"truncated": text[:MAX_PAYLOAD_CHARS]}, ensure_ascii=False)
    return text


def _event_item(order_id: str, event: OrderEvent, order: Order | None = None) -> dict[str, Any]:
    return _serialize(
        {
            "pk": order_pk(order_id),
            "sk": event_sk(event.seq),
            "order_id": order_id,
            "seq": event.seq,
            "type": event.type,
            "at": event.at,
            "source": event.source,
            "from_status": event.from_status and str(event.from_status),
            "to_status": event.to_status and str(event.to_status),
            "provider_status": event.provider_status,
            "verified": event.verified,
            "flags": _stored(event.flags),
            "reason": event.reason,
            "refund_json": _payload_text(event.refund),
            "payload_json": _payload_text(event.payload),
            # The order as this change left it: what the merchant event published from it shows.
            "order_json": _payload_text(order.to_public()) if order is not None else None,
        }
    )


def event_from_item(raw: Mapping[str, Any]) -> OrderEvent:
    """An audit event from its item as DynamoDB returns it (also in stream records)."""
    item = _deserialize(raw)
    return OrderEvent(
        type=item["type"],
        at=item["at"],
        source=item["source"],
        seq=int(item.get("seq", 0)),
        from_status=OrderStatus(item["from_status"]) if item.get("from_status") else None,
        to_status=OrderStatus(item["to_status"]) if item.get("to_status") else None,
        provider_status=item.get("provider_status"),
        verified=item.get("verified"),
        flags=tuple(item.get("flags") or ()),
        reason=item.get("reason"),
        refund=json.loads(item["refund_json"]) if item.get("refund_json") else None,
        payload=json.loads(item["payload_json"]) if item.get("payload_json") else None,
    )


@dataclass(frozen=True, slots=True)
class OrderPage:
    """What GET /orders/{id} shows: the order, its refunds, and a bounded page of its newest events."""

    order: Order
    refunds: list[Refund]
    events: list[OrderEvent]  # oldest first within the page
    older_events_cursor: int | None  # pass as `events_before` for the page before this one


@dataclass(frozen=True, slots=True)
class DueItem:
    """Open work, as the due index lists it."""

    order_id: str
    refund_id: str | None  # None: the order itself
    provider: str
    due_at: str


@dataclass(frozen=True, slots=True)
class RejectedAttempt:
    provider: str
    at: str
    reason: str
    claimed_order_id: str | None
    verified: bool
    payload: dict[str, Any]


class OrdersStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb", config=RETRY_CONFIG)

    @classmethod
    def from_env(cls) -> OrdersStore:
        return cls(os.environ[TABLE_ENV])

    # -- reads ---------------------------------------------------------------------------------
    def get(self, order_id: str) -> Order | None:
        """The order item alone. A Query on its key, like every read here: the functions need only
        dynamodb:Query."""
        page = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk = :order",
            ExpressionAttributeValues={":pk": {"S": order_pk(order_id)}, ":order": {"S": ORDER_SK}},
            ConsistentRead=True,
        )
        items = page.get("Items") or []
        return _order_from_item(items[0]) if items else None

    def get_with_refunds(self, order_id: str) -> tuple[Order, list[Refund]] | None:
        """The order and its refund ledger in one consistent Query (`sk >= ORDER`: the order item,
        then the REFUND# items; events sort before both)."""
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND sk >= :order",
            ExpressionAttributeValues={":pk": {"S": order_pk(order_id)}, ":order": {"S": ORDER_SK}},
            ConsistentRead=True,
        )
        order: Order | None = None
        refunds: list[Refund] = []
        for item in items:
            sort_key = item["sk"]["S"]
            if sort_key == ORDER_SK:
                order = _order_from_item(item)
            elif sort_key.startswith(REFUND_PREFIX):
                refunds.append(_refund_from_item(item))
        if order is None:
            return None
        return order, sorted(refunds, key=lambda refund: (refund.created_at, refund.refund_id))

    def read_page(
        self, order_id: str, *, events_before: int | None = None, limit: int = EVENTS_PAGE
    ) -> OrderPage | None:
        """The order, its refunds and its newest `limit` events (older than `events_before` when given).
        Two bounded Queries, however long the history: a flooded order reads as fast as any other."""
        found = self.get_with_refunds(order_id)
        if found is None:
            return None
        order, refunds = found
        upper = event_sk(events_before - 1) if events_before is not None else f"{EVENT_PREFIX}~"
        page = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": order_pk(order_id)},
                ":low": {"S": EVENT_PREFIX},
                ":high": {"S": upper},
            },
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        events = [event_from_item(item) for item in reversed(page.get("Items", []))]
        oldest = events[0].seq if events else None
        cursor = oldest if oldest is not None and oldest > 1 and len(events) == limit else None
        return OrderPage(order, refunds, events, cursor)

    def due_items(self, now: datetime, limit: int, after: DueItem | None = None) -> list[DueItem]:
        """The open work due by `now`, oldest due first: a Query of the sparse index, never a scan.
        `after`: the last item of the page before (the next page starts behind it)."""
        request: dict[str, Any] = {}
        if after is not None:
            sort_key = f"{REFUND_PREFIX}{after.refund_id}" if after.refund_id is not None else ORDER_SK
            request["ExclusiveStartKey"] = {
                **order_key(after.order_id),
                "sk": {"S": sort_key},
                "due_pk": {"S": DUE_PARTITION},
                "due_at": {"S": after.due_at},
            }
        page = self._call(
            "query",
            TableName=self.table_name,
            IndexName=DUE_INDEX,
            KeyConditionExpression="due_pk = :due AND due_at <= :now",
            ExpressionAttributeValues={":due": {"S": DUE_PARTITION}, ":now": {"S": iso(now)}},
            Limit=limit,
            **request,
        )
        items = []
        for raw in page.get("Items", []):
            item = _deserialize(raw)
            sort_key = item["sk"]
            items.append(
                DueItem(
                    order_id=item["pk"].removeprefix("ORDER#"),
                    refund_id=sort_key.removeprefix(REFUND_PREFIX)
                    if sort_key.startswith(REFUND_PREFIX)
                    else None,
                    provider=item.get("provider", ""),
                    due_at=item["due_at"],
                )
            )
        return items

    def record_check(self, order: Order) -> bool:
        """Reconciliation asked the provider and nothing changed: count the check (so the next one
        comes later) and give back the lease. Conditional on the version read; False if it moved."""
        checked = replace(order, checks=order.checks + 1)
        _not_the_last(checked.checks)
        due = order_due_at(checked)
        expression = "SET checks = :checks REMOVE lease_until"
        values: dict[str, Any] = {":checks": {"N": str(checked.checks)}, ":read": {"N": str(order.version)}}
        if due is None:
            expression += ", due_pk, due_at"
        else:
            expression = "SET checks = :checks, due_at = :due_at REMOVE lease_until"
            values[":due_at"] = {"S": due}
        return self._conditional_update(order_key(order.order_id), expression, "#version = :read", values)

    def record_refund_check(self, refund: Refund) -> bool:
        """The same for a refund: counted, pushed back, lease given back (its version bumped)."""
        checked = replace(refund, checks=refund.checks + 1)
        _not_the_last(checked.checks)
        due = refund_due_at(checked)
        values: dict[str, Any] = {
            ":checks": {"N": str(checked.checks)},
            ":read": {"N": str(refund.version)},
            ":next": {"N": str(refund.version + 1)},
        }
        if due is None:
            expression = "SET checks = :checks, #version = :next REMOVE lease_until, due_pk, due_at"
        else:
            expression = "SET checks = :checks, #version = :next, due_at = :due_at REMOVE lease_until"
            values[":due_at"] = {"S": due}
        key = {"pk": {"S": order_pk(refund.order_id)}, "sk": {"S": f"{REFUND_PREFIX}{refund.refund_id}"}}
        return self._conditional_update(key, expression, "#version = :read", values)

    # -- merchant events (payments/merchant_events.py) -------------------------------------------
    def put_merchant_event(
        self, event_id: str, order_id: str, type_: str, body: str, at: datetime, stored_at: datetime
    ) -> bool:
        """Keep a published event for catching up (GET /events); False if it was kept before (a
        stream batch delivered again). Two items in one transaction: the event under its id (for
        redelivery and to dedupe) and its place in the list, by `stored_at` (taken just before)."""
        listed = f"{LISTED_PREFIX}{iso(stored_at)}#{event_id}"
        common = {
            "order_id": order_id,
            "type": type_,
            "body": body,
            "ttl": int(at.timestamp()) + MERCHANT_EVENT_TTL_S,
        }
        try:
            self._transact(
                [
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": _serialize(
                                {"pk": MERCHANT_EVENTS_PK, "sk": event_id, "listed": listed, **common}
                            ),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": _serialize({"pk": MERCHANT_EVENTS_PK, "sk": listed, **common}),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                ]
            )
        except ConcurrentUpdateError:
            return False
        return True

    def merchant_events_after(
        self, after: str | None, limit: int, stored_before: datetime
    ) -> list[str] | None:
        """Published events' bodies in the order they were stored, after the event `after` (its id)
        or from the start, up to those stored before `stored_before`. None: no event `after` is kept."""
        low = LISTED_PREFIX
        if after is not None:
            page = self._call(
                "query",
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND sk = :id",
                ExpressionAttributeValues={":pk": {"S": MERCHANT_EVENTS_PK}, ":id": {"S": after}},
            )
            items = page.get("Items") or []
            if not items or "listed" not in items[0]:
                return None
            low = str(items[0]["listed"]["S"])
        page = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": MERCHANT_EVENTS_PK},
                ":low": {"S": low},
                # A bare time sorts before every key stamped with it (each goes on with "#evt_…").
                ":high": {"S": f"{LISTED_PREFIX}{iso(stored_before)}"},
            },
            Limit=limit + 1,  # BETWEEN includes `after` itself
            ConsistentRead=True,  # every write stamped before `stored_before` has landed: see it
        )
        return [item["body"]["S"] for item in page.get("Items", []) if item["sk"]["S"] != low][:limit]

    def record_webhook_failure(self, message_id: str, now: datetime) -> tuple[int, datetime]:
        """Count a failed delivery of one queued webhook message: the failures so far (this one
        included) and when the first was. Kept here, not read off the queue: a message held behind an
        earlier one of its order is received with it again and again without being tried."""
        answer = self._call(
            "update_item",
            TableName=self.table_name,
            Key={"pk": {"S": f"{WEBHOOK_TRIES_PREFIX}{message_id}"}, "sk": {"S": "TRIES"}},
            UpdateExpression=(
                "ADD attempts :one SET first_failed_at = if_not_exists(first_failed_at, :now), #ttl = :ttl"
            ),
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":now": {"S": iso(now)},
                ":ttl": {"N": str(int(now.timestamp()) + WEBHOOK_TRIES_TTL_S)},
            },
            ReturnValues="ALL_NEW",
        )
        item = answer["Attributes"]
        first = datetime.strptime(item["first_failed_at"]["S"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return int(item["attempts"]["N"]), first

    def merchant_event(self, event_id: str) -> str | None:
        page = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND sk = :id",
            ExpressionAttributeValues={":pk": {"S": MERCHANT_EVENTS_PK}, ":id": {"S": event_id}},
        )
        items = page.get("Items") or []
        return str(items[0]["body"]["S"]) if items else None

    def rejected_attempts(self, provider: str, day: str, limit: int = 100) -> list[RejectedAttempt]:
        """Refused notification attempts of one provider on one UTC day (`yyyy-mm-dd`), newest first."""
        page = self._call(
            "query",
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"{REJECTED_PREFIX}{provider}#{day}"}},
            ScanIndexForward=False,
            Limit=limit,
        )
        attempts = []
        for raw in page.get("Items", []):
            item = _deserialize(raw)
            attempts.append(
                RejectedAttempt(
                    provider=item["provider"],
                    at=item["at"],
                    reason=item["reason"],
                    claimed_order_id=item.get("claimed_order_id"),
                    verified=bool(item.get("verified")),
                    payload=json.loads(item["payload_json"]) if item.get("payload_json") else {},
                )
            )
        return attempts

    # -- writes --------------------------------------------------------------------------------
    def create(self, order: Order, event: OrderEvent) -> Order | None:
        """Store a new order with its first event. Returns the existing order if the id is taken."""
        first = replace(event, seq=1)
        stored = replace(order, event_seq=1)
        try:
            self._transact(
                [
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": _order_item(stored),
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {"Put": self._event_put(order.order_id, first, stored)},
                ]
            )
        except ConcurrentUpdateError as failed:
            existing = failed.args[0] if failed.args and failed.args[0] else None
            if existing:
                return _order_from_item(existing)
            found = self.get(order.order_id)
            if found is None:  # the condition failed on something else; should not happen
                raise StoreUnavailable("the order could not be stored; retry") from None
            return found
        return None

    def commit(self, plan: Plan) -> Order:
        """Write a plan: the order (conditional on the version read), the refunds it changed
        (each conditional on its own version, or on not existing yet) and its events, atomically.

        Raises ConcurrentUpdateError when anything moved on since it was read.
        """
        original, order = plan.original, plan.order
        now = plan.now
        events = [
            replace(event, seq=original.event_seq + index) for index, event in enumerate(plan.events, 1)
        ]
        updated = replace(
            order,
            version=original.version + 1,
            updated_at=now,
            event_seq=original.event_seq + len(events),
            lease_until=None if plan.release_lease else original.lease_until,
        )
        names = {"#status": "status", "#version": "version", "#updated_at": "updated_at", "#seq": "event_seq"}
        values: dict[str, Any] = {
            ":status": str(updated.status),
            ":next": updated.version,
            ":read": original.version,
            ":updated_at": now,
            ":seq": updated.event_seq,
        }
        assignments = ["#status = :status", "#version = :next", "#updated_at = :updated_at", "#seq = :seq"]
        removals = []
        for index, name in enumerate(_CHANGEABLE):
            value = _stored(getattr(updated, name))
            if value == _stored(getattr(original, name)):
                continue
            names[f"#f{index}"] = name
            if value is None:
                removals.append(f"#f{index}")
            else:
                values[f":f{index}"] = value
                assignments.append(f"#f{index} = :f{index}")
        due_before, due_after = order_due_at(original), order_due_at(updated)
        if due_after != due_before:
            names["#due_pk"], names["#due_at"] = "due_pk", "due_at"
            if due_after is None:
                removals.extend(["#due_pk", "#due_at"])
            else:
                values[":due_pk"], values[":due_at"] = DUE_PARTITION, due_after
                assignments.extend(["#due_pk = :due_pk", "#due_at = :due_at"])
        if plan.release_lease:
            names["#lease"] = "lease_until"
            removals.append("#lease")
        expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": order_key(order.order_id),
                    "UpdateExpression": expression,
                    "ConditionExpression": "#version = :read",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": _serialize(values),
                }
            }
        ]
        for refund in plan.changed_refunds:
            before = plan.original_refunds.get(refund.refund_id)
            written = replace(refund, version=(before.version + 1) if before else 1)
            put: dict[str, Any] = {
                "TableName": self.table_name,
                "Item": _refund_item(written, order.provider),
            }
            if before is None:
                put["ConditionExpression"] = "attribute_not_exists(sk)"
            else:
                put["ConditionExpression"] = "#version = :read"
                put["ExpressionAttributeNames"] = {"#version": "version"}
                put["ExpressionAttributeValues"] = {":read": {"N": str(before.version)}}
            items.append({"Put": put})
        items.extend({"Put": self._event_put(order.order_id, event, updated)} for event in events)
        self._transact(items)
        return updated

    def acquire_lease(
        self, order_id: str, statuses: frozenset[OrderStatus], now: int, until: int
    ) -> Order | None:
        """Become the one request talking to the provider about an order in one of `statuses` until
        `until` (epoch seconds): the order as leased. None when another request holds an unexpired
        lease, or the order is no longer in those statuses. The lease is not a change of the order: no
        version, no event; a caller whose earlier read has the same version need not read again."""
        status_values = {f":s{index}": {"S": str(status)} for index, status in enumerate(sorted(statuses))}
        leased = self._conditional(
            "update_item",
            TableName=self.table_name,
            Key=order_key(order_id),
            UpdateExpression="SET lease_until = :until",
            ConditionExpression=(
                f"#status IN ({', '.join(status_values)}) "
                "AND (attribute_not_exists(lease_until) OR lease_until < :now)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":until": {"N": str(until)},
                ":now": {"N": str(now)},
                **status_values,
            },
            ReturnValues="ALL_NEW",
        )
        return _order_from_item(leased["Attributes"]) if leased is not None else None

    def acquire_refund_lease(
        self,
        refund: Refund,
        now: int,
        until: int,
        statuses: frozenset[RefundStatus] = frozenset({RefundStatus.UNKNOWN}),
    ) -> Refund | None:
        """Become the one request resolving a refund whose outcome is unknown. Unlike the order's
        lease this one bumps the refund's version: a commit made on what was read before cannot
        then overwrite it. None when another request holds it or the refund moved on."""
        status_values = {f":s{index}": {"S": str(status)} for index, status in enumerate(sorted(statuses))}
        leased = self._conditional(
            "update_item",
            TableName=self.table_name,
            Key={"pk": {"S": order_pk(refund.order_id)}, "sk": {"S": f"{REFUND_PREFIX}{refund.refund_id}"}},
            UpdateExpression="SET lease_until = :until, #version = :next",
            ConditionExpression=(
                f"#version = :read AND #status IN ({', '.join(status_values)}) "
                "AND (attribute_not_exists(lease_until) OR lease_until < :now)"
            ),
            ExpressionAttributeNames={"#version": "version", "#status": "status"},
            ExpressionAttributeValues={
                ":until": {"N": str(until)},
                ":now": {"N": str(now)},
                ":read": {"N": str(refund.version)},
                ":next": {"N": str(refund.version + 1)},
                **status_values,
            },
        )
        return replace(refund, version=refund.version + 1, lease_until=until) if leased is not None else None

    def release_refund_lease(self, refund: Refund) -> None:
        """Give up a refund's lease we hold, when nothing else was committed that would release it."""
        self._conditional(
            "update_item",
            TableName=self.table_name,
            Key={"pk": {"S": order_pk(refund.order_id)}, "sk": {"S": f"{REFUND_PREFIX}{refund.refund_id}"}},
            UpdateExpression="REMOVE lease_until SET #version = :next",
            ConditionExpression="#version = :read",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={
                ":read": {"N": str(refund.version)},
                ":next": {"N": str(refund.version + 1)},
            },
        )

    def release_lease(self, order_id: str, until: int) -> None:
        """Give up a lease we hold (when nothing else was committed that would release it)."""
        self._conditional(
            "update_item",
            TableName=self.table_name,
            Key=order_key(order_id),
            UpdateExpression="REMOVE lease_until",
            ConditionExpression="lease_until = :until",
            ExpressionAttributeValues={":until": {"N": str(until)}},
        )

    def record_rejected(
        self,
        provider: str,
        at: datetime,
        *,
        reason: str,
        claimed_order_id: str | None,
        verified: bool,
        payload: Mapping[str, Any],
    ) -> None:
        """A notification attempt we refused: kept apart from every order's history (anyone can
        send us text claiming any order id), per provider and day, for 180 days."""
        self._call(
            "put_item",
            TableName=self.table_name,
            Item=_serialize(
                {
                    "pk": f"{REJECTED_PREFIX}{provider}#{at.strftime('%Y-%m-%d')}",
                    "sk": f"{iso(at)}#{secrets.token_hex(4)}",
                    "provider": provider,
                    "at": iso(at),
                    "reason": reason,
                    "claimed_order_id": (claimed_order_id or "")[:100] or None,
                    "verified": verified,
                    "payload_json": _payload_text(payload),
                    "ttl": int(at.timestamp()) + REJECTED_ATTEMPT_TTL_S,
                }
            ),
        )

    # -- plumbing ------------------------------------------------------------------------------
    def _conditional_update(
        self, key: dict[str, Any], expression: str, condition: str, values: dict[str, Any]
    ) -> bool:
        updated = self._conditional(
            "update_item",
            TableName=self.table_name,
            Key=key,
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues=values,
        )
        return updated is not None

    def _event_put(self, order_id: str, event: OrderEvent, order: Order | None = None) -> dict[str, Any]:
        return {
            "TableName": self.table_name,
            "Item": _event_item(order_id, event, order),
            "ConditionExpression": "attribute_not_exists(sk)",
        }

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request = {"TableName": self.table_name, **kwargs}
        while True:
            page = self._call("query", **request)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page or len(items) > MAX_REFUNDS_READ:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _transact(self, items: list[dict[str, Any]]) -> None:
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                # The token makes botocore's own retries of this call idempotent for 10 minutes.
                self._client.transact_write_items(
                    TransactItems=items,  # type: ignore[arg-type]  # plain dicts, checked by the tests
                    ClientRequestToken=str(uuid.uuid4()),
                )
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                    reasons = exc.response.get("CancellationReasons") or []
                    codes = {reason.get("Code") for reason in reasons}
                    if "ConditionalCheckFailed" in codes:
                        first = reasons[0] if reasons else {}
                        raise ConcurrentUpdateError(first.get("Item")) from None
                    if "TransactionConflict" in codes and attempt < CONFLICT_ATTEMPTS:
                        # Another transaction held one of the items: nothing was written, and botocore
                        # does not retry cancellations. Back off (full jitter) and send it again.
                        time.sleep(random.uniform(0, CONFLICT_BACKOFF_S * 2**attempt))  # noqa: S311
                        continue
                raise StoreUnavailable("the order store is unavailable; retry later") from None
            except BotoCoreError:
                raise StoreUnavailable("the order store is unavailable; retry later") from None

    def _conditional(self, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """A conditional write: its response, or None when its condition did not hold."""
        try:
            response: dict[str, Any] = getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise StoreUnavailable("the order store is unavailable; retry later") from None
        except BotoCoreError:
            raise StoreUnavailable("the order store is unavailable; retry later") from None
        return response

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self._client, operation)(**kwargs)
        except (ClientError, BotoCoreError):
            raise StoreUnavailable("the order store is unavailable; retry later") from None
        return response
