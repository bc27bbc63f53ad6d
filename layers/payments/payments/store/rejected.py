"""Notification attempts we refused (unverified, malformed, or about an order we do not hold): kept
apart from every order's history, since anyone can send us text claiming any order id.

    pk = REJECTED#<provider>#<yyyy-mm-dd>   sk = <time>#<random>   one attempt, masked; 180-day TTL
    pk = REJECTED_RAW#<id>                  sk = RAW               its request as it arrived, for a
                                                                   replay; 7-day TTL, never listed

An attempt's id (`rej_<yyyymmddThhmmssffffff>_<random>_<provider>`) names both items.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from payments.clock import iso
from payments.records import frozen
from payments.store.table import TableStore, deserialize, payload_text, serialize

REJECTED_PREFIX = "REJECTED#"
RAW_PREFIX = "REJECTED_RAW#"
RAW_SK = "RAW"
REJECTED_ATTEMPT_TTL_S = 180 * 24 * 3600  # forged or unmatched deliveries are kept for 180 days
RAW_REQUEST_TTL_S = 7 * 24 * 3600  # the request itself, for a replay once the cause is fixed
LISTED_DAYS = 7  # what GET /notifications/rejected reads back
MAX_KEPT_BODY = 64 * 1024  # a larger body is not kept (no provider sends one): not replayable
ATTEMPT_ID_RE = re.compile(
    r"rej_(?P<at>[0-9]{8}T[0-9]{12})_(?P<random>[0-9a-f]{8})_(?P<provider>[a-z0-9_]{1,40})"
)


@frozen
class RejectedAttempt:
    """A refused notification as filed: who sent it, when, why, and its masked payload."""

    provider: str
    at: str
    reason: str
    claimed_order_id: str | None
    verified: bool
    payload: dict[str, Any]
    id: str = ""
    code: str = ""
    explanation: str = ""
    source_ip: str = ""

    def listed(self) -> dict[str, Any]:
        """As GET /notifications/rejected shows it: masked, never the raw request."""
        return {
            "id": self.id,
            "provider": self.provider,
            "received_at": self.at,
            "code": self.code,
            "explanation": self.explanation,
            "order_id": self.claimed_order_id,
            "source_ip": self.source_ip or None,
            "payload": self.payload,
        }


@frozen
class KeptRequest:
    """A refused request as it arrived: enough to run it through the notify flow again."""

    method: str
    url: str
    received_path: str
    headers: dict[str, str]
    query: dict[str, list[str]]
    body: bytes
    received_at: datetime
    source_ip: str = ""


def _partition(provider: str, day: str) -> str:
    return f"{REJECTED_PREFIX}{provider}#{day}"


def attempt_id(provider: str, at: datetime, random: str) -> str:
    return f"rej_{at:%Y%m%dT%H%M%S%f}_{random}_{provider}"


def _key_of(attempt: str) -> tuple[str, str, datetime] | None:
    """(partition, sort key, time) of an attempt's listed item; None for an id of no shape of ours."""
    found = ATTEMPT_ID_RE.fullmatch(attempt)
    if found is None:
        return None
    try:
        at = datetime.strptime(found["at"], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
    except ValueError:
        return None
    return _partition(found["provider"], f"{at:%Y-%m-%d}"), f"{iso(at)}#{found['random']}", at


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
        code: str = "",
        explanation: str = "",
        source_ip: str = "",
        request: KeptRequest | None = None,
    ) -> str:
        """A notification attempt we refused, per provider and day, for 180 days; its request for 7
        (when its body is at most MAX_KEPT_BODY). Its id."""
        random = secrets.token_hex(4)
        kept_id = attempt_id(provider, at, random)
        self.table.call(
            "put_item",
            Item=serialize(
                {
                    "pk": _partition(provider, at.strftime("%Y-%m-%d")),
                    "sk": f"{iso(at)}#{random}",
                    "id": kept_id,
                    "provider": provider,
                    "at": iso(at),
                    "reason": reason,
                    "code": code or None,
                    "explanation": explanation or None,
                    "source_ip": source_ip[:64] or None,
                    "claimed_order_id": (claimed_order_id or "")[:100] or None,
                    "verified": verified,
                    "payload_json": payload_text(payload),
                    "ttl": int(at.timestamp()) + REJECTED_ATTEMPT_TTL_S,
                }
            ),
        )
        if request is not None and len(request.body) <= MAX_KEPT_BODY:
            self.table.call(
                "put_item",
                Item=serialize(
                    {
                        "pk": f"{RAW_PREFIX}{kept_id}",
                        "sk": RAW_SK,
                        "provider": provider,
                        "method": request.method,
                        "url": request.url,
                        "received_path": request.received_path,
                        "headers_json": json.dumps(request.headers),
                        "query_json": json.dumps(request.query),
                        "body": request.body,
                        "source_ip": request.source_ip or None,
                        "at": iso(at),
                        "ttl": int(at.timestamp()) + RAW_REQUEST_TTL_S,
                    }
                ),
            )
        return kept_id

    def attempts(self, provider: str, day: str, limit: int = 100) -> list[RejectedAttempt]:
        """Refused notification attempts of one provider on one UTC day (`yyyy-mm-dd`), newest first."""
        return self._page(_partition(provider, day), None, limit)

    def _page(self, partition: str, before_sk: str | None, limit: int) -> list[RejectedAttempt]:
        condition = "pk = :pk" + (" AND sk < :before" if before_sk else "")
        values = {":pk": {"S": partition}}
        if before_sk:
            values[":before"] = {"S": before_sk}
        page = self.table.call(
            "query",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_attempt(deserialize(raw)) for raw in page.get("Items", [])]

    def newest(
        self, providers: list[str], now: datetime, *, after: str | None, limit: int
    ) -> list[RejectedAttempt] | None:
        """The attempts of the last LISTED_DAYS days of `providers`, newest first, older than the
        attempt `after` (its id) if given. None: `after` is not an attempt id."""
        before: tuple[str, datetime] | None = None
        if after is not None:
            key = _key_of(after)
            if key is None:
                return None
            before = (key[1], key[2])
        found: list[RejectedAttempt] = []
        day = min(before[1], now).date() if before else now.date()  # a cursor from the future: today
        oldest = (now - timedelta(days=LISTED_DAYS)).date()
        while day >= oldest and len(found) < limit:
            stamp = f"{day:%Y-%m-%d}"
            # A day's attempts of each provider, merged newest first; the cursor cuts only its own day.
            cut = before[0] if before and f"{before[1]:%Y-%m-%d}" == stamp else None
            merged: list[RejectedAttempt] = []
            for provider in providers:
                merged.extend(self._page(_partition(provider, stamp), cut, limit - len(found)))
            merged.sort(key=lambda attempt: (attempt.at, attempt.id), reverse=True)
            found.extend(merged[: limit - len(found)])
            day -= timedelta(days=1)
        return found

    def kept_request(self, attempt: str) -> tuple[RejectedAttempt, KeptRequest | None] | None:
        """An attempt and its kept request (None once expired or when too large to keep); None when
        there is no such attempt."""
        key = _key_of(attempt)
        if key is None:
            return None
        partition, sort_key, _ = key
        page = self.table.call(
            "query",
            KeyConditionExpression="pk = :pk AND sk = :sk",
            ExpressionAttributeValues={":pk": {"S": partition}, ":sk": {"S": sort_key}},
        )
        items = page.get("Items") or []
        if not items:
            return None
        listed = _attempt(deserialize(items[0]))
        page = self.table.call(
            "query",
            KeyConditionExpression="pk = :pk AND sk = :sk",
            ExpressionAttributeValues={":pk": {"S": f"{RAW_PREFIX}{attempt}"}, ":sk": {"S": RAW_SK}},
        )
        raws = page.get("Items") or []
        if not raws:
            return listed, None
        raw = deserialize(raws[0])
        if int(raw.get("ttl", 0)) < int(datetime.now(UTC).timestamp()):
            return listed, None  # expired, not yet swept by DynamoDB's TTL
        return listed, KeptRequest(
            method=raw["method"],
            url=raw.get("url", ""),
            received_path=raw.get("received_path", ""),
            headers=json.loads(raw["headers_json"]),
            query=json.loads(raw["query_json"]),
            body=bytes(raw["body"]),
            received_at=datetime.strptime(raw["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
            source_ip=raw.get("source_ip") or "",
        )


def _attempt(item: dict[str, Any]) -> RejectedAttempt:
    return RejectedAttempt(
        provider=item["provider"],
        at=item["at"],
        reason=item["reason"],
        claimed_order_id=item.get("claimed_order_id"),
        verified=bool(item.get("verified")),
        payload=json.loads(item["payload_json"]) if item.get("payload_json") else {},
        id=item.get("id", ""),
        code=item.get("code", ""),
        explanation=item.get("explanation", ""),
        source_ip=item.get("source_ip", ""),
    )
