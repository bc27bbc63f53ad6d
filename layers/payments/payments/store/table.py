"""The one DynamoDB table, and the only module that calls it: the client and its retries, serialisation,
transactions and conditional writes. The stores beside this module each own some of its keys:

    pk                                  sk                              item (TTL)
    ORDER#<order_id>                    ORDER                           the order: status, ledger totals,
                                                                        version, lease, checks, …
    ORDER#<order_id>                    REFUND#<refund_id>              one refund of the refund ledger
    ORDER#<order_id>                    EVENT#<seq:012d>                its audit events, verified facts
                                                                        only, in order
        (order_items.py, orders.py: every change to an order is one transaction, see OrdersStore.commit)
    index DueIndex: due_pk = due        due_at = <when>                 order and refund items that are
        (sparse: payments/schedule.py)                                  open work, due for a check
    MERCHANT_EVENTS                     <event_id>                      a published merchant event, to
                                                                        redeliver (30 days)
    MERCHANT_EVENTS                     LISTED#<stored_at>#<event_id>   its place in GET /events (30 days)
        (merchant_events.py)
    WEBHOOK_TRIES#<message_id>          TRIES                           a queued webhook's failed
        (webhook_tries.py)                                              deliveries (15 days)
    REJECTED#<provider>#<yyyy-mm-dd>    <time>#<random>                 a notification attempt we refused,
        (rejected.py)                                                   masked, with its diagnosis (180 days)
    REJECTED_RAW#<attempt id>           RAW                             that attempt's request as it arrived,
        (rejected.py)                                                   for a replay (7 days; never listed)
    ACCEPTED#<provider>                 LAST                            when one of its notifications was last
        (notification_marks.py)                                         accepted (once a minute at most)

Every call either answers or ends in StoreUnavailable (or ConcurrentUpdateError: a transaction whose
condition failed); the functions need dynamodb:Query, never Scan or GetItem.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Mapping
from typing import Any, Self

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from payments.errors import ConcurrentUpdateError, StoreUnavailable

TABLE_ENV = "ORDERS_TABLE_NAME"
MAX_PAYLOAD_CHARS = 16_000

# Throttling and transient errors are retried inside botocore with exponential backoff and jitter.
# No client-side parameter validation: every request is built by the stores, DynamoDB validates it
# again, and either failure ends the same way (StoreUnavailable); it saves ~0.1 ms of CPU per call.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 5},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
    parameter_validation=False,
)

# TransactionConflict (a concurrent transaction on the same item) cancels a transaction and botocore
# does not retry cancellations: the table does, this many attempts in all, with exponential backoff.
CONFLICT_ATTEMPTS = 5
CONFLICT_BACKOFF_S = 0.025

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as DynamoDB takes it; None values are left out."""
    return {key: _serializer.serialize(value) for key, value in item.items() if value is not None}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; our stored maps hold only strings and ints."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if type(value).__name__ == "Decimal":
        return int(value)
    return value


def payload_text(payload: Mapping[str, Any] | None) -> str | None:
    """A payload as kept in an item: compact JSON, cut down to a marked stub past MAX_PAYLOAD_CHARS."""
    if payload is None:
        return None
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) > MAX_PAYLOAD_CHARS:
        text = json.dumps({"truncated": text[:MAX_PAYLOAD_CHARS]}, ensure_ascii=False)
    return text


class Table:
    """The table by name, with the client every store over it shares."""

    def __init__(self, name: str, client: Any | None = None) -> None:
        self.name = name
        self.client: Any = client or boto3.client("dynamodb", config=RETRY_CONFIG)

    @classmethod
    def from_env(cls) -> Table:
        return cls(os.environ[TABLE_ENV])

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One request on the table (its name added)."""
        try:
            response: dict[str, Any] = getattr(self.client, operation)(TableName=self.name, **kwargs)
        except (ClientError, BotoCoreError):
            raise StoreUnavailable("the order store is unavailable; retry later") from None
        return response

    def conditional(self, operation: str, **kwargs: Any) -> dict[str, Any] | None:
        """A conditional write: its response, or None when its condition did not hold."""
        try:
            response: dict[str, Any] = getattr(self.client, operation)(TableName=self.name, **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise StoreUnavailable("the order store is unavailable; retry later") from None
        except BotoCoreError:
            raise StoreUnavailable("the order store is unavailable; retry later") from None
        return response

    def query_all(self, max_items: int, **kwargs: Any) -> list[dict[str, Any]]:
        """A Query's items, page after page, until the last or once past `max_items`."""
        items: list[dict[str, Any]] = []
        request = dict(kwargs)
        while True:
            page = self.call("query", **request)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page or len(items) > max_items:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def transact(self, items: list[dict[str, Any]]) -> None:
        """Write `items` ({"Put": {...}}, {"Update": {...}}, …, the table's name added) all or none.
        Raises ConcurrentUpdateError, with the item the first failed condition saw if it was asked
        for (ReturnValuesOnConditionCheckFailure), when one of their conditions did not hold."""
        request = [
            {kind: {"TableName": self.name, **action} for kind, action in item.items()} for item in items
        ]
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                # The token makes botocore's own retries of this call idempotent for 10 minutes.
                self.client.transact_write_items(TransactItems=request, ClientRequestToken=str(uuid.uuid4()))
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


class TableStore:
    """A store over the table: the orders, the merchant events, the webhook tries, the rejected
    notification attempts. Stores over one Table share its client."""

    def __init__(self, table: Table) -> None:
        self.table = table

    @classmethod
    def from_env(cls) -> Self:
        return cls(Table.from_env())
