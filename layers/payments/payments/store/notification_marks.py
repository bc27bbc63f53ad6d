"""When each provider's notifications were last accepted (for the doctor: GET /diagnostics).

    pk = ACCEPTED#<provider>   sk = LAST   the time of a recent accepted notification (no TTL)

Written at most once a minute per process (payments/flows/notifications.py), never in an order's
transaction: a genuine notification pays for it once a minute at most.
"""

from __future__ import annotations

from datetime import datetime

from payments.clock import iso
from payments.store.table import TableStore, serialize

ACCEPTED_PREFIX = "ACCEPTED#"
LAST_SK = "LAST"


class NotificationMarks(TableStore):
    def mark_accepted(self, provider: str, at: datetime) -> None:
        self.table.call(
            "put_item",
            Item=serialize({"pk": f"{ACCEPTED_PREFIX}{provider}", "sk": LAST_SK, "at": iso(at)}),
        )

    def last_accepted(self, provider: str) -> str | None:
        page = self.table.call(
            "query",
            KeyConditionExpression="pk = :pk AND sk = :sk",
            ExpressionAttributeValues={":pk": {"S": f"{ACCEPTED_PREFIX}{provider}"}, ":sk": {"S": LAST_SK}},
        )
        items = page.get("Items") or []
        return str(items[0]["at"]["S"]) if items else None
