"""Published merchant events, kept 30 days for the merchant to catch up (GET /events) and to redeliver
(payments/outbox/merchant_events.py makes them, payments/outbox/publisher.py keeps them here).

    pk = MERCHANT_EVENTS#<shard>  sk = <event_id>                     the event's body (and where listed)
                                  sk = LISTED#<stored_at>#<event_id>  its place in the list, as stored

The shard comes from the event's id (payments/store/shards.py): a lookup by id reads one shard, and no
partition takes every event's writes; the list is read from every shard and merged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from payments.clock import iso
from payments.errors import ConcurrentUpdateError
from payments.store.shards import every_shard, merged, sharded
from payments.store.table import TableStore, serialize

MERCHANT_EVENTS_PREFIX = "MERCHANT_EVENTS"
# The one partition key before the events were sharded: still read (listed, found by id) until its
# items expire, 30 days after the deploy that sharded them (docs/operations.md).
LEGACY_MERCHANT_EVENTS_PK = MERCHANT_EVENTS_PREFIX
# The catch-up list's key: when the event was stored, then its id. Not its id alone: ids follow the
# change's recorded time, and an event stored late would sort before a cursor already handed out.
LISTED_PREFIX = "LISTED#"
MERCHANT_EVENT_TTL_S = 30 * 24 * 3600  # how long a merchant can catch up on missed events


def event_partition(event_id: str) -> str:
    return sharded(MERCHANT_EVENTS_PREFIX, event_id)


class MerchantEventStore(TableStore):
    def put(
        self, event_id: str, order_id: str, type_: str, body: str, at: datetime, stored_at: datetime
    ) -> bool:
        """Keep a published event for catching up (GET /events); False if it was kept before (a
        stream batch delivered again). Two items in one transaction: the event under its id (for
        redelivery and to dedupe) and its place in the list, by `stored_at` (taken just before)."""
        listed = f"{LISTED_PREFIX}{iso(stored_at)}#{event_id}"
        partition = event_partition(event_id)
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
                            "Item": serialize({"pk": partition, "sk": event_id, "listed": listed, **common}),
                            "ConditionExpression": "attribute_not_exists(sk)",
                        }
                    },
                    {
                        "Put": {
                            "Item": serialize({"pk": partition, "sk": listed, **common}),
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
        item = self._by_id(event_id)
        return str(item["body"]["S"]) if item is not None else None

    def listed_after(self, after: str | None, limit: int, stored_before: datetime) -> list[str] | None:
        """Published events' bodies in the order they were stored, after the event `after` (its id)
        or from the start, up to those stored before `stored_before`. None: no event `after` is kept.
        Each shard is read after `after`'s place in the list, for at most `limit` items, and merged:
        every event is on exactly one page, whichever shard holds it (payments/store/shards.py). The
        shards' Queries go side by side (payments/store/table.py `query_each`)."""
        low = LISTED_PREFIX
        if after is not None:
            found = self._by_id(after)
            if found is None or "listed" not in found:
                return None
            low = str(found["listed"]["S"])
        # A bare time sorts before every key stamped with it (each goes on with "#evt_…").
        high = f"{LISTED_PREFIX}{iso(stored_before)}"
        requests = [
            {
                "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
                "ExpressionAttributeValues": {
                    ":pk": {"S": partition},
                    ":low": {"S": low},
                    ":high": {"S": high},
                },
                "Limit": limit + 1,  # BETWEEN includes `after` itself, in its shard
                "ConsistentRead": True,  # every write stamped before `stored_before` has landed: see it
            }
            for partition in [*every_shard(MERCHANT_EVENTS_PREFIX), LEGACY_MERCHANT_EVENTS_PK]
        ]
        shards = [
            [item for item in page.get("Items", []) if item["sk"]["S"] != low]
            for page in self.table.query_each(requests)
        ]
        page_items = merged(shards, lambda item: str(item["sk"]["S"]), limit=limit)
        return [item["body"]["S"] for item in page_items]

    def _by_id(self, event_id: str) -> dict[str, Any] | None:
        """The event's item: in its shard, or under the key events had before they were sharded."""
        for partition in (event_partition(event_id), LEGACY_MERCHANT_EVENTS_PK):
            page = self.table.call(
                "query",
                KeyConditionExpression="pk = :pk AND sk = :id",
                ExpressionAttributeValues={":pk": {"S": partition}, ":id": {"S": event_id}},
            )
            items = page.get("Items") or []
            if items:
                return dict(items[0])
        return None
