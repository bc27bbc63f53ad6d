"""The one HTTP client for provider calls: pooled, with timeouts, and retries only where safe.

Connection failures are retried for every method (nothing reached the provider); read failures and
5xx replies only for idempotent methods, so a payment is never created twice by a retry. Each call's
wall time, retries and failures included, is the `ProviderCallLatency` metric (milliseconds).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from payments.errors import ProviderTimeout, ProviderUnavailable
from payments.records import frozen

if TYPE_CHECKING:
    import requests

CONNECT_TIMEOUT_S = 3.05
READ_TIMEOUT_S = 10.0
# urllib3's retries (see `_new_session`): at most RETRY_TOTAL retries, a pause growing from
# RETRY_BACKOFF_S between them.
RETRY_TOTAL = 3
RETRY_CONNECT = 2
RETRY_READ = 1
RETRY_STATUS = 2
RETRY_BACKOFF_S = 0.2
USER_AGENT = "alipay-payments-bundle/0.1"

metrics = Metrics()


def record_provider_call_latency(started: float) -> None:
    """The dashboard's provider latency p50/p99: one value per call, timeouts included."""
    elapsed_ms = (time.perf_counter() - started) * 1000
    metrics.add_metric(name="ProviderCallLatency", unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 1))


@frozen
class HttpResponse:
    """A provider's (or a webhook endpoint's) answer: status, headers, raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class HttpClient:
    """`requests` is imported, and the pooled session made, on the first call: notifications from
    most providers never call out, so the notify function's cold start does not pay for it."""

    def __init__(self, session: requests.Session | None = None, *, provider_calls: bool = True) -> None:
        self._session = session
        self._provider_calls = provider_calls  # False: not a provider (webhooks): no provider latency

    def drop_connections(self) -> None:
        """Close the pooled connections (after a SnapStart restore their sockets are gone); the next
        call opens new ones."""
        if self._session is not None:
            self._session.close()

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = self._new_session()
        return self._session

    @staticmethod
    def _new_session() -> requests.Session:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        retry = Retry(
            total=RETRY_TOTAL,
            connect=RETRY_CONNECT,
            read=RETRY_READ,
            status=RETRY_STATUS,
            allowed_methods=frozenset({"GET", "HEAD"}),
            status_forcelist=frozenset({502, 503, 504}),
            backoff_factor=RETRY_BACKOFF_S,
            raise_on_status=False,
            # Our own backoff only: a Retry-After of minutes would outlast the function (and the
            # reserve reconciliation keeps, worst_call_s below); the next run or request comes anyway.
            respect_retry_after_header=False,
        )
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=8)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        return session

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
    ) -> HttpResponse:
        import requests  # a dictionary lookup once the session exists

        session = self.session
        started = time.perf_counter()
        try:
            reply = session.request(method, url, headers=headers, data=body, timeout=timeout)
        except requests.Timeout:
            raise ProviderTimeout("the payment provider did not answer in time") from None
        except requests.RequestException as exc:
            # The exception text can include the URL; keep only its class.
            # The request may have been sent before the connection failed: the outcome is unknown.
            raise ProviderUnavailable(
                f"the connection to the payment provider failed ({type(exc).__name__}); it may have acted"
            ) from None
        finally:
            if self._provider_calls:
                record_provider_call_latency(started)
        return HttpResponse(status=reply.status_code, headers=dict(reply.headers), body=reply.content)


def worst_call_s() -> float:
    """The longest one provider call can take with the default timeouts: every attempt spends its
    connect and read timeouts, with urllib3's pauses between them (a reserve the reconciler keeps)."""
    attempts = RETRY_TOTAL + 1
    pauses = sum(RETRY_BACKOFF_S * 2.0 ** (n - 1) for n in range(2, attempts))  # none before the first retry
    return attempts * (CONNECT_TIMEOUT_S + READ_TIMEOUT_S) + pauses


@lru_cache(maxsize=1)
def default_http() -> HttpClient:
    return HttpClient()
