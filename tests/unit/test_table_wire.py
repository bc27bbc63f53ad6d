"""The table's wire (payments/store/wire.py) against botocore's own client: the same request on the
wire (a SigV4 signature checked by an implementation of AWS's published algorithm written here), the
same answers and errors, retried by the client's own retry handler."""

from __future__ import annotations

import hashlib
import hmac
import json
import zlib
from collections.abc import Callable, Iterator
from typing import Any, cast
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, EndpointConnectionError

from payments.errors import StoreUnavailable
from payments.store.table import RETRY_CONFIG, Table
from payments.store.wire import DynamoDBWire, UnreadableAnswer
from tests.support.aws import client as aws_client

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")
ITEM = {"pk": {"S": "ORDER#o-1"}, "sk": {"S": "ORDER"}, "raw": {"B": b"\x00\xffbody"}, "n": {"N": "12"}}


class Raw:
    """A response body as urllib3 streams it."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self.body


def text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def answer(status: int, body: dict[str, Any], **headers: str) -> AWSResponse:
    raw = Raw(json.dumps(body).encode())  # read by .content, as urllib3's would be
    return AWSResponse("https://dynamodb", status, cast(Any, {"x-amzn-RequestId": "r-1", **headers}), raw)


@pytest.fixture
def dynamodb() -> Any:
    """botocore's client as the layer makes it, answered by the test (no AWS, no moto)."""
    return botocore.session.get_session().create_client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id=CREDENTIALS.access_key,
        aws_secret_access_key=CREDENTIALS.secret_key,
        aws_session_token=CREDENTIALS.token,
        config=RETRY_CONFIG,
    )


def answered_by(
    dynamodb: Any, reply: Callable[[AWSPreparedRequest], AWSResponse]
) -> list[AWSPreparedRequest]:
    """The client's sends answered by `reply`; the requests as they would have left."""
    sent: list[AWSPreparedRequest] = []

    def handler(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        sent.append(request)
        return reply(request)

    dynamodb.meta.events.register_first("before-send.dynamodb", handler)
    return sent


def sigv4_signature(request: AWSPreparedRequest, signed_headers: list[str], secret: str) -> str:
    """AWS Signature Version 4 as AWS documents it (canonical request, string to sign, derived key)."""
    url = urlsplit(request.url)
    headers = {name.lower(): str(value) for name, value in request.headers.items()}
    headers.setdefault("host", url.netloc)
    body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
    canonical = "\n".join(
        [
            request.method,
            url.path or "/",
            url.query,
            "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed_headers),
            ";".join(signed_headers),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    amz_date = headers["x-amz-date"]
    scope = f"{amz_date[:8]}/eu-west-1/dynamodb/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], "eu-west-1", "dynamodb", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_a_request_is_botocores_request_signed_as_aws_documents(dynamodb: Any) -> None:
    sent = answered_by(dynamodb, lambda _: answer(200, {}))
    parameters = {"TableName": "t", "Item": ITEM, "ConditionExpression": "attribute_not_exists(pk)"}
    dynamodb.put_item(**parameters)
    DynamoDBWire(dynamodb, CREDENTIALS).put_item(**parameters)
    theirs, ours = sent
    assert (ours.method, ours.url) == (theirs.method, theirs.url)
    for header in ("Content-Type", "X-Amz-Target", "X-Amz-Security-Token"):
        assert text(ours.headers[header]) == text(theirs.headers[header])
    assert json.loads(cast(bytes, ours.body)) == json.loads(
        cast(bytes, theirs.body)
    )  # the binary value base64, as botocore's
    authorization = str(ours.headers["Authorization"])
    credential, signed, signature = (
        part.split("=", 1)[1] for part in authorization.split(" ", 1)[1].split(", ")
    )
    assert credential.startswith("AKIDEXAMPLE/")
    assert credential.endswith("/eu-west-1/dynamodb/aws4_request")
    signed_headers = signed.split(";")
    assert {"host", "x-amz-date", "x-amz-target", "content-type", "x-amz-security-token"} <= set(
        signed_headers
    )
    assert signature == sigv4_signature(ours, signed_headers, CREDENTIALS.secret_key)
    assert signature != sigv4_signature(ours, signed_headers, "another secret")  # the check can fail


def test_answers_are_botocores_answers_binary_values_included(dynamodb: Any) -> None:
    found = {"Items": [{**ITEM, "raw": {"B": "AP9ib2R5"}}], "Count": 1, "ScannedCount": 1}
    answered_by(dynamodb, lambda _: answer(200, found))
    theirs = dynamodb.query(TableName="t", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={})
    ours = DynamoDBWire(dynamodb, CREDENTIALS).query(TableName="t", KeyConditionExpression="pk = :pk")
    theirs.pop("ResponseMetadata")
    assert ours == theirs
    assert ours["Items"][0]["raw"] == {"B": b"\x00\xffbody"}


@pytest.mark.parametrize(
    "body",
    [
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            "message": "The conditional request failed",
            "Item": {"pk": {"S": "ORDER#o-1"}, "raw": {"B": "AP8="}},
        },
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
            "CancellationReasons": [
                {"Code": "ConditionalCheckFailed", "Message": "failed", "Item": {"version": {"N": "3"}}},
                {"Code": "None"},
            ],
        },
        {"__type": "com.amazon.coral.validate#ValidationException", "message": "One or more values"},
    ],
    ids=["condition", "cancelled", "validation"],
)
def test_errors_are_raised_as_botocore_raises_them(dynamodb: Any, body: dict[str, Any]) -> None:
    answered_by(dynamodb, lambda _: answer(400, body))
    with pytest.raises(ClientError) as theirs:
        dynamodb.put_item(TableName="t", Item=ITEM)
    with pytest.raises(ClientError) as ours:
        DynamoDBWire(dynamodb, CREDENTIALS).put_item(TableName="t", Item=ITEM)
    assert type(ours.value) is type(theirs.value)  # the client's modeled exception
    assert ours.value.operation_name == theirs.value.operation_name == "PutItem"
    for key in ("Error", "CancellationReasons", "Item"):
        assert ours.value.response.get(key) == theirs.value.response.get(key)
    assert str(ours.value) == str(theirs.value)


def test_throttling_is_retried_by_the_clients_handler_with_its_backoff(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttled = {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "slow"}
    replies = iter([answer(400, throttled), answer(503, {}), answer(200, {"Items": [], "Count": 0})])
    sent = answered_by(dynamodb, lambda _: next(replies))
    delays: list[float] = []
    monkeypatch.setattr("payments.store.wire.time.sleep", delays.append)
    assert DynamoDBWire(dynamodb, CREDENTIALS).query(TableName="t")["Count"] == 0
    assert len(sent) == 3
    assert len(delays) == 2
    assert all(0 <= delay <= 20 for delay in delays)
    assert sent[0] is not sent[1]  # each attempt a request of its own, signed afresh


def test_an_unreachable_endpoint_is_retried_then_raised(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(_: AWSPreparedRequest) -> AWSResponse:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com")

    sent = answered_by(dynamodb, unreachable)
    monkeypatch.setattr("payments.store.wire.time.sleep", lambda _: None)
    with pytest.raises(EndpointConnectionError):
        DynamoDBWire(dynamodb, CREDENTIALS).get_item(TableName="t", Key={})
    assert len(sent) == vars(RETRY_CONFIG)["retries"]["total_max_attempts"]


def test_a_client_error_is_not_retried(dynamodb: Any) -> None:
    invalid = {"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"}
    sent = answered_by(dynamodb, lambda _: answer(400, invalid))
    with pytest.raises(ClientError):
        DynamoDBWire(dynamodb, CREDENTIALS).update_item(TableName="t", Key={})
    assert len(sent) == 1


def test_a_success_gives_the_retry_quota_back_as_botocore_does(dynamodb: Any) -> None:
    """The quota botocore's handler takes for each retry comes back with `after-call` (botocore's
    retries/standard.py): a wire that never said so would stop retrying after enough throttling."""
    seen: list[tuple[str, int]] = []
    dynamodb.meta.events.register(
        "after-call.dynamodb",
        lambda event_name, http_response, **_: seen.append((event_name, http_response.status_code)),
    )
    answered_by(dynamodb, lambda _: answer(200, {}))
    DynamoDBWire(dynamodb, CREDENTIALS).transact_write_items(TransactItems=[])
    assert seen == [("after-call.dynamodb.TransactWriteItems", 200)]


def test_an_operation_the_stores_do_not_send_is_not_there(dynamodb: Any) -> None:
    with pytest.raises(AttributeError):
        DynamoDBWire(dynamodb, CREDENTIALS).delete_table  # noqa: B018


def test_against_moto_it_reads_what_botocore_wrote(mocked_aws: None) -> None:
    """One table, written and read through both: each reads what the other wrote (moto parses the
    wire's JSON as DynamoDB would)."""
    from payments import aws_clients

    dynamodb = aws_client("dynamodb")
    dynamodb.create_table(
        TableName="wire",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        ours = DynamoDBWire(aws_clients.client("dynamodb"), aws_clients.session().get_credentials())
        ours.transact_write_items(TransactItems=[{"Put": {"TableName": "wire", "Item": ITEM}}])
        read = dynamodb.query(
            TableName="wire",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "ORDER#o-1"}},
        )
        assert read["Items"] == [ITEM]
        dynamodb.put_item(TableName="wire", Item={**ITEM, "sk": {"S": "EVENT#1"}})
        mine = ours.query(
            TableName="wire",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "ORDER#o-1"}},
            ConsistentRead=True,
        )
        assert mine["Items"] == [{**ITEM, "sk": {"S": "EVENT#1"}}, ITEM]
        with pytest.raises(ClientError) as failed:
            ours.put_item(TableName="wire", Item=ITEM, ConditionExpression="attribute_not_exists(pk)")
        assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    finally:
        dynamodb.delete_table(TableName="wire")


@pytest.mark.parametrize(
    ("body", "crc32"),
    [(b'{"Items": [], "Count": 0}', "12345"), (b"<html>proxy error</html>", None), (b"[]", None)],
    ids=["crc32 mismatch", "not json", "not an object"],
)
def test_an_answer_that_cannot_be_read_is_never_an_empty_answer(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch, body: bytes, crc32: str | None
) -> None:
    """botocore's parser reads a garbled 200 as an answer with nothing in it (a Query that found no
    order): the wire sends it again, as a lost answer, then fails."""
    headers = {"x-amz-crc32": crc32} if crc32 else {}
    sent = answered_by(
        dynamodb, lambda _: AWSResponse("https://dynamodb", 200, cast(Any, headers), Raw(body))
    )
    monkeypatch.setattr("payments.store.wire.time.sleep", lambda _: None)
    with pytest.raises(UnreadableAnswer):
        DynamoDBWire(dynamodb, CREDENTIALS).query(TableName="t")
    assert len(sent) == vars(RETRY_CONFIG)["retries"]["total_max_attempts"]
    with pytest.raises(StoreUnavailable):  # what the table makes of it
        Table("t", client=DynamoDBWire(dynamodb, CREDENTIALS)).call("query")


def test_an_answer_with_its_crc32_is_read(dynamodb: Any) -> None:
    body = b'{"Items": [], "Count": 0}'
    headers = {"x-amz-crc32": str(zlib.crc32(body))}
    answered_by(dynamodb, lambda _: AWSResponse("https://dynamodb", 200, cast(Any, headers), Raw(body)))
    assert DynamoDBWire(dynamodb, CREDENTIALS).query(TableName="t") == {"Items": [], "Count": 0}
