"""`make dev`: the whole product on this machine — no Docker, no AWS account.

  moto server (DynamoDB + Secrets Manager, provisioned from template.yaml)
  a sandbox per provider (local/providers/<name>/), each with a checkout page
  the API gateway on 127.0.0.1:3000 (template routes, API keys) and the demo shop at /

Functions run under the Lambda Runtime Interface Emulator against `sam build` output (default), or
in this process with --in-process (no build; fast iteration).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from local.emulator import Emulator, EmulatorError, find_rie
from local.gateway import Gateway
from local.inprocess import InProcessBackend, Reply
from local.pipeline import QueuePoller, StreamPoller, filters_of
from local.preflight import (
    DEFAULT_PORT,
    HOST,
    PreflightError,
    check_api_key,
    check_providers_file,
    parse_port,
    port_error,
)
from local.providers import kits
from local.sandbox_server import SandboxServer
from local.template import ROOT, FunctionSpec, Template
from local.watch import SourceWatch, watched
from payments.providers import provider_class

REGION = "eu-west-1"


def _prefixed(log: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    return lambda line: log(prefix + line)


def start_sandboxes(
    log: Callable[[str], None], running: ExitStack
) -> tuple[dict[str, SandboxServer], dict[str, dict[str, Any]]]:
    """Each provider's sandbox on its own port, and the secret entries that point our adapters at them.
    Fresh credentials every run: nothing here is a real credential. Each server is stopped by `running`."""
    servers: dict[str, SandboxServer] = {}
    secret: dict[str, dict[str, Any]] = {}
    for name, kit in kits().items():
        credentials = kit.new_credentials()
        sandbox = kit.new_sandbox(credentials)
        # Port 0: the OS picks a free port as the socket binds, so no other process can take it first.
        server = SandboxServer(
            sandbox,
            kit.checkout(sandbox),
            0,
            _prefixed(log, f"[{name}] "),
            broken=kit.breaker(credentials, sandbox),
        )
        running.callback(server.server_close)
        kit.serve_pages_at(sandbox, server.base_url)
        secret[name] = kit.secret_entry(credentials, server.base_url)
        servers[name] = server
    for server in servers.values():
        server.start()
        # Registered only once serving: shutdown() waits forever for a serve_forever that never ran.
        running.callback(server.shutdown)
    return servers, secret


class EmulatorBackend:
    def __init__(
        self, emulator: Emulator, specs: list[FunctionSpec], envs: dict[str, dict[str, str]]
    ) -> None:
        self.emulator = emulator
        for spec in specs:
            emulator.start(spec, envs[spec.logical_id])

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Reply:
        return self.emulator.functions[spec.logical_id].invoke(event)

    def run(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        return self.emulator.functions[spec.logical_id].run(event)


class Scheduler:
    """The template's scheduled functions (the reconciler), every `every_s` seconds, like EventBridge
    Scheduler would (far more often than the deployed default, so a local run shows its effect)."""

    def __init__(
        self,
        backend: InProcessBackend | EmulatorBackend,
        specs: list[FunctionSpec],
        every_s: float,
        log: Callable[[str], None],
    ) -> None:
        self.backend = backend
        self.specs = [spec for spec in specs if spec.scheduled]
        self.every_s = every_s
        self.log = log
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=watched,
            args=("scheduler", self._loop, self.stopped, log, "scheduled functions no longer run"),
            name="scheduler",
            daemon=True,
        )

    def start(self) -> None:
        if self.specs and self.every_s > 0:
            self.thread.start()

    def stop(self) -> None:
        self.stopped.set()

    def _loop(self) -> None:
        while not self.stopped.wait(self.every_s):
            for spec in self.specs:
                try:
                    result = self.backend.run(
                        spec, {"source": "local.scheduler", "detail-type": "Scheduled Event"}
                    )
                except Exception as exc:  # a failed run is reported; the next one comes anyway
                    self.log(f"[{spec.logical_id}] run failed: {type(exc).__name__}")
                    continue
                if isinstance(result, dict) and (result.get("checked") or result.get("skipped")):
                    self.log(f"[{spec.logical_id}] {json.dumps(result)}")


MAX_POLLS_IN_A_ROW = 20


class EventSourcePumps:
    """Lambda's event source mappings, locally: the orders table's stream into the publish function,
    the webhook queue into the webhook function, polled every half second (local/pipeline.py)."""

    def __init__(
        self,
        template: Template,
        specs: list[FunctionSpec],
        refs: dict[str, str],
        backend: InProcessBackend | EmulatorBackend,
        log: Callable[[str], None],
    ) -> None:
        self.log = log
        self.stopped = threading.Event()
        self.pollers: list[tuple[SourceWatch, StreamPoller | QueuePoller]] = []
        by_id = {spec.logical_id: spec for spec in specs}
        for logical_id, spec in by_id.items():
            for event in template.resources[logical_id]["Properties"].get("Events", {}).values():
                properties = event.get("Properties", {})

                def invoke(payload: dict[str, Any], spec: FunctionSpec = spec) -> Any:
                    return backend.run(spec, payload)

                if event["Type"] == "DynamoDB":
                    table = refs[properties["Stream"]["Fn::GetAtt"][0]]
                    streams = boto3.client(
                        "dynamodbstreams", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None
                    )
                    poller = StreamPoller(
                        boto3.client("dynamodb"),
                        streams,
                        table,
                        invoke,
                        filters_of(properties),
                        warn=_prefixed(log, f"[{logical_id}] "),
                    )
                    self.pollers.append((SourceWatch(logical_id, log), poller))
                elif event["Type"] == "SQS":
                    queue = properties["Queue"]["Fn::GetAtt"][0]
                    self.pollers.append(
                        (
                            SourceWatch(logical_id, log),
                            QueuePoller(
                                boto3.client("sqs"), refs[queue], invoke, properties.get("BatchSize", 5)
                            ),
                        )
                    )
        self.thread = threading.Thread(
            target=watched,
            args=("event-sources", self._loop, self.stopped, log, "merchant events no longer flow"),
            name="event-sources",
            daemon=True,
        )

    def start(self) -> None:
        if self.pollers:
            self.thread.start()

    def stop(self) -> None:
        self.stopped.set()

    def _loop(self) -> None:
        while not self.stopped.wait(0.5):
            for watch, poller in self.pollers:
                try:
                    # Again at once while it moves something (as Lambda's pollers keep up with a
                    # backlog), a bounded number of times, so one source never starves the others.
                    for _ in range(MAX_POLLS_IN_A_ROW):
                        moved = poller.poll_once()
                        watch.lag(poller.behind_s)
                        if not moved:
                            break
                except Exception as exc:  # said (once, then now and then); the next poll comes anyway
                    watch.failed(exc)
                else:
                    watch.succeeded()


class StopRequested(Exception):
    """SIGINT or SIGTERM: stop whatever has started, whether the stack is ready or still starting."""


def _request_stop(signum: int, _frame: object) -> None:
    raise StopRequested(signal.Signals(signum).name)


@dataclass
class Ready:
    public: str
    api_key: str
    mode: str
    sandboxes: dict[str, str]
    moto: str

    def state(self) -> dict[str, Any]:
        return {
            "api": self.public,
            "api_key": self.api_key,
            "mode": self.mode,
            "sandboxes": self.sandboxes,
            "moto": self.moto,
        }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", default=os.environ.get("PORT") or str(DEFAULT_PORT))
    parser.add_argument(
        "--api-key",
        default=os.environ.get("LOCAL_API_KEY") or None,
        help="the API key to accept (default LOCAL_API_KEY, else a new random key each run)",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        default=os.environ.get("IN_PROCESS") == "1",
        help="run handlers in this process (no sam build, no emulator)",
    )
    parser.add_argument(
        "--providers",
        type=Path,
        default=os.environ.get("PROVIDERS_FILE") or None,
        help="JSON like the provider secret: real sandbox credentials to use instead of ours",
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=ROOT / ".aws-sam" / "build",
        help="sam build output the emulator runs (default .aws-sam/build)",
    )
    parser.add_argument("--state-file", type=Path, help="write URLs and the API key here as JSON once ready")
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=ROOT / ".local-logs",
        help="where each emulated function logs (default .local-logs; tests give each stack its own)",
    )
    parser.add_argument(
        "--schedule-every",
        type=float,
        default=float(os.environ.get("SCHEDULE_EVERY_S") or 30),
        help="seconds between runs of the scheduled functions, e.g. the reconciler (default 30; 0: never)",
    )
    parser.add_argument(
        "--webhook-url",
        default=None,
        help="where merchant events are POSTed (default: the demo shop; the bench gives its own receiver)",
    )
    parser.add_argument("--quiet", action="store_true")
    return parser.parse_args(argv)


def start(args: argparse.Namespace, running: ExitStack, log: Callable[[str], None]) -> Ready:
    """Everything, in an order that fails cheapest first; each part is registered on `running` as soon
    as it exists, so a failure at any step stops exactly what had started."""
    port = parse_port(str(args.port))
    api_key = check_api_key(args.api_key) or "local-" + secrets.token_hex(12)
    real_providers = check_providers_file(args.providers)
    template = Template()
    specs = template.functions()
    public = f"http://{HOST}:{port}"
    try:
        gateway = Gateway(
            specs, template.gateway_responses(), api_key, port, lambda line: log(f"[api] {line}")
        )
    except OSError as exc:
        raise port_error(port, exc) from None
    running.callback(gateway.server_close)

    # moto is imported here, as the stack starts it: what the tests take from this module (banner,
    # Ready) must not need it (`make unit` runs without moto).
    from moto.server import ThreadedMotoServer

    from local.moto_long_runs import fit_moto_for_long_runs

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    fit_moto_for_long_runs()  # a long-running stack must not grow or slow down with every change
    moto = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)  # port 0: the OS picks a free one
    moto.start()
    running.callback(moto.stop)
    moto_url = "http://{}:{}".format(*moto.get_host_and_port())
    aws_env = {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }
    os.environ.update(aws_env)

    servers, secret = start_sandboxes(log, running)
    secret.update(real_providers or {})  # real credentials win over our sandboxes
    refs = template.provision(
        boto3.client("dynamodb"),
        boto3.client("secretsmanager"),
        prefix="local",
        secret_values={"ProviderCredentialsSecret": json.dumps(secret)},
    )
    # The tests' way to compress reconciliation's schedule (payments/schedule.py); unset for make dev.
    scale = (
        {"RECONCILE_SCHEDULE_SCALE": os.environ["RECONCILE_SCHEDULE_SCALE"]}
        if os.environ.get("RECONCILE_SCHEDULE_SCALE")
        else {}
    )
    # The demo shop is the merchant's webhook receiver (template parameter WebhookUrl).
    parameters = {"PublicBaseUrl": public, "WebhookUrl": args.webhook_url or f"{public}/shop/webhooks"}
    envs = {
        spec.logical_id: {**template.environment(spec, refs, parameters), **aws_env, **scale}
        for spec in specs
    }

    if args.in_process:
        backend: InProcessBackend | EmulatorBackend = InProcessBackend(specs, envs)
    else:
        emulator = Emulator(
            args.build_dir,
            find_rie(ROOT / ".venv-sam"),
            ROOT / ".venv-runtime" / "bin" / "python",
            args.log_dir,
        )
        running.callback(emulator.stop)  # before any function starts: stops those that did
        backend = EmulatorBackend(emulator, specs, envs)

    gateway.shop.webhook_secret = boto3.client("secretsmanager").get_secret_value(
        SecretId=refs["WebhookSigningSecret"]
    )["SecretString"]
    gateway.serve(backend, sorted(servers))
    running.callback(gateway.shutdown)
    scheduler = Scheduler(backend, specs, args.schedule_every, log)
    scheduler.start()
    running.callback(scheduler.stop)
    pumps = EventSourcePumps(template, specs, refs, backend, log)
    pumps.start()
    running.callback(pumps.stop)
    return Ready(
        public=public,
        api_key=api_key,
        mode="in-process" if args.in_process else "emulator",
        sandboxes={name: server.base_url for name, server in servers.items()},
        moto=moto_url,
    )


# The payer, as the banner's example create describes them to a provider that requires it.
SAMPLE_CUSTOMER = {"ip_address": "127.0.0.1", "email": "mei@example.com", "phone": "+8613800000000"}


def banner(ready: Ready, key_is_fixed: bool) -> str:
    order_id = "demo-1"
    provider = next(iter(ready.sandboxes))  # any provider: the first folder
    back = f"{ready.public}/shop/return?order_id={order_id}"
    pages = {"return_url": back, "cancel_url": back + "&cancelled=1"}  # the demo shop's order page
    capabilities = provider_class(provider).documented_capabilities
    body: dict[str, Any] = {
        "order_id": order_id,
        "provider": provider,
        "amount": {"value": 1000, "currency": "EUR"},
        "description": "Tea set",
        # What this provider asks for, and nothing else.
        **{name: url for name, url in pages.items() if name in capabilities.payer_urls},
    }
    if capabilities.required_customer_fields:
        body["customer"] = {name: SAMPLE_CUSTOMER[name] for name in capabilities.required_customer_fields}
    example = json.dumps(body)
    key_note = "from LOCAL_API_KEY" if key_is_fixed else "new each run; LOCAL_API_KEY=… make dev keeps one"
    mode = (
        "handlers in this process"
        if ready.mode == "in-process"
        else "functions from sam build under the Lambda emulator"
    )
    sandboxes = "\n".join(f"    {name:<13}{url}" for name, url in ready.sandboxes.items())
    return f"""
Local stack ready ({mode}).
  Demo shop      {ready.public}/
  API            {ready.public}   x-api-key {ready.api_key} ({key_note})
  Console        {ready.public}/console#key={ready.api_key}   (the key stays in that browser tab)
  Sandboxes
{sandboxes}
  Events         each change is a webhook to the demo shop at once (its order pages list them);
                 GET /events lists an event once it is two minutes old (its settle window)
  Data           in memory: every order is gone when this stops

In another terminal:
  export API_URL={ready.public} API_KEY={ready.api_key}
  curl -sS -X POST "$API_URL/orders" -H "x-api-key: $API_KEY" -H 'Content-Type: application/json' \\
    -d '{example}'
  curl -sS "$API_URL/orders/{order_id}" -H "x-api-key: $API_KEY"

Ctrl-C stops everything."""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def log(line: str) -> None:
        if not args.quiet:
            print(line, flush=True)

    # Ctrl-C and kill alike, from the first moment: set explicitly, as a shell may start us with SIGINT
    # ignored, and SIGTERM's default would skip the cleanup below and leave the emulators running.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _request_stop)
    running = ExitStack()
    ready: Ready | None = None
    try:
        ready = start(args, running, log)
        if args.state_file:
            args.state_file.write_text(json.dumps(ready.state()))
        print(banner(ready, key_is_fixed=bool(args.api_key)), flush=True)
        while True:
            time.sleep(3600)
    except StopRequested:
        return 0
    except (PreflightError, EmulatorError, OSError) as exc:
        # One line that says what failed and what to do; everything started so far is stopped below.
        print(f"make dev: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C must not cut the cleanup short.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        running.close()
        if ready is not None:
            print("stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
