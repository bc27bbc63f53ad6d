"""Informational: notifications per second through the local stack over HTTP on loopback, from a
bounded load generator (fixed request count, fixed worker count, hard time limit), per provider."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from local.testing import free_port, kits

ROOT = Path(__file__).resolve().parent.parent
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


def order_body(order_id: str, provider: str, api: str) -> dict[str, Any]:
    """10.00 EUR through `provider` (the payer's IP address: some providers require it)."""
    return {
        "order_id": order_id,
        "provider": provider,
        "amount": {"value": 1000, "currency": "EUR"},
        "description": "Tea set",
        "return_url": f"{api}/r",
        "cancel_url": f"{api}/c",
        "customer": {"ip_address": "203.0.113.7"},
    }


def _run(flags: list[str], provider: str) -> dict[str, Any]:
    state_file = Path(tempfile.mkdtemp()) / "state.json"
    stack = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.stack",
            "--quiet",
            "--port",
            str(free_port()),
            "--state-file",
            str(state_file),
            *flags,
        ],
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while not state_file.exists() and time.monotonic() < deadline:
            if stack.poll() is not None:  # it said why on stderr (e.g. no `make build` yet)
                raise SystemExit(f"bench: the local stack ({' '.join(flags) or 'emulator'}) exited")
            time.sleep(0.1)
        state = json.loads(state_file.read_text())
        return _deliveries(state["api"], state["api_key"], state["sandboxes"][provider], provider)
    finally:
        stack.terminate()
        stack.wait(timeout=20)


def _deliveries(api: str, key: str, sandbox: str, provider: str) -> dict[str, Any]:
    """ORDERS orders paid at the provider's sandbox, then DELIVERIES redeliveries of their notifications."""
    http = requests.Session()
    for i in range(ORDERS):
        order_id = f"tp-{provider}-{i}"
        http.post(
            f"{api}/orders", headers={"x-api-key": key}, timeout=30, json=order_body(order_id, provider, api)
        ).raise_for_status()
        http.post(f"{sandbox}/_control/{order_id}/pay", timeout=30).raise_for_status()  # repeats: duplicates
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
