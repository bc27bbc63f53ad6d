"""Whether each merchant event reached the merchant's webhook: the outcome of its latest delivery,
written by the webhook function (payments/outbox/webhooks.py, `DeliveryLog`) and shown with the
order's events (GET /orders/{order_id}/events):

    pk = WEBHOOK_DELIVERY#<event_id>   sk = DELIVERY   status, attempts, last_error, last_attempt_at,
                                                       delivered_at, next_try_at; 30-day TTL

One item per event, whatever the number of tries or redeliveries: each outcome is one UpdateItem, and
the latest says where the event stands. No item: not tried yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from payments.clock import iso
from payments.records import frozen
from payments.store.table import TableStore

WEBHOOK_DELIVERY_PREFIX = "WEBHOOK_DELIVERY#"
WEBHOOK_DELIVERY_SK = "DELIVERY"
WEBHOOK_DELIVERY_TTL_S = 30 * 24 * 3600  # as long as the merchant events themselves are kept
DELIVERED, RETRYING, DEAD_LETTERED = "delivered", "retrying", "dead_lettered"
PENDING = "pending"  # shown for an event with no delivery recorded (never stored)


def delivery_key(event_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"{WEBHOOK_DELIVERY_PREFIX}{event_id}"}, "sk": {"S": WEBHOOK_DELIVERY_SK}}


@frozen
class DeliveryStatus:
    status: str  # DELIVERED, RETRYING or DEAD_LETTERED
    attempts: int  # every POST of the event, redeliveries included
    last_error: str | None  # a code (`HTTP 500`, `timeout`), never a body
    last_attempt_at: str
    delivered_at: str | None  # its latest successful delivery
    next_try_at: str | None  # when retrying

    def to_public(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "last_attempt_at": self.last_attempt_at,
            "delivered_at": self.delivered_at,
            "next_try_at": self.next_try_at,
        }


def not_tried() -> dict[str, Any]:
    """What an event with no recorded delivery shows: being published or queued, or no webhook set."""
    return {
        "status": PENDING,
        "attempts": 0,
        "last_error": None,
        "last_attempt_at": None,
        "delivered_at": None,
        "next_try_at": None,
    }


def _status(item: Mapping[str, Any]) -> DeliveryStatus:
    def text(name: str) -> str | None:
        value = item.get(name)
        return str(value["S"]) if value else None

    return DeliveryStatus(
        status=str(item["status"]["S"]),
        attempts=int(item["attempts"]["N"]),
        last_error=text("last_error"),
        last_attempt_at=str(item["last_attempt_at"]["S"]),
        delivered_at=text("delivered_at"),
        next_try_at=text("next_try_at"),
    )


class WebhookDeliveries(TableStore):
    def record(
        self,
        event_id: str,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
        next_try_at: datetime | None = None,
    ) -> None:
        """One delivery's outcome: the event's status from now on, one more attempt counted."""
        values: dict[str, Any] = {
            ":status": {"S": status},
            ":now": {"S": iso(now)},
            ":one": {"N": "1"},
            ":ttl": {"N": str(int(now.timestamp()) + WEBHOOK_DELIVERY_TTL_S)},
        }
        sets = ["#status = :status", "last_attempt_at = :now", "#ttl = :ttl"]
        removes = []
        if status == DELIVERED:
            sets.append("delivered_at = :now")
            removes.append("last_error")
        else:
            sets.append("last_error = :error")
            values[":error"] = {"S": error or "unknown"}
        if next_try_at is not None:
            sets.append("next_try_at = :next")
            values[":next"] = {"S": iso(next_try_at)}
        else:
            removes.append("next_try_at")
        self.table.call(
            "update_item",
            Key=delivery_key(event_id),
            UpdateExpression=f"SET {', '.join(sets)} ADD attempts :one"
            + (f" REMOVE {', '.join(removes)}" if removes else ""),
            ExpressionAttributeNames={"#status": "status", "#ttl": "ttl"},
            ExpressionAttributeValues=values,
        )

    def statuses(self, event_ids: Sequence[str]) -> dict[str, DeliveryStatus]:
        """The recorded status of each of these events (at most a BatchGetItem's 100) that has one."""
        if not event_ids:
            return {}
        items = self.table.batch_get([delivery_key(event_id) for event_id in dict.fromkeys(event_ids)])
        return {str(item["pk"]["S"]).removeprefix(WEBHOOK_DELIVERY_PREFIX): _status(item) for item in items}
