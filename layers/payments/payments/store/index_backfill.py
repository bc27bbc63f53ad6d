"""The operator's index attributes (order_listing.py, day_movements.py) set on the items an earlier
version wrote without them: the one-off upgrade step `make backfill` runs (local/backfill.py).

It reads the whole table with a Scan, in parallel segments: right for a one-off pass over every item
(a Query needs a key the old items do not have), and never made by a function (they Query). Each item
missing attributes gets them from the functions the normal write path calls (order_items.py), set by
an UpdateItem that holds only while the item is as read and the attributes still absent: a write made
since (which writes them all itself) always wins, and a second run changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from payments.orders import Order
from payments.store.day_movements import movement_attributes
from payments.store.order_items import (
    EVENT_PREFIX,
    ORDER_PREFIX,
    ORDER_SK,
    REFUND_PREFIX,
    event_from_item,
    order_from_item,
    order_key,
    refund_from_item,
)
from payments.store.order_listing import listing_attributes, refund_lookup_attributes
from payments.store.table import Table, TableStore, attribute_value

UPDATED = "updated"
ALREADY_INDEXED = "already indexed"
UNLISTED = "nothing to index"  # an item no index lists (an event that moved no money, …)
SKIPPED_BY_CONDITION = "skipped by condition"  # changed since it was read: the newer write holds
OUTCOMES = (UPDATED, ALREADY_INDEXED, UNLISTED, SKIPPED_BY_CONDITION)


class IndexBackfill(TableStore):
    """One segment's worker: `pace` is called before each request it makes (the caller's rate limit)."""

    def __init__(self, table: Table, pace: Callable[[], None] = lambda: None) -> None:
        super().__init__(table)
        self.pace = pace
        self._order: tuple[str, Order | None] | None = None  # the last order read (its events are together)

    def pages(self, segment: int, segments: int, page_size: int) -> Iterator[list[dict[str, Any]]]:
        """Every item of `segment` (of `segments`), `page_size` at a time, as DynamoDB returns them."""
        request: dict[str, Any] = {
            "Segment": segment,
            "TotalSegments": segments,
            "Limit": page_size,
            "ConsistentRead": True,
        }
        while True:
            self.pace()
            page = self.table.call("scan", **request)
            yield page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def fill(self, raw: Mapping[str, Any]) -> str:
        """Set the index attributes `raw` (an item as scanned) lacks; one of OUTCOMES."""
        wanted, guard = self._attributes(raw)
        wanted = {name: value for name, value in wanted.items() if value is not None}
        missing = {name: value for name, value in wanted.items() if name not in raw}
        if not missing:
            return ALREADY_INDEXED if wanted else UNLISTED
        names = {f"#a{index}": name for index, name in enumerate(missing)}
        values = {f":a{index}": attribute_value(value) for index, value in enumerate(missing.values())}
        assignments = [f"#a{index} = :a{index}" for index in range(len(missing))]
        conditions = [f"attribute_not_exists({name})" for name in names]
        if guard is None:  # an audit event: never changed once written; it must still be there
            names["#pk"] = "pk"
            conditions.append("attribute_exists(#pk)")
        else:
            names["#version"], values[":version"] = "version", attribute_value(guard)
            conditions.append("#version = :version")
        self.pace()
        written = self.table.conditional(
            "update_item",
            Key={"pk": raw["pk"], "sk": raw["sk"]},
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression=" AND ".join(conditions),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        return UPDATED if written is not None else SKIPPED_BY_CONDITION

    def _attributes(self, raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], int | None]:
        """The item's index attributes as the write path computes them, and the version it must still
        have (None for an audit event)."""
        sk = raw["sk"]["S"]
        if not raw["pk"]["S"].startswith(ORDER_PREFIX):  # not an order's (merchant events, refusals, …)
            return {}, None
        if sk == ORDER_SK:
            order = order_from_item(raw)
            return listing_attributes(order), order.version
        if sk.startswith(REFUND_PREFIX):
            refund = refund_from_item(raw)
            return refund_lookup_attributes(refund), refund.version
        if sk.startswith(EVENT_PREFIX):
            event = event_from_item(raw)
            left = self._order_as_left(raw)
            # Its write time is not kept apart: the line counts as recorded when the event was (`at`).
            return (movement_attributes(event, left, event.at) if left else {}), None
        return {}, None

    def _order_as_left(self, raw: Mapping[str, Any]) -> Order | None:
        """The order as the event's change left it: the order item, with what the event's copy of the
        order (`order_json`) says of the fields a later change may have moved."""
        order = self._read_order(raw["order_id"]["S"])
        left = json.loads(raw["order_json"]["S"]) if "order_json" in raw else None
        if order is None or left is None:
            return order
        return replace(
            order,
            provider_reference=left.get("provider_reference"),
            refunded_value=int(left["refunded_amount"]["value"]),
        )

    def _read_order(self, order_id: str) -> Order | None:
        if self._order is None or self._order[0] != order_id:
            self.pace()
            found = self.table.call("get_item", Key=order_key(order_id), ConsistentRead=True).get("Item")
            self._order = (order_id, order_from_item(found) if found else None)
        return self._order[1]
