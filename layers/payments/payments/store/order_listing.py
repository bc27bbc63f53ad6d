"""The operator's indexes over the order items (GET /orders): each filter combination has an index
made for it, every partition key spread over SHARD_COUNT shards by the order id (payments/store/
shards.py), every sort key `list_sk = <created_at>#<order_id>` (unique, in creation order).

    index                    partition key                                       sort key
    OrdersByCreated          list_pk = ORDERS#<shard>                            list_sk
    OrdersByStatus           status_pk = STATUS#<status>#<shard>                 list_sk
    OrdersByProvider         provider_pk = PROVIDER#<provider>#<shard>           list_sk
    OrdersByProviderStatus   provider_status_pk = PROVIDER#<p>#STATUS#<s>#<shard> list_sk
    FlaggedOrders (sparse)   flagged_pk = FLAGGED#<shard>, flagged orders only    list_sk
    OrderLookup (sparse)     lookup_pk = LOOKUP#<shard>                          lookup_key: the order's
                                                       provider reference; on a refund item its refund id

The attributes are written with the item they describe, in the same write (payments/store/orders.py),
so an index never disagrees with a committed order for longer than the index's own propagation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from payments.ledger import Refund
from payments.orders import Order
from payments.records import frozen
from payments.store.shards import every_shard, merged, sharded
from payments.store.table import TableStore, deserialize

LISTED_ORDERS_PK = "ORDERS"
STATUS_PREFIX = "STATUS#"
PROVIDER_PREFIX = "PROVIDER#"
FLAGGED_PK = "FLAGGED"
LOOKUP_PK = "LOOKUP"
ORDERS_INDEX = "OrdersByCreated"
STATUS_INDEX = "OrdersByStatus"
PROVIDER_INDEX = "OrdersByProvider"
PROVIDER_STATUS_INDEX = "OrdersByProviderStatus"
FLAGGED_INDEX = "FlaggedOrders"
LOOKUP_INDEX = "OrderLookup"

ANY_FLAG = "any"  # OrderFilter.flag: any flag at all (every flagged order)
# Sort-key bounds: every list_sk starts with a year's digit, and order ids use only characters below
# "~" ([A-Za-z0-9._-]), so "<time>#~" is above every key created at <time>.
LOWEST = "0"
HIGHEST = "~"
# Matches of a search (q) read at most: a provider reference names one order, a refund id a few.
MAX_MATCHES = 100
# A flagged-orders query filters on the flag (and status, provider) after reading: it reads pages of
# this many until it has its share of the page. Flagged orders are few; this bounds each request.
FILTERED_PAGE = 200


def listing_attributes(order: Order) -> dict[str, str | None]:
    """The index attributes of an order item (None: not in that sparse index)."""
    key = order.order_id
    status, provider = str(order.status), order.provider
    return {
        "list_pk": sharded(LISTED_ORDERS_PK, key),
        "list_sk": f"{order.created_at}#{key}",
        "status_pk": sharded(f"{STATUS_PREFIX}{status}", key),
        "provider_pk": sharded(f"{PROVIDER_PREFIX}{provider}", key),
        "provider_status_pk": sharded(f"{PROVIDER_PREFIX}{provider}#{STATUS_PREFIX}{status}", key),
        "flagged_pk": sharded(FLAGGED_PK, key) if order.flags else None,
        "lookup_pk": sharded(LOOKUP_PK, key) if order.provider_reference else None,
        "lookup_key": order.provider_reference,
    }


def refund_lookup_attributes(refund: Refund) -> dict[str, str]:
    """A refund item is found by its refund id (q)."""
    return {"lookup_pk": sharded(LOOKUP_PK, refund.order_id), "lookup_key": refund.refund_id}


@frozen
class OrderFilter:
    """What GET /orders filters on; times are ISO UTC as the store writes them (payments/clock.py)."""

    status: str | None = None
    flag: str | None = None
    provider: str | None = None
    created_from: str | None = None
    created_to: str | None = None

    def admits(self, summary: Mapping[str, Any]) -> bool:
        """Whether an order (summary item, deserialised) passes every filter."""
        created = str(summary["created_at"])
        return (
            (self.status is None or summary["status"] == self.status)
            and (self.provider is None or summary["provider"] == self.provider)
            and (self.flag is None or self._flagged(summary.get("flags") or ()))
            and (self.created_from is None or created >= self.created_from)
            and (self.created_to is None or created <= self.created_to)
        )

    def _flagged(self, flags: Any) -> bool:
        return bool(flags) if self.flag == ANY_FLAG else self.flag in flags


def _index_for(filters: OrderFilter) -> tuple[str, str, str]:
    """The index serving `filters`, its partition key attribute and the key's prefix (before the
    shard). A flag is filtered on the sparse FlaggedOrders index (few items)."""
    if filters.flag is not None:
        return FLAGGED_INDEX, "flagged_pk", FLAGGED_PK
    if filters.status is not None and filters.provider is not None:
        prefix = f"{PROVIDER_PREFIX}{filters.provider}#{STATUS_PREFIX}{filters.status}"
        return PROVIDER_STATUS_INDEX, "provider_status_pk", prefix
    if filters.status is not None:
        return STATUS_INDEX, "status_pk", f"{STATUS_PREFIX}{filters.status}"
    if filters.provider is not None:
        return PROVIDER_INDEX, "provider_pk", f"{PROVIDER_PREFIX}{filters.provider}"
    return ORDERS_INDEX, "list_pk", LISTED_ORDERS_PK


class OrderListing(TableStore):
    """Bounded reads of the operator's indexes: a page is one Query per shard (at most `limit` items
    each, after the cursor), the shards side by side (Table.query_each), merged newest first."""

    def page(self, filters: OrderFilter, limit: int, after: str | None) -> list[dict[str, Any]]:
        """The newest `limit` orders passing `filters` whose list_sk is below `after` (the last
        list_sk of the page before), newest first, as summary items (deserialised)."""
        index, key_name, prefix = _index_for(filters)
        low = filters.created_from or LOWEST
        high = f"{filters.created_to}#{HIGHEST}" if filters.created_to else HIGHEST
        if after is not None:
            high = min(high, after)
        if low > high:
            return []
        residual = filters if index == FLAGGED_INDEX else None
        unread = {
            shard: _shard_request(index, key_name, shard, low, high, limit, residual)
            for shard in every_shard(prefix)
        }
        found: dict[str, list[dict[str, Any]]] = {shard: [] for shard in unread}
        # Each shard's newest `limit` items in [low, high], the cursor itself left out. A shard whose
        # Query stopped short of them (a filtered one) is read on, the shards still short side by side.
        while unread:
            answers = self.table.query_each(list(unread.values()))
            still: dict[str, dict[str, Any]] = {}
            for (shard, request), answer in zip(unread.items(), answers, strict=True):
                kept = found[shard]
                for raw in answer.get("Items", []):
                    item = deserialize(raw)
                    if item["list_sk"] != after:
                        kept.append(item)
                    if len(kept) >= limit:
                        break
                if len(kept) < limit and "LastEvaluatedKey" in answer:
                    still[shard] = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}
            unread = still
        return merged(found.values(), lambda item: str(item["list_sk"]), limit=limit, newest_first=True)

    def lookup(self, text: str) -> list[str]:
        """The ids of the orders whose provider reference, or one of whose refunds' ids, is `text`
        (at most MAX_MATCHES; one Query per shard, side by side)."""
        requests = [
            {
                "IndexName": LOOKUP_INDEX,
                "KeyConditionExpression": "lookup_pk = :pk AND lookup_key = :q",
                "ExpressionAttributeValues": {":pk": {"S": shard}, ":q": {"S": text}},
                "Limit": MAX_MATCHES,
            }
            for shard in every_shard(LOOKUP_PK)
        ]
        order_ids = [
            item["order_id"]["S"]
            for page in self.table.query_each(requests)
            for item in page.get("Items", [])
        ]
        return list(dict.fromkeys(order_ids))[:MAX_MATCHES]


def _shard_request(
    index: str, key_name: str, shard: str, low: str, high: str, limit: int, residual: OrderFilter | None
) -> dict[str, Any]:
    """The Query of one shard's newest items in [low, high], filtered in the query by `residual` when
    the index does not key on everything."""
    request: dict[str, Any] = {
        "IndexName": index,
        "KeyConditionExpression": "#pk = :pk AND list_sk BETWEEN :low AND :high",
        "ExpressionAttributeNames": {"#pk": key_name},
        "ExpressionAttributeValues": {":pk": {"S": shard}, ":low": {"S": low}, ":high": {"S": high}},
        "ScanIndexForward": False,
        "Limit": limit + 1,  # BETWEEN includes the cursor itself
    }
    if residual is not None:
        request["Limit"] = FILTERED_PAGE
        _add_filter(request, residual)
    return request


def _add_filter(request: dict[str, Any], filters: OrderFilter) -> None:
    names: dict[str, str] = request["ExpressionAttributeNames"]
    values: dict[str, Any] = request["ExpressionAttributeValues"]
    conditions = []
    if filters.flag is not None and filters.flag != ANY_FLAG:
        names["#flags"] = "flags"
        values[":flag"] = {"S": filters.flag}
        conditions.append("contains(#flags, :flag)")
    if filters.status is not None:
        names["#status"] = "status"
        values[":status"] = {"S": filters.status}
        conditions.append("#status = :status")
    if filters.provider is not None:
        names["#provider"] = "provider"
        values[":provider"] = {"S": filters.provider}
        conditions.append("#provider = :provider")
    if conditions:
        request["FilterExpression"] = " AND ".join(conditions)
