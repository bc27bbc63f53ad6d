"""DynamoDB faults: throttling and outages become 503 store_unavailable; races become re-reads."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from payments.engine import Plan
from payments.errors import ConcurrentUpdateError, StoreUnavailable
from payments.orders import OrderEvent, OrderStatus
from payments.store.orders import OrdersStore
from payments.store.table import CONFLICT_ATTEMPTS, RETRY_CONFIG, Table
from tests.support.orders import stored_order
from tests.support.providers import ANY_PROVIDER

EVENT = OrderEvent(type="order_created", at="2026-01-01T00:00:00.000000Z", source="merchant")


def pending_plan() -> Plan:
    plan = Plan(stored_order(provider=ANY_PROVIDER), "2026-01-01T00:00:01.000000Z", EVENT)
    plan.move(OrderStatus.PENDING)
    return plan


class FailingClient:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(**_: Any) -> Any:
            raise self.error

        return fail


def client_error(code: str, *reasons: str) -> ClientError:
    """DynamoDB's error `code` as botocore raises it; a cancelled transaction's reasons, item by item."""
    if reasons:
        return ClientError(
            {
                "Error": {"Code": code, "Message": "x"},
                "CancellationReasons": [{"Code": reason} for reason in reasons],
            },
            "TransactWriteItems",
        )
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "TransactWriteItems")


@pytest.mark.parametrize(
    "error",
    [
        client_error("ProvisionedThroughputExceededException"),
        client_error("ThrottlingException"),
        client_error("InternalServerError"),
        EndpointConnectionError(endpoint_url="https://dynamodb"),
    ],
)
def test_exhausted_retries_become_store_unavailable(error: Exception) -> None:
    store = OrdersStore(Table("orders", client=FailingClient(error)))
    with pytest.raises(StoreUnavailable) as caught:
        store.create(stored_order(provider=ANY_PROVIDER), EVENT)
    assert caught.value.status == 503
    with pytest.raises(StoreUnavailable):
        store.get("o-1")


def test_lost_races_are_reported_as_concurrent_updates() -> None:
    error = client_error("TransactionCanceledException", "ConditionalCheckFailed", "None")
    store = OrdersStore(Table("orders", client=FailingClient(error)))
    with pytest.raises(ConcurrentUpdateError):
        store.commit(pending_plan())


class Conflicting:
    """A DynamoDB client whose every transaction is cancelled with TransactionConflict."""

    def __init__(self) -> None:
        self.attempts = 0

    def transact_write_items(self, **_: Any) -> Any:
        self.attempts += 1
        raise client_error("TransactionCanceledException", "TransactionConflict", "None")


def test_transaction_conflicts_are_retried_with_backoff_then_503(monkeypatch: pytest.MonkeyPatch) -> None:
    """A conflict wrote nothing and botocore does not retry cancellations: the store does."""
    delays: list[float] = []
    monkeypatch.setattr("payments.store.table.time.sleep", delays.append)
    client = Conflicting()
    store = OrdersStore(Table("orders", client=client))
    with pytest.raises(StoreUnavailable):
        store.commit(pending_plan())
    assert client.attempts == CONFLICT_ATTEMPTS
    assert len(delays) == CONFLICT_ATTEMPTS - 1


THROTTLED = json.dumps(
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "slow down",
    }
).encode()


class Throttling(BaseHTTPRequestHandler):
    attempts = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Throttling.attempts += 1
        body = THROTTLED
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def test_throttling_is_retried_with_backoff_then_503(monkeypatch: pytest.MonkeyPatch) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    delays: list[float] = []
    monkeypatch.setattr("payments.store.wire.time.sleep", delays.append)  # the table's wire waits
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{httpd.server_address[1]}")
    Throttling.attempts = 0
    try:
        store = OrdersStore(Table("orders"))  # the client exactly as production builds it
        with pytest.raises(StoreUnavailable):
            store.get("o-1")
    finally:
        httpd.shutdown()
    assert Throttling.attempts == 5
    assert len(delays) == 4
    assert vars(RETRY_CONFIG)["retries"] is not None  # read as botocore set it (its stubs omit it)
