"""AWS Signature Version 4 for the wire's one kind of request (wire.py): a POST of a JSON body to the
endpoint's root, no query string, the same four headers every time.

botocore's SigV4Auth is general (any method, query, header set, presigning) and spends about 70 µs a
call on that generality: a case-insensitive header map rebuilt three times, the URL split again, the
signing key derived with four HMACs. Here the host and path are resolved once, the signing key once a
day, and a call is two SHA-256s and one HMAC (bench/README.md, "the table's wire").

Signed as botocore signs for DynamoDB (tests/unit/test_table_wire.py compares the two, and checks the
signature with AWS's published algorithm): content-type, host, x-amz-date, x-amz-security-token when
the credentials have one, x-amz-target, and the SHA-256 of the body.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.utils import normalize_url_path

ALGORITHM = "AWS4-HMAC-SHA256"
DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(url: str) -> str:
    """The Host header an HTTP client sends to `url`: lowercase, no userinfo, no default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


class JsonPostSigner:
    """Signs POSTs of `content_type` bodies to `url` for one region and service."""

    def __init__(self, url: str, region: str, service: str, content_type: str) -> None:
        self._host = host_of(url)
        self._path = quote(normalize_url_path(urlsplit(url).path), safe="/~")
        self._region = region
        self._service = service
        self._content_type = content_type
        self._key: tuple[str, str, bytes] = ("", "", b"")  # (secret, day, derived key): one a day

    def headers(self, credentials: Any, target: str, body: bytes, now: float | None = None) -> dict[str, str]:
        """The request's headers, Authorization included, signed at `now` (seconds since the epoch)."""
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        day = amz_date[:8]
        headers = {"Content-Type": self._content_type, "X-Amz-Date": amz_date, "X-Amz-Target": target}
        canonical_headers = f"content-type:{self._content_type}\nhost:{self._host}\nx-amz-date:{amz_date}\n"
        signed_headers = "content-type;host;x-amz-date;"
        token = credentials.token
        if token:
            headers["X-Amz-Security-Token"] = token
            canonical_headers += f"x-amz-security-token:{token}\n"
            signed_headers += "x-amz-security-token;"
        canonical_headers += f"x-amz-target:{target}\n"
        signed_headers += "x-amz-target"
        canonical_request = (
            f"POST\n{self._path}\n\n{canonical_headers}\n{signed_headers}\n{hashlib.sha256(body).hexdigest()}"
        )
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        string_to_sign = (
            f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        )
        signature = hmac.new(
            self._signing_key(credentials.secret_key, day), string_to_sign.encode(), hashlib.sha256
        ).hexdigest()
        headers["Authorization"] = (
            f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}"
        )
        return headers

    def _signing_key(self, secret: str, day: str) -> bytes:
        cached_secret, cached_day, key = self._key
        if cached_secret != secret or cached_day != day:
            key = ("AWS4" + secret).encode()
            for part in (day, self._region, self._service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._key = (secret, day, key)
        return key
