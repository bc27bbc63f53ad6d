"""When open work is checked with the provider: soon at first, then spreading out, and an end.

An order that is `created`, `pending` or `unknown`, an order cancelled here while its provider's checkout
(which has no cancel call) may still take a payment (`watch_until`), and a refund that is `pending` or
`unknown`, carry `due_pk`/`due_at` in the orders table: the sparse index `DueIndex` holds exactly those
items, so the reconciler (payments/flows/reconcile.py) finds its work with Queries, never a scan. The store
sets and clears the two attributes in the same writes that change the item (payments/store/orders.py).
`due_pk` is one of SHARD_COUNT shards, from the order's id (a refund's too: an order's work stays
together), so no index partition takes every order's writes (payments/store/shards.py).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from payments.store.shards import every_shard, sharded

DUE_PREFIX = "DUE"  # the index's partition key values: DUE#<shard>, due work ordered by due_at
# The one partition key value before the index was sharded: still read until it drains (every write
# that moves an item's due_at moves it to its shard, and no item stays due past the 7-day schedule).
LEGACY_DUE_PARTITION = "due"
# Offsets from an item's creation of its successive checks: 2 min, 10 min, 30 min, 2 h, 6 h, then daily.
CHECK_OFFSETS = (
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    *(timedelta(days=day) for day in range(1, 8)),
)
GIVE_UP_AFTER = timedelta(days=7)  # still unresolved: flagged needs_attention, checks stop
# Compresses the schedule for the local stack's end-to-end tests (0.01: the first check after 1.2 s).
# Never set in template.yaml: deployed, the schedule is the one above.
SCALE = float(os.environ.get("RECONCILE_SCHEDULE_SCALE") or 1)


def due_partition(order_id: str) -> str:
    """The due index's partition key value for an order's items, the order's and its refunds'."""
    return sharded(DUE_PREFIX, order_id)


def due_partitions() -> list[str]:
    """Every partition key value of the due index a reconciler reads."""
    return [*every_shard(DUE_PREFIX), LEGACY_DUE_PARTITION]


def next_check(created_at: str, checks_done: int) -> datetime | None:
    """When an item created at `created_at`, checked `checks_done` times, is next due; None once the
    schedule is spent (then it needs a person)."""
    if checks_done >= len(CHECK_OFFSETS):
        return None
    return datetime.fromisoformat(created_at) + CHECK_OFFSETS[checks_done] * SCALE


def next_watch_check(created_at: str, checks_done: int, watch_until: str) -> datetime | None:
    """The same schedule for an order watched until `watch_until` (its provider's checkout has surely
    closed then), with one last check at that time; None once that check is done."""
    created, until = datetime.fromisoformat(created_at), datetime.fromisoformat(watch_until)
    done = min(checks_done, len(CHECK_OFFSETS))
    last_done = created + CHECK_OFFSETS[done - 1] * SCALE if done else created
    if last_done >= until:
        return None
    due = next_check(created_at, checks_done)
    return until if due is None or due > until else due


def schedule_spent(checks_done: int) -> bool:
    return checks_done >= len(CHECK_OFFSETS)
