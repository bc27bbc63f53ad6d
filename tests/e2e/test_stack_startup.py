"""`make dev` starts or says why in one line, and never leaves a process behind.

A taken port fails in seconds, before anything is built; a failure half-way through startup stops
what had already started (the Lambda emulators are separate processes: those are what leaked).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.testing import ROOT, PreflightError, check_api_key, check_providers_file, free_port, parse_port
from tests.e2e.conftest import BUILD, require_build, start_stack
from tests.e2e.provider_facts import example_provider

FAIL_FAST_S = 15  # seconds, not minutes: generous for a loaded 2-core CI machine (typically < 1 s)
MAKE = shutil.which("make") or "make"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else is listening on, as when another `make dev` runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_make_dev_on_a_taken_port_fails_in_seconds_before_building(taken_port: int) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [MAKE, "--no-print-directory", "dev", f"PORT={taken_port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "IN_PROCESS": ""},
    )
    elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert elapsed < FAIL_FAST_S, f"took {elapsed:.1f} s"
    assert "sam build" not in result.stdout + result.stderr  # nothing was built
    reason = next(line for line in result.stderr.splitlines() if line.startswith("make dev:"))
    assert f"port {taken_port} on 127.0.0.1 is already in use" in reason
    assert "make dev" in reason.split("pick another: ")[1]
    suggested = int(reason.split("PORT=")[1].split()[0])
    assert suggested != taken_port
    assert "Traceback" not in result.stderr


def test_the_stack_itself_refuses_a_taken_port_in_one_line(taken_port: int) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "local.stack", "--in-process", "--port", str(taken_port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert time.monotonic() - started < FAIL_FAST_S
    assert "is already in use" in _one_line(result.stderr)
    assert result.stdout.strip() == ""


def _processes_using(path: Path) -> list[str]:
    """Live processes whose environment names `path` (the emulators and their runtimes carry the build
    directory in PYTHONPATH)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if str(path).encode() in environ:
            found.append(f"{proc.name}: {command}")
    return found


def _build_missing_last_function(tmp_path: Path) -> Path:
    """A build where the first functions start and the last one cannot: a failure half-way through."""
    require_build()
    build = tmp_path / "build"
    build.mkdir()
    names = sorted(path.name for path in BUILD.iterdir() if path.is_dir())
    for name in names:
        if name != "NotifyFunction":
            (build / name).symlink_to(BUILD / name)
    (build / "NotifyFunction").mkdir()  # no app.py
    return build


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
def test_a_failure_half_way_through_startup_stops_what_had_started(tmp_path: Path) -> None:
    build = _build_missing_last_function(tmp_path)
    # Without setpriv on PATH, nothing but the stack's own cleanup can stop the emulators it started.
    bare_path = f"{Path(sys.executable).parent}:/nonexistent"
    result = subprocess.run(
        [sys.executable, "-m", "local.stack", "--port", str(free_port()), "--build-dir", str(build)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": bare_path, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    reason = _one_line(result.stderr)
    assert "NotifyFunction" in reason
    assert "make build" in reason
    time.sleep(0.5)
    assert _processes_using(build) == []


@pytest.mark.skipif(not Path("/usr/bin/setpriv").exists(), reason="needs util-linux setpriv")
def test_a_killed_stack_takes_its_emulators_with_it(tmp_path: Path) -> None:
    """SIGKILL skips every cleanup: the emulators end because their parent died (setpriv --pdeathsig)."""
    require_build()
    build = tmp_path / "build"
    build.mkdir()
    for path in BUILD.iterdir():
        if path.is_dir():
            (build / path.name).symlink_to(path)
    stack = start_stack(["--quiet", "--build-dir", str(build)])
    running = next(stack)
    try:
        assert running.create("killed-1", example_provider()).status_code == 201  # a runtime is up too
        assert _processes_using(build)
        os.kill(running.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _processes_using(build) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _processes_using(build) == []
    finally:
        stack.close()


def test_local_api_key_is_kept_across_runs() -> None:
    key = "local-dev-key-0123456789"
    for _ in range(2):
        stack = start_stack(["--in-process", "--quiet"], env={"LOCAL_API_KEY": key})
        running = next(stack)
        try:
            assert running.api_key == key
            reply = requests.get(f"{running.api}/orders/none", headers={"x-api-key": key}, timeout=30)
            assert reply.status_code == 404
        finally:
            stack.close()


def test_a_bad_local_api_key_fails_in_one_line_without_echoing_it() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "local.stack", "--in-process", "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LOCAL_API_KEY": "sesame open"},
    )
    assert result.returncode == 1
    reason = _one_line(result.stderr)
    assert "LOCAL_API_KEY must be 20-128" in reason
    assert "sesame" not in reason


@pytest.mark.parametrize(
    ("text", "message"),
    [("abc", "is not a port number"), ("0", "out of range"), ("70000", "out of range")],
)
def test_bad_ports_are_named(text: str, message: str) -> None:
    with pytest.raises(PreflightError, match=message):
        parse_port(text)


def test_api_key_rules() -> None:
    assert check_api_key(None) is None
    assert check_api_key("") is None
    assert check_api_key("a" * 20) == "a" * 20
    for bad in ("a" * 19, "a" * 129, "has space in it 0123456789", "quote'0123456789012345"):
        with pytest.raises(PreflightError):
            check_api_key(bad)


def test_providers_file_must_be_an_object_of_entries(tmp_path: Path) -> None:
    provider = example_provider()
    good = tmp_path / "good.json"
    good.write_text(json.dumps({provider: {"api_key": "k"}}))
    assert check_providers_file(good) == {provider: {"api_key": "k"}}
    not_an_entry = json.dumps({provider: 1})
    for text, message in (("[1]", "JSON object"), (not_an_entry, "JSON object"), ("{", "not valid JSON")):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(PreflightError, match=message):
            check_providers_file(bad)
    with pytest.raises(PreflightError, match="cannot read"):
        check_providers_file(tmp_path / "missing.json")
