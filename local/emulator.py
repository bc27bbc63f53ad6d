"""Run each function as its own process under the Lambda Runtime Interface Emulator that ships inside
aws-sam-cli, with awslambdaric, against the artifacts of `sam build` — as Lambda would run them.

The layer's `python/` directory is put on PYTHONPATH where Lambda mounts `/opt/python`; the function's
build directory is the task root. A broken build fails here the way it would fail on Lambda.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from local.inprocess import InvocationFailed, Reply, reply_of
from local.template import FunctionSpec

INVOKE_PATH = "/2015-03-31/functions/function/invocations"


class EmulatorError(RuntimeError):
    """A function that cannot be started: the message says which, and where its log is."""


def _die_with_parent() -> list[str]:
    """A command prefix that ends the emulator when the process that started it dies, even by SIGKILL,
    so a killed `make dev` leaves no emulators behind (Linux; elsewhere, Emulator.stop does it)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_rie(sam_venv: Path) -> Path:
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    found = sorted(sam_venv.glob(f"lib/python3*/site-packages/samcli/local/rapid/aws-lambda-rie-{arch}"))
    if not found:
        raise EmulatorError(f"aws-lambda-rie-{arch} not found in {sam_venv} (make dev installs aws-sam-cli)")
    return found[0]


@dataclass
class EmulatedFunction:
    spec: FunctionSpec
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    session: requests.Session = field(default_factory=requests.Session)
    # One RIE is one Lambda instance: it takes one invocation at a time (and fails on overlap), so
    # concurrent requests queue here instead of failing.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, event: Mapping[str, Any], timeout: float | None = None) -> Any:
        """Any invocation (a schedule): the handler's result, or the emulator's error, as JSON."""
        wait = timeout if timeout is not None else self.spec.timeout_s + 20  # its own timeout first
        with self.lock:
            reply = self.session.post(
                f"http://127.0.0.1:{self.port}{INVOKE_PATH}", data=json.dumps(event), timeout=wait
            )
        try:
            return reply.json()
        except ValueError:
            return {"emulator": f"HTTP {reply.status_code}: {reply.text[:500]}"}

    def invoke(self, event: Mapping[str, Any], timeout: float = 30) -> Reply:
        with self.lock:
            reply = self.session.post(
                f"http://127.0.0.1:{self.port}{INVOKE_PATH}", data=json.dumps(event), timeout=timeout
            )
        try:
            result: Any = reply.json()
        except ValueError:
            # Not the runtime's answer (the emulator's own, e.g. an init that timed out): still a
            # failed invocation.
            exited = "" if self.process.poll() is None else f"; the emulator exited, see {self.log_path}"
            result = {"emulator": f"HTTP {reply.status_code}: {reply.text[:500]}{exited}"}
        if not isinstance(result, dict) or "statusCode" not in result:
            # An unhandled exception or an import error: API Gateway answers its integration failure.
            raise InvocationFailed(json.dumps(result)[:1000])
        return reply_of(result)


class Emulator:
    def __init__(self, build_dir: Path, rie: Path, runtime_python: Path, log_dir: Path) -> None:
        self.build_dir = build_dir
        self.rie = rie
        self.runtime_python = runtime_python
        self.log_dir = log_dir
        self.functions: dict[str, EmulatedFunction] = {}

    def start(self, spec: FunctionSpec, env: Mapping[str, str]) -> EmulatedFunction:
        task_root = self.build_dir / spec.logical_id
        layer = self.build_dir / "PaymentsLayer" / "python"
        if not (task_root / "app.py").exists() or not layer.exists():
            raise EmulatorError(f"{task_root} or {layer} missing: run `sam build` (make build) first")
        port, api_port = free_port(), free_port()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{spec.logical_id}.log"
        process_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": f"{layer}:{task_root}",
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),  # the context counts down from it
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            **env,
        }
        with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(  # noqa: S603 - our own binaries and paths
                [
                    *_die_with_parent(),
                    str(self.rie),
                    "--runtime-interface-emulator-address",
                    f"127.0.0.1:{port}",
                    "--runtime-api-address",
                    f"127.0.0.1:{api_port}",
                    str(self.runtime_python),
                    "-m",
                    "awslambdaric",
                    spec.handler,
                ],
                cwd=task_root,
                env=process_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        function = EmulatedFunction(spec, process, port, log_path)
        self.functions[spec.logical_id] = function
        self._wait_listening(function)
        return function

    @staticmethod
    def _wait_listening(function: EmulatedFunction, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if function.process.poll() is not None:
                raise EmulatorError(f"{function.spec.logical_id} exited at start; see {function.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", function.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise EmulatorError(
            f"{function.spec.logical_id} did not start in {timeout:.0f} s; see {function.log_path}"
        )

    def stop(self) -> None:
        for function in self.functions.values():
            if function.process.poll() is None:
                function.process.terminate()
        for function in self.functions.values():
            try:
                function.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                function.process.kill()
                function.process.wait()
