"""The orders repository: an order, its refund ledger and its audit history, read and changed only in
the ways the service needs (keys and item shapes: payments/store/order_items.py).

Every change to an order is one transaction (`commit`): the order conditional on the version read,
each refund it touches conditional on its own version, and the audit events explaining the change.
So there is never a state change without its event, nor a lost update. Leases and reconciliation's
check counts are single conditional updates beside it.
"""

from __future__ import annotations

from dataclasses import field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from payments.clock import iso, utc_now
from payments.errors import ConcurrentUpdateError, StoreUnavailable
from payments.facts import RefundStatus
from payments.ledger import Refund
from payments.orders import Order, OrderEvent, OrderStatus
from payments.records import frozen
from payments.schedule import due_partition, due_partitions, schedule_spent
from payments.store.order_items import (
    DUE_INDEX,
    EVENT_PREFIX,
    ORDER_PREFIX,
    ORDER_SK,
    REFUND_PREFIX,
    as_stored,
    event_from_item,
    event_item,
    event_sk,
    order_due_at,
    order_from_item,
    order_item,
    order_key,
    order_pk,
    refund_due_at,
    refund_from_item,
    refund_item,
    refund_key,
)
from payments.store.order_listing import listing_attributes
from payments.store.shards import merged
from payments.store.table import TableStore, deserialize, serialize

if TYPE_CHECKING:
    from payments.engine import Plan

EVENTS_PAGE = 50  # newest events a read returns; older ones through the cursor
MAX_REFUNDS_READ = 200

# Order attributes a commit may change, besides status, version, updated_at and event_seq.
_CHANGEABLE = (
    "payment_url",
    "payment_action",
    "provider_reference",
    "provider_status",
    "refunded_value",
    "reserved_value",
    "flags",
    "ignored_reports",
    "checks",
    "amount_confirmed",
    "watch_until",
)


def _not_the_last(checks: int) -> None:
    """A bare check count never takes an item off the due index: the check that spends the schedule
    goes through the engine, which flags the order `needs_attention` with its event and metric."""
    if schedule_spent(checks):
        raise ValueError("the last scheduled check is recorded with its needs_attention flag, not here")


@frozen
class OrderPage:
    """What GET /orders/{id} shows: the order, its refunds, and a bounded page of its newest events."""

    order: Order
    refunds: list[Refund]
    events: list[OrderEvent]  # oldest first within the page
    older_events_cursor: int | None  # pass as `events_before` for the page before this one


@frozen
class DueItem:
    """Open work, as the due index lists it."""

    order_id: str
    refund_id: str | None  # None: the order itself
    provider: str
    due_at: str


@frozen
class DueCursor:
    """Where a reconciler's read of the due index stands: for each shard not yet read to its end, the
    last item taken from it (None: none yet)."""

    shards: dict[str, DueItem | None] = field(default_factory=dict)


@frozen
class DuePage:
    """A page of the reconciler's due items, and where the next page starts."""

    items: list[DueItem]
    cursor: DueCursor | None  # None: every shard read to its end


def _due_item(raw: dict[str, Any]) -> DueItem:
    item = deserialize(raw)
    sort_key = item["sk"]
    return DueItem(
        order_id=item["pk"].removeprefix(ORDER_PREFIX),
        refund_id=sort_key.removeprefix(REFUND_PREFIX) if sort_key.startswith(REFUND_PREFIX) else None,
        provider=item.get("provider", ""),
        due_at=item["due_at"],
    )


class OrdersStore(TableStore):
    """The orders repository: orders, their refunds and audit events, their leases and the due index."""

    # -- reads ---------------------------------------------------------------------------------
    def get(self, order_id: str) -> Order | None:
        """The order item alone. A Query on its key, like every read here: the functions need only
        dynamodb:Query."""
        page = self.table.call(
            "query",
            KeyConditionExpression="pk = :pk AND sk = :order",
            ExpressionAttributeValues={":pk": {"S": order_pk(order_id)}, ":order": {"S": ORDER_SK}},
            ConsistentRead=True,
        )
        items = page.get("Items") or []
        return order_from_item(items[0]) if items else None

    def get_with_refunds(self, order_id: str) -> tuple[Order, list[Refund]] | None:
        """The order and its refund ledger in one consistent Query (`sk >= ORDER`: the order item,
        then the REFUND# items; events sort before both)."""
        items = self.table.query_all(
            MAX_REFUNDS_READ,
            KeyConditionExpression="pk = :pk AND sk >= :order",
            ExpressionAttributeValues={":pk": {"S": order_pk(order_id)}, ":order": {"S": ORDER_SK}},
            ConsistentRead=True,
        )
        order: Order | None = None
        refunds: list[Refund] = []
        for item in items:
            sort_key = item["sk"]["S"]
            if sort_key == ORDER_SK:
                order = order_from_item(item)
            elif sort_key.startswith(REFUND_PREFIX):
                refunds.append(refund_from_item(item))
        if order is None:
            return None
        return order, sorted(refunds, key=lambda refund: (refund.created_at, refund.refund_id))

    def read_page(
        self, order_id: str, *, events_before: int | None = None, limit: int = EVENTS_PAGE
    ) -> OrderPage | None:
        """The order, its refunds and its newest `limit` events (older than `events_before` when given).
        Two bounded Queries, however long the history: a flooded order reads as fast as any other."""
        found = self.get_with_refunds(order_id)
        if found is None:
            return None
        order, refunds = found
        upper = event_sk(events_before - 1) if events_before is not None else f"{EVENT_PREFIX}~"
        page = self.table.call(
            "query",
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": order_pk(order_id)},
                ":low": {"S": EVENT_PREFIX},
                ":high": {"S": upper},
            },
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        events = [event_from_item(item) for item in reversed(page.get("Items", []))]
        oldest = events[0].seq if events else None
        cursor = oldest if oldest is not None and oldest > 1 and len(events) == limit else None
        return OrderPage(order, refunds, events, cursor)

    def newest_event_items(self, order_id: str, limit: int) -> tuple[list[dict[str, Any]], bool] | None:
        """The order's newest `limit` audit event items as stored (as the stream carried them to the
        publisher), oldest first, and whether older ones exist; None when there is no such order. One
        Query from the order item down (events sort before it), paged only past DynamoDB's 1 MB."""
        items = self.table.query_all(
            limit + 1,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :order",
            ExpressionAttributeValues={
                ":pk": {"S": order_pk(order_id)},
                ":low": {"S": EVENT_PREFIX},
                ":order": {"S": ORDER_SK},
            },
            ScanIndexForward=False,
            Limit=limit + 2,  # the order item, `limit` events, and one to tell whether there are more
            ConsistentRead=True,
        )
        if not items or items[0]["sk"]["S"] != ORDER_SK:
            return None
        events = items[1:]
        return list(reversed(events[:limit])), len(events) > limit

    def due_items(self, now: datetime, limit: int, after: DueCursor | None = None) -> DuePage:
        """At most `limit` items of the open work due by `now`, oldest due first: a Query of each shard of
        the sparse index still unread (never a scan), each for its share of `limit`, merged by due_at.
        `after`: the cursor of the page before. A shard with a long backlog is read a share at a time,
        so every other shard's oldest work is on the first page; a shard read to its end drops out and
        its share goes to the others. The shards' Queries go side by side (Table.query_each)."""
        shards = dict(after.shards) if after is not None else dict.fromkeys(due_partitions())
        share = -(-limit // len(shards))  # ceil: a page reads at most limit + len(shards) - 1 entries
        requests: list[dict[str, Any]] = []
        for partition, last in shards.items():
            request: dict[str, Any] = {
                "IndexName": DUE_INDEX,
                "KeyConditionExpression": "due_pk = :due AND due_at <= :now",
                "ExpressionAttributeValues": {":due": {"S": partition}, ":now": {"S": iso(now)}},
                "Limit": share,
            }
            if last is not None:
                sort_key = f"{REFUND_PREFIX}{last.refund_id}" if last.refund_id is not None else ORDER_SK
                request["ExclusiveStartKey"] = {
                    **order_key(last.order_id),
                    "sk": {"S": sort_key},
                    "due_pk": {"S": partition},
                    "due_at": {"S": last.due_at},
                }
            requests.append(request)
        read: dict[str, list[DueItem]] = {}
        finished: set[str] = set()
        for partition, page in zip(shards, self.table.query_each(requests), strict=True):
            read[partition] = [_due_item(raw) for raw in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                finished.add(partition)
        # Ties on due_at go round the shards (each shard's first item, then each one's second, …), so
        # no shard waits behind the others' equally old work.
        taken = merged(
            (
                [(item, position, partition) for position, item in enumerate(items)]
                for partition, items in read.items()
            ),
            lambda entry: f"{entry[0].due_at}#{entry[1]:06d}",  # due_at: fixed width (clock.iso)
            limit=limit,
        )
        for item, _, partition in taken:
            shards[partition] = item
        left = {
            partition: last
            for partition, last in shards.items()
            if partition not in finished or (read[partition] and shards[partition] != read[partition][-1])
        }
        return DuePage([item for item, _, _ in taken], DueCursor(left) if left else None)

    def record_check(self, order: Order) -> bool:
        """Reconciliation asked the provider and nothing changed: count the check (so the next one
        comes later) and give back the lease. Conditional on the version read; False if it moved."""
        checked = replace(order, checks=order.checks + 1)
        _not_the_last(checked.checks)
        due = order_due_at(checked)
        expression = "SET checks = :checks REMOVE lease_until"
        values: dict[str, Any] = {":checks": {"N": str(checked.checks)}, ":read": {"N": str(order.version)}}
        if due is None:
            expression += ", due_pk, due_at"
        else:
            expression = "SET checks = :checks, due_pk = :due_pk, due_at = :due_at REMOVE lease_until"
            values[":due_pk"], values[":due_at"] = {"S": due_partition(order.order_id)}, {"S": due}
        return self._conditional_update(order_key(order.order_id), expression, "#version = :read", values)

    def record_refund_check(self, refund: Refund) -> bool:
        """The same for a refund: counted, pushed back, lease given back (its version bumped)."""
        checked = replace(refund, checks=refund.checks + 1)
        _not_the_last(checked.checks)
        due = refund_due_at(checked)
        values: dict[str, Any] = {
            ":checks": {"N": str(checked.checks)},
            ":read": {"N": str(refund.version)},
            ":next": {"N": str(refund.version + 1)},
        }
        if due is None:
            expression = "SET checks = :checks, #version = :next REMOVE lease_until, due_pk, due_at"
        else:
            expression = (
                "SET checks = :checks, #version = :next, due_pk = :due_pk, due_at = :due_at"
                " REMOVE lease_until"
            )
            values[":due_pk"], values[":due_at"] = {"S": due_partition(refund.order_id)}, {"S": due}
        return self._conditional_update(refund_key(refund), expression, "#version = :read", values)

    # -- writes --------------------------------------------------------------------------------
    def create(self, order: Order, event: OrderEvent) -> Order | None:
        """Store a new order with its first event. Returns the existing order if the id is taken."""
        first = replace(event, seq=1)
        stored = replace(order, event_seq=1)
        try:
            self.table.transact(
                [
                    {
                        "Put": {
                            "Item": order_item(stored),
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {"Put": self._event_put(order.order_id, first, stored)},
                ]
            )
        except ConcurrentUpdateError as failed:
            existing = failed.args[0] if failed.args and failed.args[0] else None
            if existing:
                return order_from_item(existing)
            found = self.get(order.order_id)
            if found is None:  # the condition failed on something else; should not happen
                raise StoreUnavailable("the order could not be stored; retry") from None
            return found
        return None

    def commit(self, plan: Plan) -> Order:
        """Write a plan: the order (conditional on the version read), the refunds it changed
        (each conditional on its own version, or on not existing yet) and its events, atomically.

        Raises ConcurrentUpdateError when anything moved on since it was read.
        """
        original, order = plan.original, plan.order
        now = plan.now
        events = [
            replace(event, seq=original.event_seq + index) for index, event in enumerate(plan.events, 1)
        ]
        updated = replace(
            order,
            version=original.version + 1,
            updated_at=now,
            event_seq=original.event_seq + len(events),
            lease_until=None if plan.release_lease else original.lease_until,
        )
        names = {"#status": "status", "#version": "version", "#updated_at": "updated_at", "#seq": "event_seq"}
        values: dict[str, Any] = {
            ":status": str(updated.status),
            ":next": updated.version,
            ":read": original.version,
            ":updated_at": now,
            ":seq": updated.event_seq,
        }
        assignments = ["#status = :status", "#version = :next", "#updated_at = :updated_at", "#seq = :seq"]
        removals = []
        # The changed fields, and the operator's index attributes that follow the status, flags and
        # provider reference (payments/store/order_listing.py), in the same write.
        changed = [
            (name, as_stored(getattr(updated, name)))
            for name in _CHANGEABLE
            if as_stored(getattr(updated, name)) != as_stored(getattr(original, name))
        ]
        # Every index attribute is written again, not only those that changed: an order stored before
        # the indexes existed is listed from its next change on (the indexes are rewritten on every
        # commit anyway: updated_at, which they project, always changes).
        listed_before = listing_attributes(original)
        changed += [
            (name, value)
            for name, value in listing_attributes(updated).items()
            if value is not None or listed_before[name] is not None
        ]
        for index, (name, value) in enumerate(changed):
            names[f"#f{index}"] = name
            if value is None:
                removals.append(f"#f{index}")
            else:
                values[f":f{index}"] = value
                assignments.append(f"#f{index} = :f{index}")
        due_before, due_after = order_due_at(original), order_due_at(updated)
        if due_after != due_before:
            names["#due_pk"], names["#due_at"] = "due_pk", "due_at"
            if due_after is None:
                removals.extend(["#due_pk", "#due_at"])
            else:
                values[":due_pk"], values[":due_at"] = due_partition(order.order_id), due_after
                assignments.extend(["#due_pk = :due_pk", "#due_at = :due_at"])
        if plan.release_lease:
            names["#lease"] = "lease_until"
            removals.append("#lease")
        expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "Key": order_key(order.order_id),
                    "UpdateExpression": expression,
                    "ConditionExpression": "#version = :read",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": serialize(values),
                }
            }
        ]
        for refund in plan.changed_refunds:
            before = plan.original_refunds.get(refund.refund_id)
            written = replace(refund, version=(before.version + 1) if before else 1)
            put: dict[str, Any] = {
                "Item": refund_item(written, order.provider),
            }
            if before is None:
                put["ConditionExpression"] = "attribute_not_exists(sk)"
            else:
                put["ConditionExpression"] = "#version = :read"
                put["ExpressionAttributeNames"] = {"#version": "version"}
                put["ExpressionAttributeValues"] = {":read": {"N": str(before.version)}}
            items.append({"Put": put})
        items.extend({"Put": self._event_put(order.order_id, event, updated)} for event in events)
        self.table.transact(items)
        return updated

    def acquire_lease(
        self, order_id: str, statuses: frozenset[OrderStatus], now: int, until: int
    ) -> Order | None:
        """Become the one request talking to the provider about an order in one of `statuses` until
        `until` (epoch seconds): the order as leased. None when another request holds an unexpired
        lease, or the order is no longer in those statuses. The lease is not a change of the order: no
        version, no event; a caller whose earlier read has the same version need not read again."""
        status_values = {f":s{index}": {"S": str(status)} for index, status in enumerate(sorted(statuses))}
        leased = self.table.conditional(
            "update_item",
            Key=order_key(order_id),
            UpdateExpression="SET lease_until = :until",
            ConditionExpression=(
                f"#status IN ({', '.join(status_values)}) "
                "AND (attribute_not_exists(lease_until) OR lease_until < :now)"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":until": {"N": str(until)},
                ":now": {"N": str(now)},
                **status_values,
            },
            ReturnValues="ALL_NEW",
        )
        return order_from_item(leased["Attributes"]) if leased is not None else None

    def acquire_refund_lease(
        self,
        refund: Refund,
        now: int,
        until: int,
        statuses: frozenset[RefundStatus] = frozenset({RefundStatus.UNKNOWN}),
    ) -> Refund | None:
        """Become the one request resolving a refund whose outcome is unknown. Unlike the order's
        lease this one bumps the refund's version: a commit made on what was read before cannot
        then overwrite it. None when another request holds it or the refund moved on."""
        status_values = {f":s{index}": {"S": str(status)} for index, status in enumerate(sorted(statuses))}
        leased = self.table.conditional(
            "update_item",
            Key=refund_key(refund),
            UpdateExpression="SET lease_until = :until, #version = :next",
            ConditionExpression=(
                f"#version = :read AND #status IN ({', '.join(status_values)}) "
                "AND (attribute_not_exists(lease_until) OR lease_until < :now)"
            ),
            ExpressionAttributeNames={"#version": "version", "#status": "status"},
            ExpressionAttributeValues={
                ":until": {"N": str(until)},
                ":now": {"N": str(now)},
                ":read": {"N": str(refund.version)},
                ":next": {"N": str(refund.version + 1)},
                **status_values,
            },
        )
        return replace(refund, version=refund.version + 1, lease_until=until) if leased is not None else None

    def release_refund_lease(self, refund: Refund) -> None:
        """Give up a refund's lease we hold, when nothing else was committed that would release it."""
        self.table.conditional(
            "update_item",
            Key=refund_key(refund),
            UpdateExpression="REMOVE lease_until SET #version = :next",
            ConditionExpression="#version = :read",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={
                ":read": {"N": str(refund.version)},
                ":next": {"N": str(refund.version + 1)},
            },
        )

    def release_lease(self, order_id: str, until: int) -> None:
        """Give up a lease we hold (when nothing else was committed that would release it)."""
        self.table.conditional(
            "update_item",
            Key=order_key(order_id),
            UpdateExpression="REMOVE lease_until",
            ConditionExpression="lease_until = :until",
            ExpressionAttributeValues={":until": {"N": str(until)}},
        )

    # -- plumbing ------------------------------------------------------------------------------
    def _conditional_update(
        self, key: dict[str, Any], expression: str, condition: str, values: dict[str, Any]
    ) -> bool:
        updated = self.table.conditional(
            "update_item",
            Key=key,
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues=values,
        )
        return updated is not None

    def _event_put(self, order_id: str, event: OrderEvent, order: Order | None = None) -> dict[str, Any]:
        item = event_item(order_id, event, order, recorded_at=iso(utc_now()))
        return {"Item": item, "ConditionExpression": "attribute_not_exists(sk)"}
