"""SnapStart: the hooks every handler registers, run the way Lambda's runtime runs them after a restore."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from typing import Any

import pytest
import snapshot_restore_py

from local.testing import ROOT
from payments import aws_clients, http, secret_values, snapstart


def run_after_restore_hooks() -> None:
    """What awslambdaric's lambda_runtime_hooks_runner.run_after_restore does."""
    for func, args, kwargs in snapshot_restore_py.get_after_restore():
        func(*args, **kwargs)


def test_registering_twice_registers_once() -> None:
    assert snapstart.register_runtime_hooks()
    assert snapstart.register_runtime_hooks()
    registered = [func for func, _, _ in snapshot_restore_py.get_after_restore()]
    assert registered.count(snapstart.refresh_after_restore) == 1


def test_without_the_runtime_library_registering_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    assert snapstart.register_runtime_hooks() is False


def test_two_restored_copies_draw_different_jitter() -> None:
    """Two environments restored from one snapshot start with the same `random` state."""
    snapstart.register_runtime_hooks()
    snapshot = random.getstate()
    copies = []
    for _ in range(2):
        random.setstate(snapshot)
        run_after_restore_hooks()
        copies.append([random.random() for _ in range(4)])
    assert copies[0] != copies[1]
    random.setstate(snapshot)
    assert [random.random() for _ in range(4)] not in copies  # and not what the snapshot would draw


def test_credentials_secrets_and_provider_connections_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    snapstart.register_runtime_hooks()
    monkeypatch.setattr(aws_clients, "_session", object())  # as after a client was made at init
    monkeypatch.setattr(secret_values, "_client", object())  # as after a secret was read at init
    secret_values._cache[("arn:secret", True)] = (0.0, {"provider": {"key": "old"}})
    closed: list[str] = []

    class Session:
        def close(self) -> None:
            closed.append("pool")

    monkeypatch.setattr(http.default_http(), "_session", Session())
    run_after_restore_hooks()
    assert aws_clients._session is None
    assert secret_values._client is None
    assert secret_values.age("arn:secret", as_json=True) is None
    assert closed == ["pool"]


def test_the_get_function_still_loads_neither_requests_nor_parameters() -> None:
    """Refreshing leaves alone what a function never imported (the get function's cold start)."""
    code = (
        "import sys; from payments import snapstart; snapstart.refresh_after_restore(); "
        "print(sorted(m for m in ('requests', 'payments.http', 'payments.secret_values') "
        "if m in sys.modules))"
    )
    env: dict[str, Any] = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "payments")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
