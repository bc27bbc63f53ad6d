"""Antom's notifications as the adapter reads them, below the handlers: verified over the path of the
notify URL Antom was given and the request-time as received; notifyPayment's PAYMENT_RESULT and
PAYMENT_PENDING; notifyRefund in both spellings, naming its order through our refundRequestId; the
exact acknowledgement."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote_plus, urlsplit

import pytest

from local.providers.antom.sandbox import AntomSandbox, signature_header, signed_content
from local.testing import Notification as Sent
from payments.errors import NotificationRejected, PaymentsError, ProviderRejected
from payments.facts import RefundFact, RefundStatus
from payments.ledger import MERCHANT, Refund
from payments.money import Money
from payments.orders import OrderStatus
from payments.providers.antom.adapter import Antom
from payments.providers.base import RefundContext
from tests.providers.antom.fixtures import (
    ANTOM_KEY,
    NOTIFY_URL,
    NOW,
    context_for,
    create_request,
    make_adapter,
    new_sandbox,
    order_for,
    raw_request,
)
from tests.reliability.forgeries import rsa_sign


def paid_order(order_id: str, notify_url: str = NOTIFY_URL) -> tuple[Antom, AntomSandbox]:
    adapter, http = make_adapter()
    request = create_request(order_id)
    adapter.create_payment(order_for(request), replace(context_for(request), notify_url=notify_url))
    return adapter, http.sandbox


def read(adapter: Antom, sent: Sent, url: str | None = None) -> object:
    return adapter.parse_notification(raw_request(sent.headers, sent.body, sent.url if url is None else url))


@pytest.mark.parametrize(
    ("action", "status", "word"),
    [
        ("pay", OrderStatus.PAID, "SUCCESS"),
        ("fail", OrderStatus.FAILED, "USER_BALANCE_NOT_ENOUGH"),
        ("expire", OrderStatus.EXPIRED, "ORDER_IS_CLOSED"),
    ],
)
def test_a_payment_result_is_read_from_its_status_and_amount(
    action: str, status: OrderStatus, word: str
) -> None:
    adapter, sandbox = paid_order("n-1")
    sandbox.control("n-1", action)
    [sent] = sandbox.take_notifications()
    note = adapter.parse_notification(raw_request(sent.headers, sent.body, sent.url))
    assert (note.order_id, note.status, note.provider_status, note.amount) == (
        "n-1",
        status,
        word,
        Money(1000, "EUR"),
    )
    assert note.provider_reference == sandbox.payments["n-1"]["paymentId"]
    assert sandbox.acknowledged(*ack(adapter, note))


def ack(adapter: Antom, note: object) -> tuple[int, str]:
    reply = adapter.acknowledge(note, None)  # type: ignore[arg-type]
    return reply.status, reply.body


def test_payment_pending_with_s_is_not_paid() -> None:
    adapter, sandbox = paid_order("n-2")
    sandbox.pay_pending("n-2")
    [sent] = sandbox.take_notifications()
    assert b'"resultStatus": "S"' in sent.body
    note = adapter.parse_notification(raw_request(sent.headers, sent.body, sent.url))
    assert (note.facts, note.no_op_reason is not None) == ((), True)
    assert sandbox.acknowledged(*ack(adapter, note))


def test_an_unmapped_result_is_unknown_never_paid_or_failed() -> None:
    adapter, sandbox = paid_order("n-3")
    sent = sandbox.payment_notification("n-3", result=("U", "PAYMENT_IN_PROCESS"))
    note = adapter.parse_notification(raw_request(sent.headers, sent.body, sent.url))
    assert note.status == OrderStatus.UNKNOWN


@pytest.mark.parametrize("words", ["long", "short"])
def test_a_refund_result_in_either_spelling_names_its_order_through_our_refund_request_id(words: str) -> None:
    adapter, sandbox = paid_order("n-4")
    sandbox.refund_words = words
    sandbox.pay_silently("n-4")
    order = replace(order_for(create_request("n-4")), provider_reference=sandbox.payments["n-4"]["paymentId"])
    results = []
    for refund_id, knob in (("r-ok", "hold_refunds"), ("r-bad", "fail_next_refund")):
        sandbox.control("n-4", knob)
        key = adapter.refund_key("n-4", refund_id)
        refund = Refund(refund_id, "n-4", Money(100, "EUR"), RefundStatus.UNKNOWN, MERCHANT, key, "t", "t")
        with pytest.raises(PaymentsError):  # in process: unknown until notified or asked
            adapter.refund(order, refund, RefundContext(NOTIFY_URL, NOW))
        sandbox.release_refunds("n-4")
        [sent] = sandbox.take_notifications()
        note = adapter.parse_notification(raw_request(sent.headers, sent.body, sent.url))
        [fact] = note.facts
        assert isinstance(fact, RefundFact)
        assert (note.order_id, fact.key, fact.amount) == ("n-4", key, Money(100, "EUR"))
        results.append((fact.status, note.provider_status))
    expected = {"long": ["refund:SUCCESS", "refund:FAIL"], "short": ["refund:S", "refund:F"]}[words]
    assert results == list(zip([RefundStatus.SUCCEEDED, RefundStatus.FAILED], expected, strict=True))


def test_a_refund_result_for_a_refund_request_id_that_is_not_ours_is_refused() -> None:
    adapter, sandbox = paid_order("n-5")
    sandbox.pay_silently("n-5")
    sent = sandbox.provider_refund("n-5", "2026112299990000000001", 100)  # made elsewhere: Antom's id
    with pytest.raises(NotificationRejected) as refused:
        read(adapter, sent)
    assert refused.value.reason == "unknown_refund"


@pytest.mark.parametrize(
    "given",
    [
        "https://abc123.execute-api.eu-west-1.amazonaws.com/Prod/notify/antom",  # a stage
        "https://pay.example.com/shop-api/notify/antom",  # a custom domain's base path
        "http://127.0.0.1:3000/notify/antom",  # the local stack
    ],
)
def test_verified_over_the_path_of_the_notify_url_given_never_the_lambdas(given: str) -> None:
    adapter, sandbox = paid_order("n-6", notify_url=given)
    sandbox.pay("n-6")
    [sent] = sandbox.take_notifications()
    assert sent.url == given
    assert read(adapter, sent, given).status == OrderStatus.PAID  # type: ignore[attr-defined]
    for other in ("https://h/notify/antom", given + "/", given.replace("/notify/", "/Notify/"), ""):
        if urlsplit(other).path == urlsplit(given).path:
            continue  # the same path: what Antom signed (the host is not signed)
        with pytest.raises(NotificationRejected) as refused:
            read(adapter, sent, other)
        assert refused.value.reason == "bad_signature"


def test_request_time_is_taken_as_received_whatever_its_form() -> None:
    adapter, sandbox = paid_order("n-7")
    sandbox.pay_silently("n-7")
    sent = sandbox.payment_notification("n-7")
    for moment in ("1795435200000", "2026-11-22T20:00:00+08:00", "2026-11-22T12:00:00Z"):
        content = signed_content("/v1/notify/antom", sent.headers["client-id"], moment, sent.body)
        value = quote_plus(rsa_sign(ANTOM_KEY, content.decode()))
        headers = {**sent.headers, "request-time": moment, "signature": signature_header(value)}
        assert read(adapter, replace(sent, headers=headers)).status == OrderStatus.PAID  # type: ignore[attr-defined]
        stale = {**headers, "request-time": "2026-11-22T11:00:00+00:00"}
        with pytest.raises(NotificationRejected):
            read(adapter, replace(sent, headers=stale))


def test_a_notification_for_another_client_is_refused_even_when_antom_signed_it() -> None:
    adapter, sandbox = paid_order("n-8")
    sandbox.pay_silently("n-8")
    theirs = new_sandbox(client_id="SANDBOX_SOMEONEELSE01")
    theirs.payments = sandbox.payments
    with pytest.raises(NotificationRejected) as refused:
        read(adapter, theirs.payment_notification("n-8"))
    assert (refused.value.reason, refused.value.status) == ("client_mismatch", 403)


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("text/plain", b"{}", "unsupported_content_type"),
        (
            "application/json",
            b'{"notifyType":"PAYMENT_RESULT","notifyType":"REFUND_RESULT"}',
            "malformed_body",
        ),
        ("application/json", b"[1]", "malformed_body"),
        ("application/json", b"\xff", "malformed_body"),
    ],
)
def test_a_body_that_is_not_one_json_object_is_refused(content_type: str, body: bytes, reason: str) -> None:
    adapter, _ = make_adapter()
    with pytest.raises(NotificationRejected) as refused:
        adapter.parse_notification(raw_request({"Content-Type": content_type}, body))
    assert refused.value.reason == reason


def test_our_answers_antom_reads_as_received_or_not() -> None:
    adapter, sandbox = paid_order("n-9")
    assert adapter.acknowledge(None, None).body == (
        '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}'
    )
    refused = adapter.acknowledge(None, NotificationRejected("bad_signature", "no", status=401))
    assert refused.status == 401
    assert not sandbox.acknowledged(refused.status, refused.body)
    busy = adapter.acknowledge(None, ProviderRejected("x", provider_code="y", provider_message="z"))
    assert not sandbox.acknowledged(busy.status, busy.body)
