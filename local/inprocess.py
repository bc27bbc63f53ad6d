"""Run the template's handler modules in this process, each with its own environment.

For tests and the local stack's fast mode. Invocations swap os.environ, so they are serialised.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from local.template import FunctionSpec

_INVOKE_LOCK = threading.RLock()


@dataclass
class FakeContext:
    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""
    timeout_s: float = 25.0  # the function's Timeout: the time left counts down from it, as in Lambda

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@contextmanager
def environment(values: Mapping[str, str], drop: Sequence[str] = ()) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    for name in drop:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class InvocationFailed(Exception):
    """The function gave no proxy result (it raised, could not start, or its runtime answered something
    else): API Gateway answers with its integration failure. The message says what came back."""


class LambdaUnderTest:
    def __init__(self, spec: FunctionSpec, env: dict[str, str], all_env_keys: set[str]) -> None:
        self.spec = spec
        self.env = env
        # Variables other functions get but this one must not see (e.g. the secret for get_order).
        self.drop = sorted(all_env_keys - set(env))
        with environment(self.env, self.drop):
            self.module = self._load()

    def _load(self) -> ModuleType:
        module_file, handler = self.spec.handler.split(".")
        name = f"handler_{self.spec.logical_id}_{uuid.uuid4().hex[:8]}"
        location = self.spec.code_uri / f"{module_file}.py"
        spec = importlib.util.spec_from_file_location(name, location)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {location}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        self.handler = getattr(module, handler)
        return module

    def invoke(self, event: dict[str, Any]) -> Reply:
        """An API Gateway proxy invocation, answered as API Gateway would answer it."""
        return reply_of(self.run(event))

    def run(self, event: dict[str, Any]) -> Any:
        """Any invocation (a schedule, a batch of stream records): the handler's own result."""
        with _INVOKE_LOCK, environment(self.env, self.drop):
            return self.handler(event, FakeContext(self.spec.logical_id, timeout_s=self.spec.timeout_s))


def reply_of(result: Mapping[str, Any]) -> Reply:
    """An API Gateway proxy result as the HTTP reply API Gateway would send."""
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = values[-1]
    return Reply(int(result["statusCode"]), headers, body)


class InProcessBackend:
    """Every function of the template in this process, each with its own environment (`envs`)."""

    def __init__(self, specs: list[FunctionSpec], envs: dict[str, dict[str, str]]) -> None:
        keys = {key for env in envs.values() for key in env}
        self.functions = {
            spec.logical_id: LambdaUnderTest(spec, envs[spec.logical_id], keys) for spec in specs
        }

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Reply:
        return self.functions[spec.logical_id].invoke(event)

    def run(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        return self.functions[spec.logical_id].run(event)
