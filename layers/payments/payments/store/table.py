"""The one DynamoDB table, and the only module that calls it: the client and its retries, serialisation,
transactions and conditional writes. The stores beside this module each own some of its keys:

    pk                                  sk                              item (TTL)
    ORDER#<order_id>                    ORDER                           the order: status, ledger totals,
                                                                        version, lease, checks, …
    ORDER#<order_id>                    REFUND#<refund_id>              one refund of the refund ledger
    ORDER#<order_id>                    EVENT#<seq:012d>                its audit events, verified facts
                                                                        only, in order
        (order_items.py, orders.py: every change to an order is one transaction, see OrdersStore.commit)
    index DueIndex: due_pk =            due_at = <when>                 order and refund items that are
        DUE#<shard of order_id>                                         open work, due for a check
        (sparse: payments/schedule.py; `due`, the key before sharding, read until it drains)
    index OrdersByCreated: list_pk = ORDERS#<shard>   list_sk = <created_at>#<order_id>    order items:
    index OrdersByStatus: status_pk = STATUS#<status>#<shard>                  the operator's list
    index OrdersByProvider: provider_pk = PROVIDER#<provider>#<shard>          (GET /orders), one
    index OrdersByProviderStatus: provider_status_pk =                         index per filter,
        PROVIDER#<provider>#STATUS#<status>#<shard>                            newest first
    index FlaggedOrders: flagged_pk = FLAGGED#<shard>                          (sparse: flagged)
    index OrderLookup: lookup_pk = LOOKUP#<shard>   lookup_key = <provider reference> on order items,
                                                    <refund id> on refund items (sparse)
        (order_listing.py; <shard>: shards.py, from the order id)
    index MovementsByDay: day_pk = DAY#<yyyy-mm-dd>#<shard>   day_sk = <time>#<order_id>#<seq>  audit
        (day_movements.py: sparse, the events that moved money; <time>: the   events: a day's money
        provider's time of the fact when it stated one, else the event's <at>)
    MERCHANT_EVENTS#<shard of event_id> <event_id>                      a published merchant event, to
                                                                        redeliver (30 days)
    MERCHANT_EVENTS#<shard of event_id> LISTED#<stored_at>#<event_id>   its place in GET /events (30 days)
        (merchant_events.py; MERCHANT_EVENTS, the key before sharding, read until it expires)
    WEBHOOK_TRIES#<message_id>          TRIES                           a queued webhook's failed
        (webhook_tries.py)                                              deliveries (15 days)
    WEBHOOK_DELIVERY#<event_id>         DELIVERY                        a merchant event's latest webhook
        (webhook_deliveries.py)                                         delivery outcome (30 days)
    REJECTED#<provider>#<yyyy-mm-dd>    <time>#<random>                 a notification attempt we refused,
        (rejected.py)                                                   masked, with its diagnosis (180 days)
    REJECTED_RAW#<attempt id>           RAW                             that attempt's request as it arrived,
        (rejected.py)                                                   for a replay (7 days; never listed)
    ACCEPTED#<provider>                 LAST                            when one of its notifications was last
        (notification_marks.py)                                         accepted (once a minute at most)
<shard>: two digits, 00 to SHARD_COUNT - 1, from the id (shards.py): no key takes every order's writes;
a reader of a sharded key queries every shard and merges.

Every call either answers or ends in StoreUnavailable (or ConcurrentUpdateError: a transaction whose
condition failed); the functions read with dynamodb:Query (and BatchGetItem for the webhook deliveries
of an order's events), never Scan or GetItem. Only the operator's one-off upgrade step scans
(index_backfill.py, run by `make backfill` from the operator's machine).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any, Self

from botocore.exceptions import BotoCoreError, ClientError

from payments import aws_clients
from payments.aws_clients import RETRY_CONFIG
from payments.errors import ConcurrentUpdateError, StoreUnavailable
from payments.store.wire import DynamoDBWire

TABLE_ENV = "ORDERS_TABLE_NAME"
MAX_PAYLOAD_CHARS = 16_000

__all__ = ["RETRY_CONFIG", "Table", "TableStore", "deserialize", "payload_text", "plain", "serialize"]

# TransactionConflict (a concurrent transaction on the same item) cancels a transaction and botocore
# does not retry cancellations: the table does, this many attempts in all, with exponential backoff.
CONFLICT_ATTEMPTS = 5
CONFLICT_BACKOFF_S = 0.025
BATCH_GET_MAX_KEYS = 100  # BatchGetItem's limit per call
# A merged read's Queries (one per shard) in flight at once, each in a thread: the wire builds each
# request on its own and sends it on botocore's thread-safe connection pool. 32 shards' round trips
# then take about 4 end to end instead of 32 (docs/capacity.md).
# Below botocore's 10 pooled connections a client keeps (max_pool_connections): each thread reuses one.
QUERIES_AT_ONCE = 8

MAX_NUMBER = 10**38  # DynamoDB's numbers keep 38 significant digits
# As boto3's: a number that does not fit DynamoDB's 38 digits is an error, never rounded.
DYNAMODB_CONTEXT = Context(
    Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)


# The two conversions below do what boto3's TypeSerializer and TypeDeserializer do for the types the
# stores keep (tests/unit/test_store_serialisation.py compares them), without importing boto3 (~30 ms
# of a cold start), and in about a third (writing) and two thirds (reading) of their CPU time.
def attribute_value(value: Any) -> dict[str, Any]:
    """One value as DynamoDB takes it. Floats and sets are refused, as boto3 refuses floats."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):  # before int: a bool is an int
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        if abs(value) >= MAX_NUMBER:
            raise TypeError(f"{value} has more than 38 digits")
        return {"N": str(value)}
    if isinstance(value, Decimal):
        return {"N": str(DYNAMODB_CONTEXT.create_decimal(value))}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(key): attribute_value(item) for key, item in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [attribute_value(item) for item in value]}
    raise TypeError(f"unsupported type {type(value).__name__} for a DynamoDB value")


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as DynamoDB takes it; None values are left out."""
    return {key: attribute_value(value) for key, value in item.items() if value is not None}


def python_value(attribute: Mapping[str, Any]) -> Any:
    """One DynamoDB value as Python: numbers as Decimal, binary as bytes."""
    ((kind, value),) = attribute.items()
    if kind == "S" or kind == "BOOL" or kind == "B":
        return value
    if kind == "N":
        return DYNAMODB_CONTEXT.create_decimal(value)
    if kind == "M":
        return {key: python_value(item) for key, item in value.items()}
    if kind == "L":
        return [python_value(item) for item in value]
    if kind == "NULL":
        return None
    if kind == "SS" or kind == "BS":
        return set(value)
    if kind == "NS":
        return {DYNAMODB_CONTEXT.create_decimal(number) for number in value}
    raise TypeError(f"unknown DynamoDB type {kind}")


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: python_value(value) for key, value in item.items()}


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
    """The table by name, with the client every store over it shares: botocore's client on the wire
    (wire.py), unless one is given (a test's)."""

    def __init__(self, name: str, client: Any | None = None) -> None:
        self.name = name
        self.client: Any = client or DynamoDBWire(
            aws_clients.client("dynamodb"), aws_clients.session().get_credentials()
        )

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

    def query_each(self, requests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The answer to each Query request (the table's name added), in the requests' order, up to
        QUERIES_AT_ONCE of them in flight at once. Raises StoreUnavailable, as `call` does, when one
        fails; the requests not yet sent by then are not sent. One page each: a caller that pages a
        request sends its next page in a later call."""
        if len(requests) <= 1:
            return [self.call("query", **request) for request in requests]
        # Here, not at module scope: a function's init never sends a merged read.
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=min(QUERIES_AT_ONCE, len(requests)))
        try:
            return list(pool.map(lambda request: self.call("query", **request), requests))
        finally:
            pool.shutdown(cancel_futures=True)

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

    def batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items of up to BATCH_GET_MAX_KEYS keys (those that exist), in one BatchGetItem. The keys
        it leaves unprocessed (throttled) are asked again, CONFLICT_ATTEMPTS calls in all, with backoff."""
        if len(keys) > BATCH_GET_MAX_KEYS:
            raise ValueError(f"at most {BATCH_GET_MAX_KEYS} keys a BatchGetItem")
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {self.name: {"Keys": keys}}
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                answer = self.client.batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError):
                raise StoreUnavailable("the order store is unavailable; retry later") from None
            found.extend(answer.get("Responses", {}).get(self.name, []))
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                return found
            if attempt < CONFLICT_ATTEMPTS:
                time.sleep(random.uniform(0, CONFLICT_BACKOFF_S * 2**attempt))  # noqa: S311
        raise StoreUnavailable("the order store is unavailable; retry later")

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
