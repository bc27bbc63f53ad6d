"""The money movements of a day (GET /reports/daily), read from the audit event items that carry one
(payments/movements.py): the sparse index MovementsByDay, its partition key spread over SHARD_COUNT
shards by the order id (payments/store/shards.py).

    index MovementsByDay   day_pk = DAY#<yyyy-mm-dd, UTC>#<shard>   day_sk = <time>#<order_id>#<seq>

<time> is when the money moved: the provider's time of the fact when it stated one (the line's
`occurred_at`), else when we recorded it (`at`); both UTC, written alike (payments/clock.py `iso`). A
payment the provider made at 23:55 and notified at 00:20 is filed under the day it was made. Items
written before `occurred_at` existed have none: filed, and read, by `at`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from payments.clock import iso
from payments.errors import ValidationFailed
from payments.movements import movement_of
from payments.orders import Order, OrderEvent
from payments.store.shards import every_shard, sharded
from payments.store.table import QUERIES_AT_ONCE, TableStore

MOVEMENTS_INDEX = "MovementsByDay"
DAY_PREFIX = "DAY#"
# Lines one Query returns at most: a busy day is read in pages of this many, each a bounded request.
MOVEMENTS_PAGE = 1000
# A day's report is one response (Lambda's is at most 6 MB): past this many lines it is refused.
MAX_DAY_LINES = 25_000


def movement_attributes(event: OrderEvent, order: Order | None, recorded_at: str) -> dict[str, Any]:
    """The index attributes of an audit event item that moved money (none for the others).
    `recorded_at`: when the item is written, so that a line written after its day had ended shows."""
    line = movement_of(event, order) if order is not None else None
    if line is None or order is None:
        return {}
    line["recorded_at"] = recorded_at
    filed = line_time(line)
    return {
        "day_pk": sharded(f"{DAY_PREFIX}{filed[:10]}", order.order_id),
        "day_sk": f"{filed}#{order.order_id}#{event.seq:012d}",
        "movement_json": json.dumps(line, ensure_ascii=False, separators=(",", ":")),
    }


def line_time(line: Mapping[str, Any]) -> str:
    """When a line's money moved: the provider's time if it stated one, else when we recorded it."""
    stated: str | None = line.get("occurred_at")
    return stated or str(line["at"])


class DayMovements(TableStore):
    """Reads of MovementsByDay. `queries` counts the Query requests made (the benchmark's figure)."""

    queries = 0

    def between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Every movement whose time (`line_time`) is in [start, end) (UTC times), in time order. Each
        UTC date the interval touches is one partition per shard, read in pages of MOVEMENTS_PAGE, the
        partitions side by side (Table.query_each); a partition's next page once its last has come."""
        low, high = iso(start), iso(end)  # "<end>#…" sorts above `high`: the end itself is left out
        day, last = start.date(), (end - timedelta(microseconds=1)).date()
        unread: list[dict[str, Any]] = []
        while day <= last:
            unread.extend(
                {
                    "IndexName": MOVEMENTS_INDEX,
                    "KeyConditionExpression": "day_pk = :pk AND day_sk BETWEEN :low AND :high",
                    "ExpressionAttributeValues": {
                        ":pk": {"S": shard},
                        ":low": {"S": low},
                        ":high": {"S": high},
                    },
                    "Limit": MOVEMENTS_PAGE,
                }
                for shard in every_shard(f"{DAY_PREFIX}{day.isoformat()}")
            )
            day += timedelta(days=1)
        lines: list[tuple[str, dict[str, Any]]] = []
        while unread:
            # Sent at once: no more pages than could still fit under MAX_DAY_LINES (QUERIES_AT_ONCE at
            # least), so a day too large is refused after about as much reading as one at a time.
            fit = max(QUERIES_AT_ONCE, -(-(MAX_DAY_LINES + 1 - len(lines)) // MOVEMENTS_PAGE))
            sending, unread = unread[:fit], unread[fit:]
            for request, page in zip(sending, self.table.query_each(sending), strict=True):
                self.queries += 1
                for item in page.get("Items", []):
                    lines.append((item["day_sk"]["S"], json.loads(item["movement_json"]["S"])))
                if len(lines) > MAX_DAY_LINES:
                    raise ValidationFailed(
                        f"date: more than {MAX_DAY_LINES} movements on this day; ask for part of it "
                        "with a time zone that splits it, or read the audit events",
                        field="date",
                        code="report_too_large",
                    )
                if "LastEvaluatedKey" in page:
                    unread.append({**request, "ExclusiveStartKey": page["LastEvaluatedKey"]})
        return [line for _, line in sorted(lines, key=lambda pair: pair[0])]
