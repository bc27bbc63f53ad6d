"""DynamoDB's JSON protocol sent as it is, on botocore's parts: the table's own client (table.py).

For DynamoDB a low-level client's request *is* the wire body (AttributeValue JSON) and its answer *is*
the response body, so botocore's model-driven serialiser, parser and endpoint rules turn each call
into what it already was: two thirds of the CPU of a call (bench/README.md, "the table's wire"). Here
the body is `json.dumps` of the parameters and the answer `json.loads` of the body; everything else
is botocore's, from the client this wire is made with, so it behaves as that client does:

- the endpoint the client resolved (region, FIPS, AWS_ENDPOINT_URL) and its HTTP session (the pooled
  connections, TLS, proxies and timeouts of RETRY_CONFIG);
- the session's credentials, refreshed as they expire (SigV4 for this one request shape: sigv4.py);
- the client's events: `before-send` (moto answers there in tests and the local stack),
  `needs-retry` (the client's standard retry handler: which errors, how many attempts, the backoff
  and the retry quota, whose capacity `after-call` gives back);
- a service error raised as the client's modeled exception (a ClientError subclass) with the body's
  fields beside `Error`, as botocore parses them (CancellationReasons, Item).
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HeadersDict
from botocore.exceptions import HTTPClientError, NoCredentialsError

from payments.store.sigv4 import JsonPostSigner

TARGET_NAMESPACE = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
SERVICE = "dynamodb"

# The operations the stores send, by the client's method name.
OPERATIONS = {
    "query": "Query",
    "get_item": "GetItem",
    "put_item": "PutItem",
    "update_item": "UpdateItem",
    "delete_item": "DeleteItem",
    "batch_get_item": "BatchGetItem",
    "transact_write_items": "TransactWriteItems",
    "scan": "Scan",  # the operator's one-off backfill (index_backfill.py)
}


def _binary_as_text(value: Any) -> str:
    """json.dumps's fallback: a B value goes on the wire as base64, as botocore sends blobs."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not a DynamoDB wire value")


def _binary_as_bytes(node: dict[str, Any]) -> dict[str, Any]:
    """json.loads's object hook: a B (or BS) value back to bytes, as botocore's parser gives it."""
    if len(node) == 1:
        if "B" in node and isinstance(node["B"], str):
            return {"B": base64.b64decode(node["B"])}
        if "BS" in node and isinstance(node["BS"], list):
            return {"BS": [base64.b64decode(value) for value in node["BS"]]}
    return node


class UnreadableAnswer(HTTPClientError):
    """A 2xx answer whose body is not the JSON object DynamoDB sent (its CRC32 does not match, or it
    does not parse): as good as no answer. botocore's parser would read it as an empty answer (a
    Query with no items); here it is sent again as a lost answer is, then ends in StoreUnavailable."""

    fmt = "DynamoDB's answer could not be read: {reason}"


def _body(http: AWSResponse) -> dict[str, Any]:
    content = http.content
    if not content:
        return {}
    try:
        # The hook only when a binary value may be in it: it is a Python call for every object.
        parsed = (
            json.loads(content, object_hook=_binary_as_bytes) if b'"B' in content else json.loads(content)
        )
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _answer(http: AWSResponse) -> dict[str, Any]:
    """A successful answer's body, checked against the CRC32 DynamoDB sends with it."""
    content = http.content or b""
    crc32 = http.headers.get("x-amz-crc32")
    if crc32 is not None and crc32.isdigit() and zlib.crc32(content) != int(crc32):
        raise UnreadableAnswer(reason="its CRC32 does not match its body")
    try:
        parsed = (
            json.loads(content, object_hook=_binary_as_bytes) if b'"B' in content else json.loads(content)
        )
    except ValueError:
        raise UnreadableAnswer(reason="its body is not JSON") from None
    if not isinstance(parsed, dict):
        raise UnreadableAnswer(reason="its body is not a JSON object")
    return parsed


def error_response(http: AWSResponse) -> dict[str, Any]:
    """An error answer as botocore's JSON parser gives it: the code (from `__type`, else the
    x-amzn-ErrorType header, else the HTTP status) and message under `Error`, the body's other fields
    beside it."""
    body = _body(http)
    code = str(body.pop("__type", "") or http.headers.get("x-amzn-ErrorType", "") or http.status_code)
    code = code.rsplit("#", 1)[-1].split(":", 1)[0]
    message = body.get("message", body.get("Message", ""))
    body.pop("message", None)
    return {
        **body,
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {
            "RequestId": http.headers.get("x-amzn-RequestId", ""),
            "HTTPStatusCode": http.status_code,
            "HTTPHeaders": dict(http.headers),
        },
    }


class DynamoDBWire:
    """The calls the stores make, with the same names, arguments and answers as `client`'s."""

    def __init__(self, client: Any, credentials: Any) -> None:
        self._client = client
        self._credentials = credentials
        self._events = client.meta.events
        self._url = client.meta.endpoint_url.rstrip("/") + "/"
        self._region = client.meta.region_name
        # The pooled connections botocore made for this client (no public accessor): its TLS, proxy,
        # timeout and keep-alive settings are the client's (tests/unit/test_table_wire.py).
        self._http = client._endpoint.http_session
        self._models: dict[str, Any] = {}  # by operation, made at its first call (not in a cold start)
        self._user_agent = client.meta.config.user_agent
        self._signer = JsonPostSigner(self._url, self._region, SERVICE, CONTENT_TYPE)
        self.meta = client.meta  # as a client's: its events, region, endpoint and model

    @property
    def exceptions(self) -> Any:
        """The client's modeled exceptions: made at first use, by botocore (~1.5 ms of classes)."""
        return self._client.exceptions

    def __getattr__(self, method: str) -> Any:
        operation = OPERATIONS.get(method)
        if operation is None:
            raise AttributeError(method)

        def call(**parameters: Any) -> dict[str, Any]:
            return self.send(operation, parameters)

        return call

    def send(self, operation: str, parameters: dict[str, Any]) -> dict[str, Any]:
        """One operation's answer; retried as the client's retry handler decides."""
        body = json.dumps(parameters, default=_binary_as_text).encode()
        model = self._models.get(operation) or self._models.setdefault(
            operation, self._client.meta.service_model.operation_model(operation)
        )
        context: dict[str, Any] = {}  # the retry handler's per-call state (its quota's capacity)
        attempts = 1
        while True:
            http: AWSResponse | None = None
            caught: Exception | None = None
            answer: dict[str, Any] | None = None
            try:
                http = self._round_trip(operation, body)
                if http.status_code < 300:
                    answer = _answer(http)
            except Exception as exc:  # no answer: the retry handler judges it, as botocore's endpoint has it
                http, caught = None, exc
            parsed: dict[str, Any] | None = None
            if http is not None:
                if answer is not None:
                    self._events.emit(
                        f"after-call.{SERVICE}.{operation}",
                        http_response=http,
                        parsed=answer,
                        model=model,
                        context=context,
                    )
                    return answer
                parsed = error_response(http)
            delay = self._retry_delay(operation, model, attempts, context, http, parsed, caught)
            if delay is None:
                break
            time.sleep(delay)
            attempts += 1
        if caught is not None:
            raise caught
        assert parsed is not None  # noqa: S101 (an answer or an exception: one of them is there)
        raise self._client.exceptions.from_code(parsed["Error"]["Code"])(parsed, operation)

    def _round_trip(self, operation: str, body: bytes) -> AWSResponse:
        credentials = self._credentials.get_frozen_credentials() if self._credentials else None
        if credentials is None:
            raise NoCredentialsError()
        headers = self._signer.headers(credentials, TARGET_NAMESPACE + operation, body)  # afresh each attempt
        headers["User-Agent"] = self._user_agent
        headers["Content-Length"] = str(len(body))
        # A HeadersDict, as botocore's own AWSRequest.prepare() makes (its stubs say HTTPHeaders).
        headers_dict: Any = HeadersDict(headers)
        prepared = AWSPreparedRequest("POST", self._url, headers_dict, body, stream_output=False)
        for _, answer in self._events.emit(f"before-send.{SERVICE}.{operation}", request=prepared):
            if answer is not None:
                return answer  # type: ignore[no-any-return]
        return self._http.send(prepared)  # type: ignore[no-any-return]

    def _retry_delay(
        self,
        operation: str,
        model: Any,
        attempts: int,
        context: dict[str, Any],
        http: AWSResponse | None,
        parsed: dict[str, Any] | None,
        caught: Exception | None,
    ) -> float | None:
        """The client's retry handler's answer: seconds to wait before the next attempt, or None."""
        for _, delay in self._events.emit(
            f"needs-retry.{SERVICE}.{operation}",
            response=(http, parsed) if http is not None else None,
            endpoint=None,
            operation=model,
            attempts=attempts,
            caught_exception=caught,
            request_dict={"context": context},
        ):
            if delay is not None:
                return None if delay is False else float(delay)
        return None
