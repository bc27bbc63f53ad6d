"""Notification attempts we refused (unverified, malformed, or about an order we do not hold): kept
apart from every order's history, since anyone can send us text claiming any order id.

    pk = REJECTED#<provider>#<yyyy-mm-dd>   sk = <time>#<random>   one attempt; 180-day TTL
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from payments.clock import iso
from payments.store.table import TableStore, deserialize, payload_text, serialize

REJECTED_PREFIX = "REJECTED#"
REJECTED_ATTEMPT_TTL_S = 180 * 24 * 3600  # forged or unmatched deliveries are kept for 180 days


@dataclass(frozen=True, slots=True)
class RejectedAttempt:
    provider: str
    at: str
    reason: str
    claimed_order_id: str | None
    verified: bool
    payload: dict[str, Any]


def _partition(provider: str, day: str) -> str:
    return f"{REJECTED_PREFIX}{provider}#{day}"


class RejectedNotifications(TableStore):
    def record(
        self,
        provider: str,
        at: datetime,
        *,
        reason: str,
        claimed_order_id: str | None,
        verified: bool,
        payload: Mapping[str, Any],
    ) -> None:
        """A notification attempt we refused, per provider and day, for 180 days."""
        self.table.call(
            "put_item",
            Item=serialize(
                {
                    "pk": _partition(provider, at.strftime("%Y-%m-%d")),
                    "sk": f"{iso(at)}#{secrets.token_hex(4)}",
                    "provider": provider,
                    "at": iso(at),
                    "reason": reason,
                    "claimed_order_id": (claimed_order_id or "")[:100] or None,
                    "verified": verified,
                    "payload_json": payload_text(payload),
                    "ttl": int(at.timestamp()) + REJECTED_ATTEMPT_TTL_S,
                }
            ),
        )

    def attempts(self, provider: str, day: str, limit: int = 100) -> list[RejectedAttempt]:
        """Refused notification attempts of one provider on one UTC day (`yyyy-mm-dd`), newest first."""
        page = self.table.call(
            "query",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": _partition(provider, day)}},
            ScanIndexForward=False,
            Limit=limit,
        )
        attempts = []
        for raw in page.get("Items", []):
            item = deserialize(raw)
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
