"""Informational: merchant events through the local stack's pipeline (orders table stream -> publish
function -> webhook queue -> webhook function -> the merchant's endpoint): the time from a change's
commit to its webhook being received (p50, p99), and events per second delivered while a burst of
changes (orders created and paid by WORKERS clients at once) drains. The receiver is ours, on
loopback, answering 200 at once.

The local stack polls the stream and the queue every half second (local/stack.py, EventSourcePumps),
so the latency is mostly that polling: Lambda's event source mappings poll continuously."""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from bench.local_stack import create_and_pay, running_stack
from local.testing import kits

ORDERS = int(os.environ.get("BENCH_EVENT_ORDERS", "100"))  # the burst; two events each: pending, paid
QUIET_ORDERS = int(os.environ.get("BENCH_EVENT_QUIET_ORDERS", "25"))  # one at a time, for the latency
WORKERS = 8  # the burst's changes come from this many clients at once
TIME_LIMIT_S = 180


class Receiver:
    """The merchant's endpoint: the time each event id first arrived, and its created_at."""

    def __init__(self) -> None:
        self.arrived: dict[str, tuple[float, str]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.time()
                event = json.loads(body)
                with receiver.lock:
                    receiver.arrived.setdefault(str(event["id"]), (now, str(event["created_at"])))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def count(self) -> int:
        with self.lock:
            return len(self.arrived)

    def wait_for(self, events: int, seconds: float) -> None:
        """Until `events` distinct events have arrived, or `seconds` have passed."""
        deadline = time.monotonic() + seconds
        while self.count() < events and time.monotonic() < deadline:
            time.sleep(0.01)

    def latencies(self, since: float = 0.0) -> list[float]:
        """Seconds from each event's commit (its created_at) to its arrival, for commits since `since`."""
        with self.lock:
            arrivals = list(self.arrived.values())
        commits = [(arrived, datetime.fromisoformat(created).timestamp()) for arrived, created in arrivals]
        return [arrived - commit for arrived, commit in commits if commit >= since]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def commit_to_webhook() -> dict[str, Any]:
    receiver = Receiver()
    providers = sorted(kits())
    try:
        with running_stack(
            "--in-process", "--schedule-every", "0", "--webhook-url", receiver.url, handler_output=False
        ) as stack:

            def change(i: int) -> None:  # an order created (order.pending), then paid (order.paid)
                create_and_pay(requests.Session(), stack, providers[i % len(providers)], f"ev-{i}")

            # 1. One order at a time, each waited for: the latency of a change on a quiet pipeline.
            for i in range(QUIET_ORDERS):
                change(i)
                receiver.wait_for(2 * (i + 1), 30)
            quiet = receiver.latencies()
            # 2. A burst from WORKERS clients: events per second while it drains, and the latency then.
            started = time.time()
            with ThreadPoolExecutor(WORKERS) as pool:
                list(pool.map(change, range(QUIET_ORDERS, QUIET_ORDERS + ORDERS)))
            committed = time.time()
            expected = 2 * (QUIET_ORDERS + ORDERS)
            receiver.wait_for(expected, TIME_LIMIT_S - (committed - started))
    finally:
        receiver.server.shutdown()
    burst = receiver.latencies(since=started)
    last = max((arrived for arrived, _ in receiver.arrived.values()), default=started)
    return {
        "quiet_orders": QUIET_ORDERS,
        "p50_ms": percentile(quiet, 0.5) * 1000 if quiet else None,
        "p99_ms": percentile(quiet, 0.99) * 1000 if quiet else None,
        "events": receiver.count(),
        "expected": expected,
        "orders": ORDERS,
        "per_second": len(burst) / (last - started) if burst else 0.0,
        "seconds": last - started,
        "burst_seconds": committed - started,
        "burst_p50_ms": percentile(burst, 0.5) * 1000 if burst else None,
        "burst_p99_ms": percentile(burst, 0.99) * 1000 if burst else None,
        "workers": WORKERS,
        "note": "in-process local stack, every provider in turn, stream and queue polled every 0.5 s;"
        " receiver answers 200",
    }
