"""The AWS clients every module makes: botocore's, from one session per process.

Not boto3's: `import boto3` also loads s3transfer and boto3's resource layer (~30 ms of a cold start,
measured by bench/run.py's cold-start step), and none of this layer's code uses them. A botocore
client is what a boto3 client is, made the same way (the same credentials chain, region, endpoint
variables such as AWS_ENDPOINT_URL, and retries).
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
from botocore.config import Config

# Throttling and transient errors are retried inside botocore with exponential backoff and jitter.
# No client-side parameter validation: every request is built by this layer and validated again by
# the service, and either failure ends the same way; it saves ~0.1 ms of CPU per call.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 5},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
    parameter_validation=False,
)

_session: botocore.session.Session | None = None
_lock = threading.Lock()


def session() -> botocore.session.Session:
    """The process's session, made at its first use."""
    global _session
    with _lock:
        if _session is None:
            _session = botocore.session.get_session()
        return _session


def client(service: str) -> Any:
    """A new client of `service` with RETRY_CONFIG. Clients share the session's loaded service models
    and resolved credentials: a second client costs ~5 ms where a second session would cost ~60."""
    made_from = session()
    with _lock:  # botocore's session is not safe to build clients from in parallel
        return made_from.create_client(service, config=RETRY_CONFIG)


def forget_session() -> None:
    """The next client is made from a new session, which resolves credentials afresh (after a
    SnapStart restore; or a test process that started its AWS mock after a client was made)."""
    global _session
    with _lock:
        _session = None
