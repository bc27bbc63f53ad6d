"""Reconciliation's cost, measured as bench/requests_cost.py measures a request (same meter: our CPU
with moto's and the sandboxes' time taken out, every call counted in order).

Per checked item: a scheduled run that takes up one item (RECONCILE_MAX_ITEMS=1), so a row's calls are
the run's due-index Query, then the item's own reads, lease, provider call and write — for an order
paid at the provider whose notification was dropped, and for a refund in flight whose result
notification was dropped. Then one run over many due items (orders of every provider, half paid
at the provider without a notification): its wall time and items per second against moto and the
in-process sandboxes.

`python -m bench.reconcile_cost` runs these rows alone and prints them.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.providers import ProviderCase, first_variants
from bench.requests_cost import (
    BATCH,
    METER,
    READS,
    WRITES,
    Harness,
    _fresh_table,
    _merge,
    harness,
    notification_event,
)
from local.testing import FakeContext, environment, proxy_event

LATER = timedelta(minutes=3)  # past every item's first check (2 minutes after it was made)
_RUNS = itertools.count()
RUN_TIMEOUT_S = 900.0
PAID = "reconcile: paid, notification lost"
REFUND = "reconcile: refund in flight, result lost"


def reconcile_cost() -> dict[str, Any]:
    items = int(os.environ.get("BENCH_REQUESTS", "1000"))
    run_items = int(os.environ.get("BENCH_RECONCILE_RUN_ITEMS", "1000"))
    results: dict[str, Any] = {"per_item": {}}
    with harness() as bench:
        for provider in first_variants():  # every provider, in its first variant
            bench.use(provider)
            for case in (PAID, REFUND):
                rows = []
                for start in range(0, items, BATCH):
                    tag = "paid" if case == PAID else "refund"
                    ids = [f"{tag}-{provider.label}-{i}" for i in range(start, min(items, start + BATCH))]
                    rows.append(_per_item(bench, provider, case, ids))
                results["per_item"][f"{case} [{provider.label}]"] = _merge(rows)
            print(f"  {provider.label}: done", file=sys.stderr, flush=True)
        results["run"] = _one_run(bench, run_items)
    return results


# -- setting items up through the real handlers ----------------------------------------------------
def _api(bench: Harness, function: str, method: str, path: str, resource: str, body: Any = None) -> Any:
    handler = bench.functions[function]
    event = proxy_event(
        method=method,
        path=path,
        resource=resource,
        path_parameters={"order_id": path.split("/")[2]} if "{order_id}" in resource else None,
        headers=[("Content-Type", "application/json"), ("x-api-key", "k")],
        body=json.dumps(body).encode() if body is not None else None,
    )
    with environment(handler.env, handler.drop):
        return handler.handler(event, FakeContext(function))


def _create(bench: Harness, provider: ProviderCase, order_id: str) -> None:
    body = {
        "order_id": order_id,
        "provider": provider.kit.name,
        "amount": {"value": 1000, "currency": "EUR"},
        "description": "Tea set",
        "return_url": "https://shop.example.com/r",
        "cancel_url": "https://shop.example.com/c",
        "customer": {"ip_address": "203.0.113.7", "email": "mei@example.com"},
    }
    reply = _api(bench, "CreateOrderFunction", "POST", "/orders", "/orders", body)
    if reply["statusCode"] != 201:
        raise RuntimeError(f"create {order_id}: {reply['statusCode']} {reply.get('body')}")


def _paid_notified(bench: Harness, provider: ProviderCase, order_id: str) -> None:
    handler = bench.functions["NotifyFunction"]
    event = notification_event(bench, provider.kit.name, order_id)
    with environment(handler.env, handler.drop):
        reply = handler.handler(event, FakeContext("NotifyFunction"))
    if reply["statusCode"] != 200:
        raise RuntimeError(f"notify {order_id}: {reply['statusCode']}")


def _refund_result_lost(bench: Harness, provider: ProviderCase, order_id: str) -> None:
    """A paid order's refund, accepted (pending; Alipay: its answer unknown), then made at the
    provider with its notification dropped."""
    box = _box(bench, provider)
    _paid_notified(bench, provider, order_id)
    box.hold_refunds(order_id)
    refund = {"refund_id": "r-1", "amount": {"value": 400, "currency": "EUR"}}
    path = f"/orders/{order_id}/refunds"
    reply = _api(bench, "OrderActionsFunction", "POST", path, "/orders/{order_id}/refunds", refund)
    if reply["statusCode"] not in (201, 502):  # 502: Alipay answered U, the outcome unknown
        raise RuntimeError(f"refund {order_id}: {reply['statusCode']} {reply.get('body')}")
    box.drop_next_notification(order_id)
    box.release_refunds(order_id)


def _box(bench: Harness, provider: ProviderCase) -> Any:
    return bench.current[provider.kit.name]


def _drain(bench: Harness) -> None:
    for box in bench.boxes.values():  # what the providers sent on their own: not delivered here
        box.take_notifications()


# -- per checked item ------------------------------------------------------------------------------
def _per_item(bench: Harness, provider: ProviderCase, case: str, order_ids: list[str]) -> dict[str, Any]:
    _fresh_table(bench.envs["ReconcileFunction"]["ORDERS_TABLE_NAME"])
    for order_id in order_ids:
        _create(bench, provider, order_id)
        if case == PAID:
            _box(bench, provider).pay_silently(order_id)
        else:
            _refund_result_lost(bench, provider, order_id)
    _drain(bench)
    cpu, botocore, calls, sequences = [], [], [], []
    for order_id in order_ids:
        report, spent = _reconcile(bench, max_items=1)
        if (report["checked"], report["changed"]) != (1, 1):
            raise RuntimeError(f"{case} [{provider.label}] {order_id}: {report}")
        cpu.append(spent * 1000)
        botocore.append(METER.botocore * 1000)
        calls.append(Counter(METER.calls))
        sequences.append(list(METER.sequence))
    return {"cpu": cpu, "botocore": botocore, "calls": calls, "sequences": sequences}


def _reconcile(
    bench: Harness, max_items: int, timeout_s: float | None = None
) -> tuple[dict[str, Any], float]:
    """One scheduled run, its clock moved past the items' first check: its report and our CPU.
    `timeout_s`: the context's time (the function's own Timeout unless given)."""
    function = bench.functions["ReconcileFunction"]
    later = datetime.now(UTC) + LATER
    function.module.service.clock = lambda: later
    function.module.MAX_ITEMS = max_items
    with environment(function.env, function.drop):
        METER.reset()
        started = time.process_time()
        report = function.handler(
            {"source": "aws.scheduler", "detail-type": "Scheduled Event"},
            FakeContext("ReconcileFunction", timeout_s=timeout_s or function.spec.timeout_s),
        )
        spent = time.process_time() - started - METER.outside
    return report, spent


# -- one run over many due items -------------------------------------------------------------------
class _NoTableSnapshot:
    """moto.dynamodb's `copy`, except that a whole table is not deep-copied: moto keeps such a copy
    of every table a transaction writes, once per item of the transaction, to roll a failed one back
    — O(table) per transaction (0.4 s per commit at 30 orders here), which would make the row measure
    moto's copying. None of this row's transactions fails: `_one_run` checks that."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


@contextmanager
def _without_table_snapshots() -> Iterator[list[str]]:
    from moto.dynamodb import models

    failed: list[str] = []
    real_transact = models.DynamoDBBackend.transact_write_items

    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        try:
            real_transact(self, transact_items)
        except Exception as error:  # noted: the row then reports nothing
            failed.append(type(error).__name__)
            raise

    setattr(models, "copy", _NoTableSnapshot)  # noqa: B010 - moto does not export it
    models.DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
    try:
        yield failed
    finally:
        setattr(models, "copy", copy)  # noqa: B010
        models.DynamoDBBackend.transact_write_items = real_transact  # type: ignore[method-assign]


def _one_run(bench: Harness, items: int) -> dict[str, Any]:
    with _without_table_snapshots() as failed:
        figures = _timed_run(bench, items)
    if failed:
        raise RuntimeError(f"a transaction failed while moto kept no snapshot: {failed}")
    return figures


def _timed_run(bench: Harness, items: int) -> dict[str, Any]:
    _fresh_table(bench.envs["ReconcileFunction"]["ORDERS_TABLE_NAME"])
    paid = 0
    providers = first_variants()
    for provider in providers:
        bench.use(provider)
    for index in range(items):
        provider = providers[index % len(providers)]
        order_id = f"run-{next(_RUNS)}"  # unique at the sandboxes, which outlive the table
        _create(bench, provider, order_id)
        if index % 2 == 0:
            _box(bench, provider).pay_silently(order_id)
            paid += 1
    _drain(bench)
    wall = time.perf_counter()
    # Lambda's longest timeout, so that the run sees every item through moto, whose Query sorts and
    # serialises in Python (its share is `outside_s`), on a shared machine.
    report, ours = _reconcile(bench, max_items=items, timeout_s=RUN_TIMEOUT_S)
    wall = time.perf_counter() - wall
    checked = int(report["checked"])
    if report["changed"] != paid or report["provider_errors"] or report["skipped"]:
        raise RuntimeError(f"the run over {items} items: {report}")
    return {
        "due_items": items,
        "providers": len(providers),
        "checked": checked,
        "changed": report["changed"],
        "paid_at_provider": paid,
        "stopped_early": report["stopped_early"],
        "wall_s": wall,
        "items_per_s": checked / wall if wall else 0.0,
        "our_cpu_s": ours,
        "our_cpu_ms_per_item": ours * 1000 / checked if checked else 0.0,
        "outside_s": METER.outside,  # moto's and the sandboxes' share of the wall time
        "dynamodb_reads": sum(METER.calls[k] for k in READS),
        "dynamodb_writes": sum(METER.calls[k] for k in WRITES),
        "provider_calls": METER.calls["provider"],
        "scans": METER.calls["aws:Scan"],
    }


def render(results: dict[str, Any]) -> list[str]:
    """Section 7 of the bench table."""
    lines = [
        "",
        "7. Reconciliation: per checked item (a run of one item: its first Query, of the due index, is the"
        " run's), and one run",
        f"   {'case':56}{'p50 ms':>8}{'p99 ms':>8}{'ddb r':>6}{'ddb w':>6}{'prov':>5}  calls, in order",
    ]
    for case, row in results["per_item"].items():
        share = row.get("sequence_share", 1.0)
        calls = row["sequence"] + ("" if share >= 1.0 else f" ({share:.1%})")
        lines.append(
            f"   {case:56}{row['p50_ms']:8.2f}{row['p99_ms']:8.2f}{row['dynamodb_reads']:6.1f}"
            f"{row['dynamodb_writes']:6.1f}{row['provider_calls']:5.1f}  {calls}"
        )
    run = results["run"]
    lines.append(
        f"   one run over {run['due_items']} due items ({run.get('providers', 3)} providers, "
        f"{run['paid_at_provider']} paid at the provider unnotified): {run['checked']} checked, "
        f"{run['changed']} changed in {run['wall_s']:.1f} s "
        f"= {run['items_per_s']:.1f} items/s;",
    )
    lines.append(
        f"   of which moto and the sandboxes {run['outside_s']:.1f} s CPU, ours {run['our_cpu_s']:.1f} s "
        f"({run['our_cpu_ms_per_item']:.2f} ms/item); {run['dynamodb_reads']} reads, "
        f"{run['dynamodb_writes']} writes, {run['scans']} scans"
        + ("; STOPPED EARLY" if run["stopped_early"] else "")
    )
    return lines


if __name__ == "__main__":
    from bench.run import _reconciliation_quietly

    print("\n".join(render(_reconciliation_quietly())))
