"""Published merchant events, kept 30 days for the merchant to catch up (GET /events) and to redeliver
(payments/outbox/merchant_events.py makes them, payments/outbox/publisher.py keeps them here).

    pk = MERCHANT_EVENTS   sk = <event_id>                      the event's body (and where it is listed)
                           sk = LISTED#<stored_at>#<event_id>   its place in the list, in the order stored
"""

from __future__ import annotations

from datetime import datetime

from payments.clock import iso
from payments.errors import ConcurrentUpdateError
from payments.store.table import TableStore, serialize

MERCHANT_EVENTS_PK = "MERCHANT_EVENTS"
# The catch-up list's key: when the event was stored, then its id. Not its id alone: ids follow the
# change's recorded time, and an event stored late would sort before a cursor already handed out.
LISTED_PREFIX = "LISTED#"
MERCHANT_EVENT_TTL_S = 30 * 24 * 3600  # how long a merchant can catch up on missed events


class MerchantEventStore(TableStore):
    def put(
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
            self.table.transact(
                [
                    {
                        "Put": {
                            "Item": serialize(
                                {"pk": MERCHANT_EVENTS_PK, "sk": event_id, "listed": listed, **common}
                            ),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                    {
                        "Put": {
                            "Item": serialize({"pk": MERCHANT_EVENTS_PK, "sk": listed, **common}),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                ]
            )
        except ConcurrentUpdateError:
            return False
        return True

    def get(self, event_id: str) -> str | None:
        """A kept event's body; None when no such event is kept."""
        page = self.table.call(
            "query",
            KeyConditionExpression="pk = :pk AND sk = :id",
            ExpressionAttributeValues={":pk": {"S": MERCHANT_EVENTS_PK}, ":id": {"S": event_id}},
        )
        items = page.get("Items") or []
        return str(items[0]["body"]["S"]) if items else None

    def listed_after(self, after: str | None, limit: int, stored_before: datetime) -> list[str] | None:
        """Published events' bodies in the order they were stored, after the event `after` (its id)
        or from the start, up to those stored before `stored_before`. None: no event `after` is kept."""
        low = LISTED_PREFIX
        if after is not None:
            page = self.table.call(
                "query",
                KeyConditionExpression="pk = :pk AND sk = :id",
                ExpressionAttributeValues={":pk": {"S": MERCHANT_EVENTS_PK}, ":id": {"S": after}},
            )
            items = page.get("Items") or []
            if not items or "listed" not in items[0]:
                return None
            low = str(items[0]["listed"]["S"])
        page = self.table.call(
            "query",
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
