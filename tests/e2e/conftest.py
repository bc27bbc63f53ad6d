"""The local stack as a separate process, driven over real HTTP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from local.testing import ROOT, free_port


@dataclass
class LocalStack:
    api: str
    api_key: str
    sandboxes: dict[str, str]
    mode: str
    http: requests.Session
    pid: int  # the stack's process
    moto: str  # the stack's moto server (its AWS endpoint)

    def create(self, order_id: str, provider: str, **overrides: Any) -> requests.Response:
        body = {
            "order_id": order_id,
            "provider": provider,
            "amount": {"value": 1000, "currency": "EUR"},
            "description": "Tea set",
            "return_url": f"{self.api}/shop/return?order_id={order_id}",
            "cancel_url": f"{self.api}/shop/return?order_id={order_id}&cancelled=1",
            "customer": {"ip_address": "127.0.0.1", "locale": "zh_CN"},
            **overrides,
        }
        return self.http.post(
            f"{self.api}/orders", json=body, headers={"x-api-key": self.api_key}, timeout=60
        )

    def order(self, order_id: str) -> dict[str, Any]:
        reply = self.http.get(
            f"{self.api}/orders/{order_id}", headers={"x-api-key": self.api_key}, timeout=60
        )
        reply.raise_for_status()
        order: dict[str, Any] = reply.json()
        return order

    def control(self, provider: str, order_id: str, action: str) -> dict[str, Any]:
        reply = self.http.post(f"{self.sandboxes[provider]}/_control/{order_id}/{action}", timeout=60)
        reply.raise_for_status()
        result: dict[str, Any] = reply.json()
        return result


def start_stack(mode_args: list[str], env: dict[str, str] | None = None) -> Generator[LocalStack, None, None]:
    # Files of its own (state, function logs): stacks may run side by side (pytest-xdist workers).
    workdir = Path(tempfile.mkdtemp(prefix="local-stack-"))
    state_file = workdir / "state.json"
    # Its output goes to a file, never to a pipe: nobody reads a pipe while the tests run, and once
    # its 64 KiB fill up (in-process handlers log to stdout) every thread that logs blocks, the one
    # holding the invocation lock first, and the whole stack hangs.
    output_file = workdir / "stack.out"
    port = free_port()
    output = output_file.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.stack",
            "--port",
            str(port),
            "--state-file",
            str(state_file),
            "--log-dir",
            str(workdir / "logs"),
            *mode_args,
        ],
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    try:
        deadline = time.monotonic() + 90
        while not state_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                said = output_file.read_bytes().decode(errors="replace")
                pytest.fail(f"the local stack did not start:\n{said[-3000:]}")
            time.sleep(0.1)
        state = json.loads(state_file.read_text())
        yield LocalStack(
            state["api"],
            state["api_key"],
            state["sandboxes"],
            state["mode"],
            requests.Session(),
            process.pid,
            state["moto"],
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        output.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """In-process mode: no build needed. The emulator mode has its own test (test_emulator.py)."""
    yield from start_stack(["--in-process", "--quiet"])


BUILD = ROOT / ".aws-sam" / "build"
NEEDED = [
    BUILD / "PaymentsLayer" / "python" / "payments",
    ROOT / ".venv-runtime" / "bin" / "python",
    ROOT / ".venv-sam" / "bin" / "sam",
]


def require_build() -> None:
    """The emulator mode needs `make build` and the runtime venv (make dev and .ci/run make both);
    REQUIRE_EMULATOR=1 fails instead of skipping when they are missing."""
    missing = [str(path) for path in NEEDED if not path.exists()]
    if missing:
        if os.environ.get("REQUIRE_EMULATOR"):
            pytest.fail(f"emulator mode needs {missing}")
        pytest.skip(f"emulator mode needs {missing} (make build; make .venv-runtime/.installed)")


@pytest.fixture(scope="session")
def emulated() -> Iterator[LocalStack]:
    """The emulator mode (what `make dev` runs by default), for every end-to-end file that needs it on
    this worker. The reconciler every second, its checks compressed 100-fold (the first 1.2 s after an
    order)."""
    require_build()
    yield from start_stack(["--quiet", "--schedule-every", "1"], env={"RECONCILE_SCHEDULE_SCALE": "0.01"})


def check_gateway_answers(stack: LocalStack) -> None:
    """API Gateway's own answers and every body size over the limit, in docs/api.md's error shape over
    HTTP: the template's gateway responses (local/router.py) and the functions' own 413."""
    key = {"x-api-key": stack.api_key}
    expected = {
        ("GET", "/nowhere", True, b""): (403, "route_not_found"),
        ("POST", "/orders", False, b"{}"): (403, "invalid_api_key"),
        ("POST", "/orders", True, b"x" * (2 * 1024 * 1024)): (413, "request_too_large"),  # the function's
        ("POST", "/orders", True, b"x" * (5 * 1024 * 1024)): (413, "request_too_large"),  # over Lambda's 6 MB
        ("POST", "/orders", True, b"x" * (11 * 1024 * 1024)): (413, "request_too_large"),  # API Gateway's
    }
    for (method, path, with_key, body), answer in expected.items():
        reply = stack.http.request(
            method, f"{stack.api}{path}", data=body, headers=key if with_key else {}, timeout=60
        )
        assert (reply.status_code, reply.json()["error"]["code"]) == answer, (method, path, len(body))
