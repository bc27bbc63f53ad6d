"""The Antom adapter against its sandbox, below the handlers: what it sends (pay, inquiryPayment,
refund, inquiryRefund, cancel), how it reads each answer (S, F, U, with or without a link), and its
settings."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from local.testing import pem_body, private_pem, public_pem
from payments.errors import ConfigurationError, ProviderRejected, ProviderUnavailable
from payments.facts import CancelResult, RefundFact, RefundStatus
from payments.ledger import MERCHANT, Refund
from payments.money import Money
from payments.orders import Order, OrderStatus
from payments.providers.antom.adapter import Antom, AntomSettings
from payments.providers.base import RefundContext
from payments.providers.directory import ProviderDirectory
from tests.providers.antom.fixtures import (
    ANTOM_KEY,
    MERCHANT_KEY,
    NOTIFY_URL,
    NOW,
    context_for,
    create_request,
    make_adapter,
    new_sandbox,
    order_for,
    settings_entry,
)
from tests.support.sandbox_client import SandboxHttp


def created(adapter: Antom, order_id: str, **overrides: Any) -> Order:
    request = create_request(order_id, **overrides)
    order = order_for(request)
    statement = adapter.create_payment(order, context_for(request))
    return replace(order, provider_reference=statement.provider_reference)


def sent_body(http: SandboxHttp, index: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(http.sent[index][2])
    return body


# -- create --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("answer", ["U", "S"])
def test_a_cashier_link_with_s_or_u_is_a_pending_payment(answer: str) -> None:
    sandbox = new_sandbox()
    sandbox.create_answer = answer
    adapter, http = make_adapter(sandbox)
    request = create_request("o-1", terminal_type="APP", os_type="ANDROID", expires_in_seconds=900)
    statement = adapter.create_payment(order_for(request), context_for(request))
    payment = sandbox.payments["o-1"]
    assert (statement.status, statement.payment_url) == (OrderStatus.PENDING, payment["normalUrl"])
    assert statement.provider_status == {"U": "U:PAYMENT_IN_PROCESS", "S": "S:SUCCESS"}[answer]
    assert statement.provider_reference == payment["paymentId"]
    assert statement.amount == Money(1000, "EUR")
    assert {"schemeUrl", "applinkUrl"} <= set(statement.payload)  # kept for app flows
    body = sent_body(http)
    assert body["productCode"] == "CASHIER_PAYMENT"
    assert body["paymentRequestId"] == body["order"]["referenceOrderId"] == "o-1"
    assert body["paymentAmount"] == body["order"]["orderAmount"] == {"currency": "EUR", "value": "1000"}
    assert body["paymentMethod"] == {"paymentMethodType": "ALIPAY_CN"}
    assert (body["paymentRedirectUrl"], body["paymentNotifyUrl"]) == (
        "https://shop.example.com/return",
        NOTIFY_URL,
    )
    assert body["paymentExpiryTime"] == "2026-11-22T12:15:00+00:00"
    assert body["env"] == {"terminalType": "APP", "osType": "ANDROID", "clientIp": "89.20.162.110"}
    assert body["order"]["buyer"] == {
        "buyerName": {"firstName": "Mei", "lastName": "Wang"},
        "buyerEmail": "mei.wang@example.com",
        "buyerPhoneNo": "+31208500500",
    }


def test_a_refusal_is_final_and_says_antoms_code() -> None:
    sandbox = new_sandbox()
    sandbox.force("F:RISK_REJECT")
    adapter, _ = make_adapter(sandbox)
    request = create_request("o-2")
    with pytest.raises(ProviderRejected) as refused:
        adapter.create_payment(order_for(request), context_for(request))
    assert (refused.value.provider_code, refused.value.provider_message) == (
        "RISK_REJECT",
        "scripted by the test",
    )


@pytest.mark.parametrize("script", ["U:PAYMENT_IN_PROCESS", "U!:UNKNOWN_EXCEPTION"])
def test_u_without_a_link_is_unknown_and_asked_about_never_sent_again(script: str) -> None:
    sandbox = new_sandbox()
    sandbox.force(script)
    adapter, http = make_adapter(sandbox)
    request = create_request("o-3")
    order = order_for(request)
    with pytest.raises(ProviderUnavailable) as unknown:
        adapter.create_payment(order, context_for(request))
    assert unknown.value.code == "provider_result_unknown"
    found = adapter.query(order)  # what the service does next: inquiryPayment
    made = script.startswith("U:")
    assert (found is not None) == made
    if found is not None:
        assert (found.status, found.provider_status) == (OrderStatus.PENDING, "PROCESSING")
    assert [json.loads(body).get("productCode") for _, _, body in http.sent].count("CASHIER_PAYMENT") == 1


def test_the_same_payment_again_answers_the_same_link_and_another_under_its_id_is_refused() -> None:
    adapter, http = make_adapter()
    request = create_request("o-4")
    first = adapter.create_payment(order_for(request), context_for(request))
    again = adapter.create_payment(order_for(request), context_for(request))
    assert again.payment_url == first.payment_url
    other = create_request("o-4", amount={"value": 999, "currency": "EUR"})
    with pytest.raises(ProviderRejected) as refused:
        adapter.create_payment(order_for(other), context_for(other))
    assert refused.value.provider_code == "REPEAT_REQ_INCONSISTENT"
    assert len(http.sandbox.payments) == 1


# -- inquiryPayment ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "code", "status"),
    [
        ("PROCESSING", None, OrderStatus.PENDING),
        ("PENDING", None, OrderStatus.PENDING),
        ("SUCCESS", None, OrderStatus.PAID),
        ("FAIL", "USER_BALANCE_NOT_ENOUGH", OrderStatus.FAILED),
        ("FAIL", "ORDER_IS_CLOSED", OrderStatus.EXPIRED),  # closed unpaid at its expiry
        ("CANCELLED", None, OrderStatus.CANCELLED),
        ("NEW_WORD", None, OrderStatus.UNKNOWN),
    ],
)
def test_inquiry_reads_payment_status_not_the_calls_result(
    word: str, code: str | None, status: OrderStatus
) -> None:
    adapter, http = make_adapter()
    order = created(adapter, "o-5")
    http.sandbox.payments["o-5"].update(
        {"status": word, "resultCode": code, "paymentTime": "2026-11-22T20:00:00+08:00"}
    )
    found = adapter.query(order)
    assert found is not None
    assert (found.status, found.provider_status, found.amount) == (status, word, Money(1000, "EUR"))


def test_an_unknown_payment_is_none_and_a_failed_inquiry_is_unclear() -> None:
    adapter, http = make_adapter()
    assert adapter.query(order_for(create_request("never-made"))) is None
    order = created(adapter, "o-6")
    http.sandbox.busy_next_query("o-6")
    with pytest.raises(ProviderUnavailable) as unclear:
        adapter.query(order)
    assert unclear.value.code == "provider_query_failed"


# -- refunds -------------------------------------------------------------------------------------------
def a_refund(adapter: Antom, order: Order, refund_id: str, value: int) -> Refund:
    key = adapter.refund_key(order.order_id, refund_id)
    return Refund(
        refund_id, order.order_id, Money(value, "EUR"), RefundStatus.UNKNOWN, MERCHANT, key, "t", "t"
    )


def test_refund_keys_name_their_order_and_stay_the_same() -> None:
    adapter, _ = make_adapter()
    longest = "o" * 50
    key = adapter.refund_key(longest, "r-1")
    assert key == adapter.refund_key(longest, "r-1") != adapter.refund_key(longest, "r-2")
    assert key.startswith(longest + "_R")
    assert len(key) == 64


def test_a_refund_succeeds_at_once_fails_when_refused_and_is_unknown_while_in_process() -> None:
    adapter, http = make_adapter()
    order = created(adapter, "o-7")
    http.sandbox.pay_silently("o-7")
    ctx = RefundContext(NOTIFY_URL, NOW)
    done = adapter.refund(order, a_refund(adapter, order, "r-1", 300), ctx)
    [fact] = done.facts
    assert isinstance(fact, RefundFact)
    assert (fact.status, fact.amount, fact.key) == (
        RefundStatus.SUCCEEDED,
        Money(300, "EUR"),
        adapter.refund_key("o-7", "r-1"),
    )
    body = sent_body(http)
    assert (body["paymentId"], body["refundNotifyUrl"]) == (order.provider_reference, NOTIFY_URL)
    with pytest.raises(ProviderRejected) as refused:
        adapter.refund(order, a_refund(adapter, order, "r-2", 800), ctx)
    assert refused.value.provider_code == "REFUND_AMOUNT_EXCEED"
    http.sandbox.hold_refunds("o-7")
    held = a_refund(adapter, order, "r-3", 200)
    with pytest.raises(ProviderUnavailable) as unknown:
        adapter.refund(order, held, ctx)
    assert unknown.value.code == "provider_result_unknown"
    assert refund_state(adapter, order, held) == (RefundStatus.PENDING, Money(200, "EUR"))
    http.sandbox.release_refunds("o-7")
    assert refund_state(adapter, order, held) == (RefundStatus.SUCCEEDED, Money(200, "EUR"))
    assert (
        adapter.resolve_refund(order, a_refund(adapter, order, "r-never", 1), RefundContext("", NOW)) is None
    )


def refund_state(adapter: Antom, order: Order, refund: Refund) -> tuple[RefundStatus, Money] | None:
    """What inquiryRefund says of `refund`."""
    found = adapter.resolve_refund(order, refund, RefundContext("", NOW))
    if found is None:
        return None
    [fact] = found.facts
    assert isinstance(fact, RefundFact)
    assert fact.key == refund.provider_key
    return fact.status, fact.amount


def test_a_refund_without_the_payment_id_asks_for_it_first() -> None:
    adapter, http = make_adapter()
    order = replace(created(adapter, "o-8"), provider_reference=None)
    http.sandbox.pay_silently("o-8")
    adapter.refund(order, a_refund(adapter, order, "r-1", 100), RefundContext("", NOW))
    assert [urlsplit_path(url) for url, _, _ in http.sent][-2:] == ["inquiryPayment", "refund"]
    assert "refundNotifyUrl" not in sent_body(http)  # reconciliation's resend names none


def urlsplit_path(url: str) -> str:
    return url.rsplit("/", 1)[1]


# -- cancel --------------------------------------------------------------------------------------------
def test_cancel_withdraws_an_unpaid_payment_and_never_cancels_a_paid_one() -> None:
    adapter, http = make_adapter()
    order = created(adapter, "o-9")
    assert adapter.cancel(order) == CancelResult.WITHDRAWN
    assert http.sandbox.status_of("o-9") == "CANCELLED"
    assert adapter.cancel(order) == CancelResult.WITHDRAWN  # already: not asked again
    paid = created(adapter, "o-10")
    http.sandbox.pay_silently("o-10")
    with pytest.raises(ProviderRejected) as refused:
        adapter.cancel(paid)  # Antom would cancel it, refunding the payer: a paid order takes a refund
    assert refused.value.provider_code == "PAYMENT_SUCCESS"
    assert http.sandbox.status_of("o-10") == "SUCCESS"
    assert [urlsplit_path(url) for url, _, _ in http.sent].count("cancel") == 1
    assert adapter.cancel(order_for(create_request("never-made"))) == CancelResult.NOT_AT_PROVIDER


# -- settings ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"client_id": ""}, "antom.client_id"),
        ({"private_key": "not a key"}, "antom.private_key"),
        ({"antom_public_key": "AAAA"}, "antom.antom_public_key"),
        ({"base_url": "http://open-sea-global.alipay.com"}, "antom.base_url"),
        ({"base_url": None}, "antom.base_url"),
        ({"wallets": []}, "antom.wallets"),
        ({"wallets": ["alipay_cn", "alipay_cn"]}, "antom.wallets"),
        ({"wallets": ["alipay_plus"]}, "antom.wallets.0"),
        ({"sign_hash": "SHA1"}, "antom.sign_hash"),
    ],
)
def test_an_invalid_entry_is_a_configuration_error_naming_the_field(
    changes: dict[str, Any], field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = {key: value for key, value in settings_entry(**changes).items() if value is not None}
    directory = ProviderDirectory(SandboxHttp(new_sandbox()))
    monkeypatch.setattr(directory, "_secret", lambda: {"antom": entry})
    with pytest.raises(ConfigurationError) as invalid:
        directory.get("antom")
    assert f"{field}:" in invalid.value.message
    assert "MII" not in invalid.value.message  # never the key material


@pytest.mark.parametrize("layout", ["pkcs8", "pkcs1"])
def test_keys_are_taken_as_pem_or_bare_base64(layout: str) -> None:
    for private, public in (
        (private_pem(MERCHANT_KEY, layout), public_pem(ANTOM_KEY)),
        (pem_body(private_pem(MERCHANT_KEY, layout)), pem_body(public_pem(ANTOM_KEY))),
    ):
        settings = AntomSettings.model_validate(settings_entry(private_key=private, antom_public_key=public))
        adapter = Antom(settings, SandboxHttp(new_sandbox()), clock=lambda: NOW)
        request = create_request("o-keys")
        assert adapter.create_payment(order_for(request), context_for(request)).status == OrderStatus.PENDING
