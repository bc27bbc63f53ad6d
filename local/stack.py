"""`make dev`: the whole product on this machine — no Docker, no AWS account.

  moto server (DynamoDB + Secrets Manager, provisioned from template.yaml)
  provider sandboxes (MultiSafepay, UseePay, Alipay), each with a checkout page
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.server import ThreadedMotoServer

from local.checkout import AlipayIntlCheckout, Checkout, MultiSafepayCheckout, UseePayCheckout
from local.emulator import Emulator, find_rie, free_port
from local.inprocess import LambdaUnderTest, Reply
from local.sandboxes.alipay_intl import AlipayIntlSandbox
from local.sandboxes.multisafepay import MultiSafepaySandbox
from local.sandboxes.useepay import UseePaySandbox
from local.servers import Gateway, SandboxServer
from local.template import ROOT, FunctionSpec, Template

REGION = "eu-west-1"


def _pem(key: rsa.RSAPrivateKey, public: bool = False) -> str:
    if public:
        return (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def start_sandboxes(log: Callable[[str], None]) -> tuple[dict[str, SandboxServer], dict[str, dict[str, Any]]]:
    """Each provider's sandbox on its own port, and the secret entries that point our adapters at them.
    Fresh keys every run: nothing here is a real credential."""
    servers: dict[str, SandboxServer] = {}
    secret: dict[str, dict[str, Any]] = {}

    def serve(name: str, sandbox: Any, checkout: Checkout, server_port: int) -> SandboxServer:
        server = SandboxServer(sandbox, checkout, server_port, lambda line: log(f"[{name}] {line}"))
        servers[name] = server
        return server

    msp_key = secrets.token_hex(20)
    msp = MultiSafepaySandbox(api_key=msp_key)
    server = serve("multisafepay", msp, MultiSafepayCheckout(msp), free_port())
    msp.checkout_base = f"{server.base_url}/connect/"
    secret["multisafepay"] = {
        "api_key": msp_key,
        "base_url": f"{server.base_url}/v1/json/",
        "gateway": "ALIPAY",
    }

    md5_key = secrets.token_hex(16)
    usee = UseePaySandbox(merchant_no="500000000007264", sign_type="MD5", md5_key=md5_key)
    server = serve("useepay", usee, UseePayCheckout(usee), free_port())
    usee.checkout_base = f"{server.base_url}/checkout/"
    secret["useepay"] = {
        "merchant_no": "500000000007264",
        "app_id": "shop.localhost",
        "sign_type": "MD5",
        "md5_key": md5_key,
        "base_url": server.base_url,
    }

    merchant_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    alipay_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    alipay = AlipayIntlSandbox(
        client_id="LOCAL_CLIENT_ID",
        merchant_id="LOCAL_MERCHANT",
        merchant_public_key=merchant_key.public_key(),
        alipay_private_key=alipay_key,
    )
    server = serve("alipay_intl", alipay, AlipayIntlCheckout(alipay), free_port())
    alipay.cashier_url = f"{server.base_url}/cashier"
    secret["alipay_intl"] = {
        "client_id": "LOCAL_CLIENT_ID",
        "merchant_id": "LOCAL_MERCHANT",
        "product_code": "CASHIER_PAYMENT",
        "payment_site": "ALIPAY_CN",
        "sign_hash": "SHA256",
        "private_key": _pem(merchant_key),
        "alipay_public_key": _pem(alipay_key, public=True),
        "base_url": server.base_url,
    }
    for server in servers.values():
        server.start()
    return servers, secret


class InProcessBackend:
    def __init__(self, specs: list[FunctionSpec], envs: dict[str, dict[str, str]]) -> None:
        keys = {key for env in envs.values() for key in env}
        self.functions = {
            spec.logical_id: LambdaUnderTest(spec, envs[spec.logical_id], keys) for spec in specs
        }

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Reply:
        return self.functions[spec.logical_id].invoke(event)


class EmulatorBackend:
    def __init__(
        self, emulator: Emulator, specs: list[FunctionSpec], envs: dict[str, dict[str, str]]
    ) -> None:
        self.emulator = emulator
        for spec in specs:
            emulator.start(spec, envs[spec.logical_id])

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Reply:
        return self.emulator.functions[spec.logical_id].invoke(event)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
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
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        if not args.quiet:
            print(line, flush=True)

    # Handlers import the layer's `payments` package, which Lambda finds in /opt/python.
    sys.path.insert(0, str(ROOT / "layers" / "payments"))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    aws_env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }
    os.environ.update(aws_env)

    servers, secret = start_sandboxes(log)
    if args.providers:
        secret.update(json.loads(args.providers.read_text()))  # real credentials win over our sandboxes
    template = Template()
    refs = template.provision(
        boto3.client("dynamodb"),
        boto3.client("secretsmanager"),
        prefix="local",
        secret_values={"ProviderCredentialsSecret": json.dumps(secret)},
    )
    public = f"http://127.0.0.1:{args.port}"
    specs = template.functions()
    envs = {
        spec.logical_id: {**template.environment(spec, refs, {"PublicBaseUrl": public}), **aws_env}
        for spec in specs
    }

    emulator: Emulator | None = None
    if args.in_process:
        backend: InProcessBackend | EmulatorBackend = InProcessBackend(specs, envs)
    else:
        emulator = Emulator(
            args.build_dir,
            find_rie(ROOT / ".venv-sam"),
            ROOT / ".venv-runtime" / "bin" / "python",
            args.log_dir,
        )
        backend = EmulatorBackend(emulator, specs, envs)

    api_key = "local-" + secrets.token_hex(12)
    gateway = Gateway(specs, backend, api_key, args.port, sorted(servers), lambda line: log(f"[api] {line}"))
    gateway.start()

    state: dict[str, Any] = {
        "api": public,
        "api_key": api_key,
        "mode": "in-process" if args.in_process else "emulator",
        "sandboxes": {name: server.base_url for name, server in servers.items()},
        "moto": f"http://127.0.0.1:{moto_port}",
    }
    if args.state_file:
        args.state_file.write_text(json.dumps(state))
    example = json.dumps(
        {
            "order_id": "demo-1",
            "provider": "multisafepay",
            "amount": {"value": 1000, "currency": "EUR"},
            "description": "Tea set",
            "return_url": f"{public}/shop/return?order_id=demo-1",
            "cancel_url": f"{public}/shop/return?order_id=demo-1",
        }
    )
    print(
        f"""
Local stack ready ({state["mode"]}).
  Demo shop        {public}/
  API              {public}   (x-api-key: {api_key})
  Sandboxes        {", ".join(f"{n} {u}" for n, u in state["sandboxes"].items())}
  Try:
    curl -sS -X POST {public}/orders -H 'x-api-key: {api_key}' -H 'Content-Type: application/json' \\
      -d '{example}'
    curl -sS {public}/orders/demo-1 -H 'x-api-key: {api_key}'
Ctrl-C stops everything.""",
        flush=True,
    )

    stopped = threading.Event()
    # Ctrl-C and kill alike; set explicitly, as a shell may start us with SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        gateway.shutdown()
        for server in servers.values():
            server.shutdown()
        if emulator is not None:
            emulator.stop()
        moto.stop()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
