"""Run the real handler modules of template.yaml in-process, each with its own environment."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from local.apigw import match_route, proxy_event
from local.template import FunctionSpec, Template


@dataclass
class FakeContext:
    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


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
        assert spec
        assert spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        self.handler = getattr(module, handler)
        return module

    def invoke(self, event: dict[str, Any]) -> Reply:
        with environment(self.env, self.drop):
            result = self.handler(event, FakeContext(self.spec.logical_id))
        body = result.get("body") or ""
        if result.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = values[-1]
        return Reply(result["statusCode"], headers, body)


class Api:
    """Routes requests to the template's functions as API Gateway would (API keys included)."""

    def __init__(self, template: Template, refs: dict[str, str], api_key: str = "test-merchant-key") -> None:
        self.api_key = api_key
        specs = template.functions()
        envs = {spec.logical_id: template.environment(spec, refs) for spec in specs}
        keys = {key for env in envs.values() for key in env}
        self.functions = {
            spec.logical_id: LambdaUnderTest(spec, envs[spec.logical_id], keys) for spec in specs
        }

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | str | dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        query: Sequence[tuple[str, str]] = (),
        api_key: str | None = "default",
    ) -> Reply:
        from urllib.parse import parse_qsl, urlsplit

        parts = urlsplit(url)
        path = parts.path.removeprefix("/v1") if parts.netloc else parts.path  # full URLs carry the stage
        query = [*parse_qsl(parts.query, keep_blank_values=True), *query]
        header_items = list((headers or {}).items())
        if isinstance(body, dict):
            body = json.dumps(body)
            header_items.append(("Content-Type", "application/json"))
        raw = body.encode() if isinstance(body, str) else body
        key = self.api_key if api_key == "default" else api_key
        if key is not None:
            header_items.append(("x-api-key", key))
        for function in self.functions.values():
            found = match_route(function.spec.routes, method, path)
            if found:
                route, params = found
                if route.api_key_required and key != self.api_key:
                    return Reply(403, {}, json.dumps({"message": "Forbidden"}))
                event = proxy_event(
                    method=method,
                    path=path,
                    resource=route.path,
                    path_parameters=params,
                    query=query,
                    headers=header_items,
                    body=raw,
                    api_key_id="testkeyid" if route.api_key_required else None,
                    api_key=key if route.api_key_required else None,
                )
                return function.invoke(event)
        return Reply(404, {}, json.dumps({"message": "Missing Authentication Token"}))
