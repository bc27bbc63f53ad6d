"""A long `make dev` session's memory: the resident memory of the local stack's own process (the moto
server, the gateway and demo shop, the sandboxes, the stream and queue pollers, the scheduler; the
functions run under the Lambda emulator in processes of their own, as `make dev` runs them) while
ORDERS orders are created and paid through it, read at checkpoints once every order so far has had its
two merchant events (pending, paid) delivered, so the whole pipeline has run for each.

What the stack must keep grows with the orders (every item and stream record moto holds); what it
must not keep is a copy of them per request."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import requests

from bench.local_stack import ROOT, create_and_pay, running_stack
from bench.merchant_events import Receiver
from local.testing import kits

ORDERS = int(os.environ.get("BENCH_DEV_ORDERS", "1000"))
CHECKPOINTS = 4  # memory read after each quarter of the orders
WORKERS = 4  # clients at once: a busy shop, not a load test
DRAIN_LIMIT_S = 120  # for each checkpoint's events to arrive


def _memory_mb(pid: int) -> dict[str, float]:
    """The process's resident memory now and at its peak (Linux: /proc/<pid>/status)."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return {name: int(fields[key].split()[0]) / 1024 for name, key in (("rss", "VmRSS"), ("peak", "VmHWM"))}


def _items_held(moto: str) -> int:
    """Every item in the stack's tables: what moto must keep, whatever else it keeps."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=moto,
        region_name="eu-west-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106  # moto takes any: the stack gives its functions these
    )
    return sum(
        dynamodb.describe_table(TableName=name)["Table"]["ItemCount"]
        for name in dynamodb.list_tables()["TableNames"]
    )


def dev_session_memory() -> dict[str, Any]:
    emulated = (ROOT / ".aws-sam" / "build" / "PaymentsLayer").exists()
    providers = sorted(kits())
    receiver = Receiver()
    checkpoints: list[dict[str, float]] = []
    started = time.monotonic()
    try:
        with running_stack(
            *([] if emulated else ["--in-process"]), "--webhook-url", receiver.url, handler_output=False
        ) as stack:
            checkpoints.append({"orders": 0, **_memory_mb(stack.pid)})

            def order(i: int) -> None:
                create_and_pay(requests.Session(), stack, providers[i % len(providers)], f"dev-{i}")

            step = max(1, ORDERS // CHECKPOINTS)
            with ThreadPoolExecutor(WORKERS) as pool:
                for start in range(0, ORDERS, step):
                    last = min(ORDERS, start + step)
                    list(pool.map(order, range(start, last)))
                    receiver.wait_for(2 * last, DRAIN_LIMIT_S)
                    checkpoints.append({"orders": last, **_memory_mb(stack.pid)})
            items = _items_held(stack.moto)
    finally:
        receiver.server.shutdown()
    # Growth after the first checkpoint: by then every code path has run once (imports, caches).
    warm, final = checkpoints[1], checkpoints[-1]
    per_thousand = (final["rss"] - warm["rss"]) / max(1, final["orders"] - warm["orders"]) * 1000
    return {
        "mode": "emulator" if emulated else "in-process",
        "orders": ORDERS,
        "events": receiver.count(),
        "expected_events": 2 * ORDERS,
        "checkpoints": checkpoints,
        "items_held": items,
        "growth_mb_per_1000_orders": per_thousand,
        "seconds": time.monotonic() - started,
        "workers": WORKERS,
    }
