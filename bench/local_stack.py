"""The local stack as the bench drives it: `python -m local.stack` in a process of its own on a free
port, read once it has written its state file (API, key, sandboxes), stopped at the end; and an
order created and paid through it as a shop and a payer would."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from local.testing import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RunningStack:
    pid: int
    api: str
    api_key: str
    sandboxes: dict[str, str]  # each provider's sandbox URL
    moto: str  # the moto server's URL


@contextmanager
def running_stack(*flags: str, handler_output: bool = True) -> Iterator[RunningStack]:
    """The stack with `flags`; handler_output=False sends the handlers' log and metrics lines
    (written all the same) to /dev/null."""
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
        stdout=None if handler_output else subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not state_file.exists() and time.monotonic() < deadline:
            if stack.poll() is not None:  # it said why on stderr (e.g. no `make build` yet)
                raise SystemExit(f"bench: the local stack ({' '.join(flags) or 'emulator'}) exited")
            time.sleep(0.1)
        state = json.loads(state_file.read_text())
        yield RunningStack(stack.pid, state["api"], state["api_key"], state["sandboxes"], state["moto"])
    finally:
        stack.terminate()
        stack.wait(timeout=20)


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


def create_and_pay(http: requests.Session, stack: RunningStack, provider: str, order_id: str) -> None:
    """The order created through the API, then paid at the provider's sandbox (which notifies us)."""
    http.post(
        f"{stack.api}/orders",
        headers={"x-api-key": stack.api_key},
        timeout=30,
        json=order_body(order_id, provider, stack.api),
    ).raise_for_status()
    http.post(f"{stack.sandboxes[provider]}/_control/{order_id}/pay", timeout=30).raise_for_status()
