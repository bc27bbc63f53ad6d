"""The HTTP client against a real loopback server: timeouts, and retries only where they are safe."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from payments.errors import ProviderTimeout, ProviderUnavailable
from payments.http import HttpClient, metrics


class Script(BaseHTTPRequestHandler):
    replies: list[tuple[int, float]] = []  # (status, delay) per request, last one repeats
    hits: list[str] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        Script.hits.append(self.command)
        status, delay = Script.replies[min(len(Script.hits), len(Script.replies)) - 1]
        time.sleep(delay)
        self.send_response(status)
        if status == 503:
            self.send_header("Retry-After", "120")  # a provider asking for more than a Lambda has
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Script.replies, Script.hits = [(200, 0)], []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Script)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_get_is_retried_on_503(server: str) -> None:
    Script.replies = [(503, 0), (200, 0)]
    reply = HttpClient().request("GET", server + "/orders/x")
    assert reply.status == 200
    assert Script.hits == ["GET", "GET"]


def test_a_retry_after_header_does_not_outlast_the_call_budget(server: str) -> None:
    """A 503 asking to come back in two minutes is retried on our own backoff: a call stays within
    worst_call_s(), the reserve reconciliation keeps (payments/http.py)."""
    Script.replies = [(503, 0), (200, 0)]
    started = time.monotonic()
    reply = HttpClient().request("GET", server + "/orders/x")
    assert (reply.status, Script.hits) == (200, ["GET", "GET"])
    assert time.monotonic() - started < 5


def test_post_is_never_retried_on_5xx(server: str) -> None:
    Script.replies = [(503, 0), (200, 0)]
    reply = HttpClient().request("POST", server + "/orders", body=b"{}")
    assert reply.status == 503
    assert Script.hits == ["POST"]


def test_post_read_timeout_is_not_retried_and_is_a_timeout(server: str) -> None:
    Script.replies = [(200, 0.5)]
    with pytest.raises(ProviderTimeout):
        HttpClient().request("POST", server + "/orders", body=b"{}", timeout=(1, 0.2))
    time.sleep(0.4)
    assert Script.hits == ["POST"]


def test_refused_connection_is_unavailable() -> None:
    with pytest.raises(ProviderUnavailable) as caught:
        HttpClient().request("GET", "http://127.0.0.1:9/")
    assert "127.0.0.1" not in caught.value.message


def latencies() -> list[float]:
    recorded = metrics.metric_set.get("ProviderCallLatency")
    assert recorded is None or recorded["Unit"] == "Milliseconds"
    return list(recorded["Value"]) if recorded else []


def test_every_call_records_its_latency_in_milliseconds_timeouts_included(server: str) -> None:
    metrics.clear_metrics()
    Script.replies = [(200, 0.05), (200, 0.5)]
    HttpClient().request("GET", server + "/orders/x")
    with pytest.raises(ProviderTimeout):
        HttpClient().request("POST", server + "/orders", body=b"{}", timeout=(1, 0.2))
    answered, timed_out = latencies()
    assert 50 <= answered < 1000
    assert 200 <= timed_out < 1000
    metrics.clear_metrics()


def test_dropped_connections_are_reopened_on_the_next_call(server: str) -> None:
    client = HttpClient()
    assert client.request("GET", server + "/a").status == 200
    client.drop_connections()  # what a SnapStart restore does (payments/snapstart.py)
    assert client.request("GET", server + "/b").status == 200
    assert Script.hits == ["GET", "GET"]
