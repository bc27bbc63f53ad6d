"""How often each queued webhook has failed, and since when (payments/outbox/webhooks.py decides from it):

    pk = WEBHOOK_TRIES#<message_id>   sk = TRIES   attempts, first_failed_at; 15-day TTL

Kept here, not read off the queue: a message held behind an earlier one of its order is received with
it again and again without being tried.
"""

from __future__ import annotations

from datetime import UTC, datetime

from payments.clock import iso
from payments.store.table import TableStore

WEBHOOK_TRIES_PREFIX = "WEBHOOK_TRIES#"
WEBHOOK_TRIES_SK = "TRIES"
WEBHOOK_TRIES_TTL_S = 15 * 24 * 3600  # past the webhook queue's 14-day retention


class WebhookTries(TableStore):
    def record_failure(self, message_id: str, now: datetime) -> tuple[int, datetime]:
        """Count a failed delivery of one queued webhook message: the failures so far (this one
        included) and when the first was."""
        answer = self.table.call(
            "update_item",
            Key={"pk": {"S": f"{WEBHOOK_TRIES_PREFIX}{message_id}"}, "sk": {"S": WEBHOOK_TRIES_SK}},
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
