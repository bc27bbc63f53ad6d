"""All DynamoDB access. Single-table: `pk = ORDER#<id>`; `sk = ORDER` (the order) or
`sk = EVENT#<time>#<random>` (its audit events).

Every change to an order is one transaction: the conditional update (on the version we read) plus
its audit event, so there is never a state change without its event, nor a lost update.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from payments.errors import StoreUnavailable
from payments.money import Money
from payments.orders import Order, OrderEvent, OrderStatus

TABLE_ENV = "ORDERS_TABLE_NAME"
ORDER_SK = "ORDER"
EVENT_PREFIX = "EVENT#"
SEEN_PREFIX = "SEEN#"  # markers of provider events already recorded (refunds), keyed by the provider's id
MAX_PAYLOAD_CHARS = 16_000
REJECTED_ATTEMPT_TTL_S = 180 * 24 * 3600  # forged or unmatched deliveries are kept for 180 days
MAX_EVENTS_RETURNED = 1000

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

# Fields of an order item that a transition may change besides status/version/updated_at.
MUTABLE_FIELDS = ("payment_url", "payment_action", "provider_reference", "provider_status")


class ConcurrentUpdateError(Exception):
    """The order was not in the state we read: someone else wrote first."""


def iso(moment: datetime) -> str:
    """Fixed-width UTC time, so event sort keys order chronologically."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": ORDER_SK}}


def _serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items() if value is not None}


def _deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def _order_item(order: Order) -> dict[str, Any]:
    return _serialize(
        {
            "pk": f"ORDER#{order.order_id}",
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
            "metadata": order.metadata or None,
            "payment_url": order.payment_url,
            "payment_action": order.payment_action,
            "provider_reference": order.provider_reference,
            "provider_status": order.provider_status,
        }
    )


def _order_from_item(raw: Mapping[str, Any]) -> Order:
    item = _deserialize(raw)
    return Order(
        order_id=item["order_id"],
        provider=item["provider"],
        status=OrderStatus(item["status"]),
        amount=Money(int(item["amount_value"]), item["currency"]),
        description=item["description"],
        return_url=item["return_url"],
        cancel_url=item["cancel_url"],
        flow=item["flow"],
        terminal_type=item["terminal_type"],
        request_hash=item["request_hash"],
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        expires_at=item["expires_at"],
        version=int(item["version"]),
        metadata=dict(item.get("metadata") or {}),
        payment_url=item.get("payment_url"),
        payment_action=_plain(item.get("payment_action")),
        provider_reference=item.get("provider_reference"),
        provider_status=item.get("provider_status"),
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


def _event_item(order_id: str, event: OrderEvent, ttl_epoch: int | None) -> dict[str, Any]:
    payload = None
    if event.payload is not None:
        payload = json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"), default=str)
        if len(payload) > MAX_PAYLOAD_CHARS:
            payload = json.dumps({"truncated": payload[:MAX_PAYLOAD_CHARS]}, ensure_ascii=False)
    return _serialize(
        {
            "pk": f"ORDER#{order_id}",
            "sk": f"{EVENT_PREFIX}{event.at}#{secrets.token_hex(4)}",
            "type": event.type,
            "at": event.at,
            "source": event.source,
            "from_status": event.from_status and str(event.from_status),
            "to_status": event.to_status and str(event.to_status),
            "provider_status": event.provider_status,
            "verified": event.verified,
            "flags": list(event.flags) or None,
            "reason": event.reason,
            "payload_json": payload,
            "ttl": ttl_epoch,
        }
    )


def _event_from_item(raw: Mapping[str, Any]) -> OrderEvent:
    item = _deserialize(raw)
    return OrderEvent(
        type=item["type"],
        at=item["at"],
        source=item["source"],
        from_status=OrderStatus(item["from_status"]) if item.get("from_status") else None,
        to_status=OrderStatus(item["to_status"]) if item.get("to_status") else None,
        provider_status=item.get("provider_status"),
        verified=item.get("verified"),
        flags=tuple(item.get("flags") or ()),
        reason=item.get("reason"),
        payload=json.loads(item["payload_json"]) if item.get("payload_json") else None,
    )


class OrdersStore:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb", config=RETRY_CONFIG)

    @classmethod
    def from_env(cls) -> OrdersStore:
        return cls(os.environ[TABLE_ENV])

    # -- reads ---------------------------------------------------------------------------------
    def get(self, order_id: str) -> Order | None:
        response = self._call(
            "get_item", TableName=self.table_name, Key=order_key(order_id), ConsistentRead=True
        )
        item = response.get("Item")
        return _order_from_item(item) if item else None

    def get_with_events(self, order_id: str) -> tuple[Order, list[OrderEvent]] | None:
        """The order and its history, oldest first, in one paginated Query."""
        order: Order | None = None
        events: list[OrderEvent] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"ORDER#{order_id}"}},
            "ConsistentRead": True,
        }
        while True:
            page = self._call("query", **kwargs)
            for item in page.get("Items", []):
                sort_key = item["sk"]["S"]
                if sort_key == ORDER_SK:
                    order = _order_from_item(item)
                elif sort_key.startswith(EVENT_PREFIX) and len(events) < MAX_EVENTS_RETURNED:
                    events.append(_event_from_item(item))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return (order, events) if order else None

    # -- writes --------------------------------------------------------------------------------
    def create(self, order: Order, event: OrderEvent) -> Order | None:
        """Store a new order with its first event. Returns the existing order if the id is taken."""
        try:
            self._transact(
                [
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": _order_item(order),
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {"Put": self._event_put(order.order_id, event)},
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

    def change(
        self,
        order: Order,
        event: OrderEvent,
        *,
        status: OrderStatus | None = None,
        changes: Mapping[str, Any] | None = None,
        now: datetime,
    ) -> Order:
        """Apply a status change and/or field changes, conditional on the version we read.

        Raises ConcurrentUpdateError when the order moved on since it was read.
        """
        new_status = status or order.status
        changes = dict(changes or {})
        unknown = set(changes) - set(MUTABLE_FIELDS)
        if unknown:
            raise ValueError(f"not mutable: {sorted(unknown)}")
        updated = replace(order, status=new_status, version=order.version + 1, updated_at=iso(now), **changes)
        names = {"#status": "status", "#version": "version", "#updated_at": "updated_at"}
        values: dict[str, Any] = {
            ":status": str(new_status),
            ":next": updated.version,
            ":read": order.version,
            ":updated_at": updated.updated_at,
        }
        assignments = ["#status = :status", "#version = :next", "#updated_at = :updated_at"]
        removals = []
        for index, (name, value) in enumerate(sorted(changes.items())):
            names[f"#f{index}"] = name
            if value is None:
                removals.append(f"#f{index}")
            else:
                values[f":f{index}"] = value
                assignments.append(f"#f{index} = :f{index}")
        expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": order_key(order.order_id),
                        "UpdateExpression": expression,
                        "ConditionExpression": "#version = :read",
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": _serialize(values),
                    }
                },
                {"Put": self._event_put(order.order_id, event)},
            ]
        )
        return updated

    def record_event(self, order_id: str, event: OrderEvent, *, ttl_epoch: int | None = None) -> None:
        """An event that changes no order (ignored or rejected notifications)."""
        self._call("put_item", **self._event_put(order_id, event, ttl_epoch))

    def record_event_once(self, order_id: str, key: str, event: OrderEvent) -> bool:
        """Record a provider event keyed by the provider's own id; False if it was recorded before."""
        marker = {
            "TableName": self.table_name,
            "Item": _serialize({"pk": f"ORDER#{order_id}", "sk": f"{SEEN_PREFIX}{key}", "at": event.at}),
            "ConditionExpression": "attribute_not_exists(sk)",
        }
        try:
            self._transact([{"Put": marker}, {"Put": self._event_put(order_id, event)}])
        except ConcurrentUpdateError:
            return False
        return True

    # -- plumbing ------------------------------------------------------------------------------
    def _event_put(self, order_id: str, event: OrderEvent, ttl_epoch: int | None = None) -> dict[str, Any]:
        return {
            "TableName": self.table_name,
            "Item": _event_item(order_id, event, ttl_epoch),
            "ConditionExpression": "attribute_not_exists(sk)",
        }

    def _transact(self, items: list[dict[str, Any]]) -> None:
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                # The token makes botocore's own retries of this call idempotent for 10 minutes.
                self._client.transact_write_items(
                    TransactItems=items,  # type: ignore[arg-type]  # built as plain dicts, checked by tests
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

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self._client, operation)(**kwargs)
        except (ClientError, BotoCoreError):
            raise StoreUnavailable("the order store is unavailable; retry later") from None
        return response
