"""The emulator mode: each function a process under the Lambda RIE, running `sam build` output.

Needs `make build` and the runtime venv (make dev and .ci/run make both); set REQUIRE_EMULATOR=1 to
fail instead of skip when they are missing.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import BUILD, LocalStack, check_gateway_answers, require_build, start_stack
from tests.e2e.provider_facts import example_provider, providers


def test_built_functions_reconcile_and_send_webhooks(emulated: LocalStack) -> None:
    """What `make dev` runs by default: the scheduled reconciler and the event pipeline (the table's
    stream into the publish function, the webhook queue into the delivery function, the demo shop as
    the receiver), each a built function under the emulator, its batches sent as JSON. One provider
    stands for them all (test_reconcile_e2e.py runs every provider's reconciliation in process)."""
    provider = example_provider()
    order_id = "emu-reconciled"
    assert emulated.create(order_id, provider).status_code == 201
    emulated.control(provider, order_id, "pay_silently")  # paid, never notified
    deadline = time.monotonic() + 60
    page = ""
    while time.monotonic() < deadline:
        page = emulated.http.get(f"{emulated.api}/shop/return?order_id={order_id}", timeout=30).text
        if "order.paid" in page:
            break
        time.sleep(0.5)
    assert emulated.order(order_id)["status"] == "paid"
    assert "reconcile" in {event["source"] for event in emulated.order(order_id)["events"]}
    assert "Webhooks received" in page
    assert page.index("order.pending") < page.index("order.paid"), page  # signed, checked, in sequence


@pytest.mark.parametrize("provider", providers())
def test_built_functions_take_a_payment_refund_it_and_cancel(emulated: LocalStack, provider: str) -> None:
    assert emulated.mode == "emulator"
    order_id = f"emu-{provider}"
    created = emulated.create(order_id, provider)
    assert created.status_code == 201, created.text
    [delivery] = emulated.control(provider, order_id, "pay")["delivered"]
    assert delivery["status"] == 200
    assert emulated.order(order_id)["status"] == "paid"
    # The merchant's actions run in a function of their own (OrderActionsFunction).
    key = {"x-api-key": emulated.api_key}
    refund = emulated.http.post(
        f"{emulated.api}/orders/{order_id}/refunds",
        json={"refund_id": "r-1", "amount": {"value": 300, "currency": "EUR"}},
        headers=key,
        timeout=60,
    )
    assert refund.status_code == 201, refund.text
    assert refund.json()["amount"] == {"value": 300, "currency": "EUR"}
    unpaid = f"emu-cancel-{provider}"
    assert emulated.create(unpaid, provider).status_code == 201
    cancelled = emulated.http.post(f"{emulated.api}/orders/{unpaid}/cancel", headers=key, timeout=60)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled"), cancelled.text


def test_api_gateways_own_answers_and_large_bodies_have_the_error_shape(emulated: LocalStack) -> None:
    """A 5 MB body once answered 502 here: the emulator refuses an event over Lambda's 6 MB."""
    check_gateway_answers(emulated)


def test_a_broken_build_fails_like_lambda(tmp_path: Path) -> None:
    """A layer missing a dependency that init imports (Powertools: every handler's first import; what
    only a request imports, such as pydantic, fails that request instead): the function cannot
    import, and the caller gets 502."""
    require_build()
    broken = tmp_path / "build"
    shutil.copytree(BUILD, broken, symlinks=True)
    shutil.rmtree(broken / "PaymentsLayer" / "python" / "aws_lambda_powertools")
    stack = start_stack(["--quiet", "--build-dir", str(broken)])
    running = next(stack)
    try:
        reply = running.create("emu-broken", example_provider())  # fails before any provider is asked
        assert reply.status_code == 502
        assert reply.json()["error"]["code"] == "internal_error"  # the template's INTEGRATION_FAILURE
    finally:
        stack.close()


def test_concurrent_requests_queue_instead_of_failing(emulated: LocalStack) -> None:
    """One RIE is one Lambda instance: overlapping invocations must queue, not crash it."""
    from concurrent.futures import ThreadPoolExecutor

    created = emulated.create("emu-concurrent", example_provider())
    assert created.status_code == 201

    def read(_: int) -> int:
        return emulated.http.get(
            f"{emulated.api}/orders/emu-concurrent", headers={"x-api-key": emulated.api_key}, timeout=60
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(read, range(24))) == {200}


def test_the_built_layer_ships_bytecode_lambda_will_use() -> None:
    """Lambda mounts layers read-only: without shipped bytecode every cold start recompiles every
    module. Each module in the layer needs a CPython 3.12 .pyc that is used without checking the
    source's mtime (unchecked-hash, PEP 552), since the deployment zip does not keep mtimes exact."""
    require_build()
    layer = BUILD / "PaymentsLayer" / "python"
    sources = [path for path in layer.rglob("*.py") if "__pycache__" not in path.parts]
    assert len(sources) > 100  # our package and its dependencies
    stale = []
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        if not compiled.exists():
            stale.append(str(source.relative_to(layer)))
            continue
        header = compiled.read_bytes()[:16]
        flags = int.from_bytes(header[4:8], "little")
        if flags != 0b01:  # hash-based, check_source off
            stale.append(f"{source.relative_to(layer)} (flags {flags})")
    assert not stale, stale[:10]
    assert not (layer / "boto3").exists()
    assert not (layer / "botocore").exists()


def test_an_answer_that_is_not_the_runtimes_is_a_failed_invocation(tmp_path: Path) -> None:
    """The emulator's own replies (a timed-out init, an emulator in trouble) are not JSON: a failed
    invocation, which the local gateway answers as API Gateway does (local/router.py), naming in its
    log what came back."""
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from local.testing import EmulatedFunction, FunctionSpec, InvocationFailed

    class NotTheRuntime(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            text = b"init timed out"
            self.send_response(500)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), NotTheRuntime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        spec = FunctionSpec("CreateOrderFunction", tmp_path, "app.lambda_handler", {})
        function = EmulatedFunction(spec, stand_in, server.server_address[1], tmp_path / "x.log")
        with pytest.raises(InvocationFailed, match="HTTP 500: init timed out"):
            function.invoke({"httpMethod": "GET"})
    finally:
        stand_in.kill()
        stand_in.wait()
        server.shutdown()
