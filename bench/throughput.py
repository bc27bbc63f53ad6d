"""Informational: notifications per second through the local stack over HTTP on loopback, from a
bounded load generator (fixed request count, fixed worker count, hard time limit), per provider."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.local_stack import ROOT, RunningStack, create_and_pay, running_stack
from local.testing import kits

ORDERS = 40
DELIVERIES = 400
WORKERS = 8
TIME_LIMIT_S = 120


def local_stack_throughput() -> dict[str, Any]:
    results: dict[str, Any] = {}
    modes = {"in-process": ["--in-process"]}
    if (ROOT / ".aws-sam" / "build" / "PaymentsLayer").exists() and (ROOT / ".venv-runtime").exists():
        modes["emulator"] = []
    for mode, flags in modes.items():
        for name in kits():  # a stack of its own for each, as loaded as the next one's
            results[f"{mode} [{name}]"] = _run(flags, name)
    return results


def _run(flags: list[str], provider: str) -> dict[str, Any]:
    with running_stack(*flags) as stack:
        return _deliveries(stack, provider)


def _deliveries(stack: RunningStack, provider: str) -> dict[str, Any]:
    """ORDERS orders paid at the provider's sandbox, then DELIVERIES redeliveries of their notifications."""
    http = requests.Session()
    sandbox = stack.sandboxes[provider]
    for i in range(ORDERS):
        create_and_pay(http, stack, provider, f"tp-{provider}-{i}")  # redelivered below: duplicates
    started = time.monotonic()

    def deliver(i: int) -> int:
        if time.monotonic() - started > TIME_LIMIT_S:
            return 0
        reply = requests.post(f"{sandbox}/_control/tp-{provider}-{i % ORDERS}/redeliver", timeout=30)
        return int(reply.json()["delivered"][0]["status"] == 200)

    with ThreadPoolExecutor(WORKERS) as pool:
        delivered = sum(pool.map(deliver, range(DELIVERIES)))
    elapsed = time.monotonic() - started
    return {
        "notifications": delivered,
        "seconds": elapsed,
        "per_second": delivered / elapsed,
        "workers": WORKERS,
        "note": f"signed {kits()[provider].display_name} notifications (duplicates) sandbox -> gateway",
    }
