"""notify.pay: verification over the raw `request` text, the status and amount read, and our signed
replies — checked here with `cryptography` directly, never through our signing module."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.providers.alipay_intl.sandbox import AlipayIntlSandbox, Delivery, raw_members
from payments.errors import NotificationRejected, ProviderUnavailable, StoreUnavailable
from payments.money import Money
from payments.orders import OrderStatus
from payments.providers.alipay_intl.adapter import AlipayIntl
from payments.providers.base import RawRequest, RawResponse
from tests.providers.alipay_intl.fixtures import (
    ALIPAY_KEY,
    CLIENT_ID,
    MERCHANT_KEY,
    context_for,
    create_request,
    make_adapter,
    order_for,
)

HASHES = {"SHA256": hashes.SHA256(), "SHA1": hashes.SHA1()}
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
TITLE = '茶具 {"set"} \\"x\\"'


@pytest.fixture
def setup(request: pytest.FixtureRequest) -> tuple[AlipayIntl, AlipayIntlSandbox]:
    hash_name = getattr(request, "param", "SHA256")
    adapter, http = make_adapter(sign_hash=hash_name)
    order_request = create_request("n-1", description=TITLE)
    adapter.create_payment(order_for(order_request), context_for(order_request))
    return adapter, http.sandbox


def raw(delivery: Delivery | bytes, method: str = "POST") -> RawRequest:
    body = delivery.body if isinstance(delivery, Delivery) else delivery
    return RawRequest(
        method, body, {"content-type": "application/json; charset=UTF-8"}, {}, datetime.now(UTC)
    )


def signed_response(reply: RawResponse, hash_name: str = "SHA256") -> dict[str, Any]:
    """The reply's `response`, once its signature checks out with the merchant's public key.

    Located with the standard library's raw_decode, not with the adapter's scanner.
    """
    assert reply.content_type == "application/json; charset=UTF-8"
    text = reply.body
    prefix = '{"response":'
    assert text.startswith(prefix)
    value, end = json.JSONDecoder().raw_decode(text, len(prefix))
    rest = json.loads("{" + text[end:].lstrip(","))
    signature = base64.b64decode(rest["signature"], validate=True)
    signed = text[len(prefix) : end].encode("utf-8")
    MERCHANT_KEY.public_key().verify(signature, signed, padding.PKCS1v15(), HASHES[hash_name])
    with pytest.raises(InvalidSignature):
        MERCHANT_KEY.public_key().verify(signature, signed + b" ", padding.PKCS1v15(), HASHES[hash_name])
    assert set(rest) == {"signature"}
    result: dict[str, Any] = value
    return result


# -- genuine notifications ---------------------------------------------------------------------
@pytest.mark.parametrize("style", ["pretty", "compact", "ascii"])
def test_paid_notification_in_any_layout(setup: tuple[AlipayIntl, AlipayIntlSandbox], style: str) -> None:
    adapter, sandbox = setup
    delivery = sandbox.notification("n-1", style=style, body_changes={"orderTitle": TITLE})
    note = adapter.parse_notification(raw(delivery))
    assert note.order_id == "n-1"
    assert note.status == OrderStatus.PAID
    assert note.provider_status == "S:SUCCESS"
    assert note.amount == Money(1000, "EUR")
    assert note.provider_reference == sandbox.orders["n-1"]["acquirementId"]
    assert note.verified_by == "rsa-sha256"
    assert note.reply_context == {"reqMsgId": delivery.req_msg_id}
    assert note.payload["orderTitle"] == TITLE


def test_failed_notification(setup: tuple[AlipayIntl, AlipayIntlSandbox]) -> None:
    adapter, sandbox = setup
    note = adapter.parse_notification(raw(sandbox.notification("n-1", "PROCESS_FAIL")))
    assert (note.status, note.provider_status) == (OrderStatus.FAILED, "F:PROCESS_FAIL")
    assert note.provider_reference is None


def test_failed_notification_without_an_amount_is_still_read(
    setup: tuple[AlipayIntl, AlipayIntlSandbox],
) -> None:
    adapter, sandbox = setup
    delivery = sandbox.notification("n-1", "PROCESS_FAIL", body_changes={"orderAmount": None})
    assert adapter.parse_notification(raw(delivery)).amount is None


@pytest.mark.parametrize(
    "result_info",
    [
        {"resultStatus": "U", "resultCode": "UNKNOWN_EXCEPTION"},
        {"resultStatus": "S", "resultCode": "PROCESSING"},
        {"resultStatus": "X", "resultCode": "SUCCESS"},
        {},
    ],
)
def test_anything_but_s_success_or_f_is_unknown_never_a_guess(
    setup: tuple[AlipayIntl, AlipayIntlSandbox], result_info: dict[str, str]
) -> None:
    adapter, sandbox = setup
    note = adapter.parse_notification(
        raw(sandbox.notification("n-1", body_changes={"resultInfo": result_info}))
    )
    assert note.status == OrderStatus.UNKNOWN


@pytest.mark.parametrize("setup", ["SHA1"], indirect=True)
def test_sha1_notifications_verify_when_configured(setup: tuple[AlipayIntl, AlipayIntlSandbox]) -> None:
    adapter, sandbox = setup
    note = adapter.parse_notification(raw(sandbox.notification("n-1")))
    assert (note.status, note.verified_by) == (OrderStatus.PAID, "rsa-sha1")
    # ...and a SHA256 signature is then refused: the hash is the merchant's setting, not a guess.
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(raw(sandbox.notification("n-1", hash_name="SHA256")))
    assert caught.value.reason == "bad_signature"


# -- forgeries ------------------------------------------------------------------------------------
def forge(sandbox: AlipayIntlSandbox, how: str) -> bytes:
    genuine = sandbox.notification("n-1", style="compact").body
    if how == "another key":
        return sandbox.notification("n-1", key=OTHER_KEY).body
    if how == "wrong hash":
        return sandbox.notification("n-1", hash_name="SHA1").body
    if how == "tampered amount":
        return genuine.replace(b'"value":"1000"', b'"value":"1"')
    if how == "tampered status":
        failed = sandbox.notification("n-1", "PROCESS_FAIL", style="compact").body
        return failed.replace(b'"resultStatus":"F"', b'"resultStatus":"S"').replace(
            b"PROCESS_FAIL", b"SUCCESS"
        )
    if how == "tampered order id":
        return genuine.replace(b'"merchantTransId":"n-1"', b'"merchantTransId":"n-2"')
    if how == "no signature":
        return rebuild(genuine, None)
    if how == "empty signature":
        return rebuild(genuine, "")
    if how == "garbage signature":
        return rebuild(genuine, "not base64 at all!")
    if how == "signature of another notification":
        other = raw_members(sandbox.notification("n-1", "PROCESS_FAIL", style="compact").body.decode())
        return rebuild(genuine, json.loads(other["signature"]))
    if how == "re-serialised":  # what a parse-and-dump verifier would wrongly accept
        value = json.loads(genuine)
        return json.dumps(value, indent=1).encode()
    if how == "whitespace added inside":
        return genuine.replace(b'"merchantTransId":', b'"merchantTransId": ', 1)
    raise AssertionError(how)


def rebuild(body: bytes, signature: str | None) -> bytes:
    """The same `request` text with another signature (or none)."""
    text = raw_members(body.decode())["request"]
    tail = "" if signature is None else f',"signature":"{signature}"'
    return ('{"request":' + text + tail + "}").encode()


FORGERIES = [
    "another key",
    "wrong hash",
    "tampered amount",
    "tampered status",
    "tampered order id",
    "no signature",
    "empty signature",
    "garbage signature",
    "signature of another notification",
    "re-serialised",
    "whitespace added inside",
]


@pytest.mark.parametrize("how", FORGERIES)
def test_forged_notifications_are_rejected(setup: tuple[AlipayIntl, AlipayIntlSandbox], how: str) -> None:
    adapter, sandbox = setup
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(raw(forge(sandbox, how)))
    assert caught.value.status == 401
    assert caught.value.reason in {"bad_signature", "missing_signature"}


def test_a_second_request_member_cannot_smuggle_a_body(setup: tuple[AlipayIntl, AlipayIntlSandbox]) -> None:
    adapter, sandbox = setup
    genuine = sandbox.notification("n-1", "PROCESS_FAIL", style="compact").body
    paid = sandbox.notification("n-1", style="compact").body
    smuggled = paid[len(b'{\n  "request": ') : paid.rindex(b',\n  "signature"')]
    attack = genuine[:-1].rstrip() + b',"request":' + smuggled + b"}"
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(raw(attack))
    assert (caught.value.reason, caught.value.status) == ("malformed_body", 400)


def test_genuine_notification_for_another_client_is_refused(
    setup: tuple[AlipayIntl, AlipayIntlSandbox],
) -> None:
    # Alipay's key signs for every merchant: its signature alone does not make it ours.
    adapter, sandbox = setup
    delivery = sandbox.notification("n-1", head_changes={"clientId": "211020000000000000999"})
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(raw(delivery))
    assert (caught.value.reason, caught.value.status) == ("client_mismatch", 403)
    assert caught.value.claimed_order_id == "n-1"
    assert caught.value.reply_context == {"reqMsgId": delivery.req_msg_id}


def test_genuine_request_of_another_function_is_refused(setup: tuple[AlipayIntl, AlipayIntlSandbox]) -> None:
    adapter, sandbox = setup
    delivery = sandbox.notification("n-1", head_changes={"function": "alipay.intl.acquiring.common.refund"})
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(raw(delivery))
    assert (caught.value.reason, caught.value.status) == ("wrong_function", 400)


@pytest.mark.parametrize(
    "amount",
    [
        {"currency": "EUR", "value": "\uff11\uff10\uff10\uff10"},  # full-width digits pass str.isdigit()
        {"currency": "EUR", "value": "10.00"},
        {"currency": "EUR", "value": "-1000"},
        {"currency": "EUR", "value": 1000},
        {"currency": "EUR", "value": ""},
        {"currency": "XXX", "value": "1000"},
        {"value": "1000"},
        "1000 EUR",
        None,  # a paid notification must say what was paid
    ],
)
def test_a_verified_but_unreadable_amount_is_malformed(
    setup: tuple[AlipayIntl, AlipayIntlSandbox], amount: Any
) -> None:
    adapter, sandbox = setup
    delivery = sandbox.notification("n-1", body_changes={"orderAmount": amount})
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(raw(delivery))
    assert (caught.value.reason, caught.value.status) == ("malformed_body", 400)
    assert caught.value.claimed_order_id == "n-1"


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"request":"x","signature":"eA=="}', b"{}"])
def test_not_an_envelope_is_a_400(setup: tuple[AlipayIntl, AlipayIntlSandbox], body: bytes) -> None:
    adapter, _ = setup
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(raw(body))
    assert caught.value.status == 400


def test_only_post_is_a_notification(setup: tuple[AlipayIntl, AlipayIntlSandbox]) -> None:
    adapter, sandbox = setup
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(raw(sandbox.notification("n-1"), method="GET"))
    assert caught.value.status == 405


def test_an_unverified_req_msg_id_is_echoed_only_when_harmless(
    setup: tuple[AlipayIntl, AlipayIntlSandbox],
) -> None:
    adapter, sandbox = setup
    forged = sandbox.notification("n-1", key=OTHER_KEY, head_changes={"reqMsgId": 'x","injected":"y'})
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(raw(forged))
    assert caught.value.reply_context == {}


# -- our replies ------------------------------------------------------------------------------------
@pytest.mark.parametrize("setup", ["SHA256", "SHA1"], indirect=True)
def test_success_reply_is_signed_and_echoes_req_msg_id(setup: tuple[AlipayIntl, AlipayIntlSandbox]) -> None:
    adapter, sandbox = setup
    delivery = sandbox.notification("n-1")
    reply = adapter.acknowledge(adapter.parse_notification(raw(delivery)), None)
    assert reply.status == 200
    response = signed_response(reply, adapter.settings.sign_hash)
    assert response["head"]["reqMsgId"] == delivery.req_msg_id
    assert response["head"]["function"] == "alipay.intl.acquiring.cashier.notify.pay"
    assert response["head"]["clientId"] == CLIENT_ID
    assert response["head"]["version"] == "2.0.0"
    assert response["head"]["respTime"].endswith("+00:00")
    assert response["body"] == {
        "resultInfo": {
            "resultStatus": "S",
            "resultCodeId": "00000000",
            "resultCode": "SUCCESS",
            "resultMsg": "success",
        }
    }
    assert sandbox.acknowledged(reply.body, delivery)


@pytest.mark.parametrize(
    ("how", "status", "code"),
    [
        ("another key", 401, "INVALID_SIGNATURE"),
        ("no signature", 401, "INVALID_SIGNATURE"),
        ("tampered amount", 401, "INVALID_SIGNATURE"),
    ],
)
def test_rejections_get_a_signed_error_never_success(
    setup: tuple[AlipayIntl, AlipayIntlSandbox], how: str, status: int, code: str
) -> None:
    adapter, sandbox = setup
    with pytest.raises(NotificationRejected) as caught:
        adapter.parse_notification(raw(forge(sandbox, how)))
    reply = adapter.acknowledge(None, caught.value)
    assert reply.status == status
    result = signed_response(reply)["body"]["resultInfo"]
    assert (result["resultStatus"], result["resultCode"]) == ("F", code)


def test_error_replies_for_other_reasons(setup: tuple[AlipayIntl, AlipayIntlSandbox]) -> None:
    adapter, _ = setup
    cases = [
        (
            NotificationRejected(
                "unknown_order", "no such order", status=404, reply_context={"reqMsgId": "m1"}
            ),
            404,
        ),
        (NotificationRejected("malformed_body", "bad", status=400), 400),
        (NotificationRejected("client_mismatch", "other client", status=403), 403),
    ]
    codes = []
    for error, status in cases:
        reply = adapter.acknowledge(None, error)
        assert reply.status == status
        response = signed_response(reply)
        codes.append(response["body"]["resultInfo"]["resultCode"])
        assert response["body"]["resultInfo"]["resultStatus"] == "F"
    assert codes == ["PROCESS_FAIL", "PARAM_ILLEGAL", "UNKNOWN_CLIENT"]
    assert signed_response(adapter.acknowledge(None, cases[0][0]))["head"]["reqMsgId"] == "m1"


@pytest.mark.parametrize(
    ("error", "status"),
    [(ProviderUnavailable("down"), 503), (StoreUnavailable("down"), 503), (RuntimeError("bug"), 500)],
)
def test_when_we_cannot_decide_alipay_is_asked_to_retry(
    setup: tuple[AlipayIntl, AlipayIntlSandbox], error: Exception, status: int
) -> None:
    adapter, _ = setup
    reply = adapter.acknowledge(None, error)
    assert reply.status == status
    result = signed_response(reply)["body"]["resultInfo"]
    assert (result["resultStatus"], result["resultCode"]) == ("U", "UNKNOWN_EXCEPTION")


def test_reply_from_the_wrong_key_is_not_an_ack(setup: tuple[AlipayIntl, AlipayIntlSandbox]) -> None:
    """The sandbox's ack check is a real check: a reply signed with another key is not accepted."""
    _, sandbox = setup
    delivery = sandbox.notification("n-1")
    impostor, _ = make_adapter(private_key=ALIPAY_KEY.private_bytes(*_pem_pkcs8()).decode())
    note = impostor.parse_notification(raw(delivery))
    assert not sandbox.acknowledged(impostor.acknowledge(note, None).body, delivery)


def _pem_pkcs8() -> tuple[Any, Any, Any]:
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
