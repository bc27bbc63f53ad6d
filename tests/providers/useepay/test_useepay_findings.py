"""UseePay audit findings, at the adapter: re-cut notifications (1), query replies without the
transaction (7), non-ASCII digits (11). Signatures are made by the sandbox, never by the adapter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
import responses

from local.providers.useepay.sandbox import UseePaySandbox, useepay_base_string
from payments.errors import NotificationRejected, ProviderUnavailable
from payments.facts import RefundFact
from payments.http import HttpClient
from payments.money import Money
from payments.providers.base import RawRequest
from payments.providers.useepay.adapter import UseePay, UseePaySettings, unambiguous
from tests.providers.useepay.fixtures import MD5_SETTINGS, RSA_SETTINGS, sandbox_for
from tests.support.orders import stored_order

OURS = "500000000007264"
OTHER = "500000000009999"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def adapter(sign_type: str) -> UseePay:
    settings = MD5_SETTINGS if sign_type == "MD5" else RSA_SETTINGS
    return UseePay(UseePaySettings.model_validate(settings), HttpClient())


def signed(sandbox: UseePaySandbox, fields: dict[str, str]) -> dict[str, str]:
    return {**fields, "sign": sandbox.signature(fields)}


def raw(fields: dict[str, str]) -> RawRequest:
    return RawRequest("POST", urlencode(fields).encode(), FORM, {}, datetime.now(UTC))


def pay_fields(merchant: str, transaction_id: str, echo: str, sign_type: str) -> dict[str, str]:
    return {
        "version": "1.0",
        "merchantNo": merchant,
        "transactionId": transaction_id,
        "reference": "1012345678901234567",
        "transactionType": "pay",
        "amount": "1000",
        "currency": "EUR",
        "resultCode": "succeed",
        "echoParam": echo,
        "signType": sign_type,
    }


def recut(fields: dict[str, str], cut: str, into: dict[str, str]) -> dict[str, str]:
    """The same string to sign, read as other fields: `cut`'s value is split into `into`."""
    recut_fields = {key: value for key, value in fields.items() if key != cut}
    recut_fields.update(into)
    return recut_fields


@pytest.mark.parametrize("sign_type", ["MD5", "RSA"])
def test_a_notification_signed_for_another_merchant_cannot_be_recut_into_ours(sign_type: str) -> None:
    """With RSA the signing key is UseePay's, the same for every merchant. Another merchant puts our
    merchantNo and our order id in its echoParam; UseePay signs its notification; the attacker cuts it
    into separate fields. Same string to sign, same valid signature — refused all the same."""
    sandbox = sandbox_for(sign_type)
    tail = f"&merchantNo={OURS}&reference=1&resultCode=succeed&signType={sign_type}"
    tail += "&transactionId=our-order&transactionType=pay&version=1.0&zz="
    genuine = signed(sandbox, pay_fields(OTHER, "their-order", "our-order" + tail, sign_type))
    # The re-cut: echoParam stops at the first '&'; the genuine tail is swallowed by `zz`.
    head, tail = useepay_base_string(genuine).split("&zz=&", 1)
    forged = dict(pair.split("=", 1) for pair in head.split("&"))
    forged.update(zz="&" + tail, sign=genuine["sign"])
    assert forged["merchantNo"] == OURS
    assert useepay_base_string(forged) == useepay_base_string(genuine)  # the signature holds for both
    assert adapter(sign_type).verify(forged)
    with pytest.raises(NotificationRejected) as refused:
        adapter(sign_type).parse_notification(raw(forged))
    assert refused.value.reason == "ambiguous_fields"
    assert refused.value.status == 400


@pytest.mark.parametrize("sign_type", ["MD5", "RSA"])
def test_merging_two_fields_of_a_genuine_refund_notification_is_refused(sign_type: str) -> None:
    """Within our own account: the record-once key (the refund's transactionId) cannot be cut away."""
    sandbox = sandbox_for(sign_type)
    fields = {
        "version": "1.0",
        "merchantNo": OURS,
        "transactionId": "refund-1",
        "originalTransactionId": "o-1",
        "reference": "2012345678901234567",
        "transactionType": "refund",
        "amount": "300",
        "currency": "EUR",
        "resultCode": "succeed",
        "errorCode": "0000",
        "signType": sign_type,
    }
    genuine = signed(sandbox, fields)
    note = adapter(sign_type).parse_notification(raw(genuine))
    reported = note.facts[0]
    assert isinstance(reported, RefundFact)
    assert note.facts == (RefundFact("refund-1", Money(300, "EUR"), reported.status, "2012345678901234567"),)
    merged = recut(genuine, "reference", {"reference": genuine["reference"] + "&resultCode=succeed"})
    del merged["resultCode"]
    assert useepay_base_string(merged) == useepay_base_string(genuine)
    with pytest.raises(NotificationRejected) as refused:
        adapter(sign_type).parse_notification(raw(merged))
    assert refused.value.reason == "ambiguous_fields"


@pytest.mark.parametrize(
    ("fields", "ambiguous"),
    [
        ({"a": "1", "b": "x&c=2"}, True),  # b could be cut into b and c
        ({"a": "1", "b": "x&&c=2"}, True),
        ({"a": "1", "b": "x & y"}, False),  # an ampersand alone is not a cut point
        ({"a": "1", "b": "x&1=2"}, False),  # nor one before a name we would never accept
        ({"a b": "1"}, True),  # names are letters, digits and _
        ({"sign": "abc&d=e"}, False),  # sign is not part of the string to sign
    ],
)
def test_what_counts_as_ambiguous(fields: dict[str, str], ambiguous: bool) -> None:
    assert (unambiguous(fields) is not None) == ambiguous


@pytest.mark.parametrize(
    "amount", ["\u00b2", "\u0661\u0662\u0663", "1 000", "+100", "1e3", "\uff11\uff10\uff10"]
)
def test_amounts_are_ascii_digits_only(amount: str) -> None:
    sandbox = sandbox_for("MD5")
    fields = signed(sandbox, {**pay_fields(OURS, "o-1", "o-1", "MD5"), "amount": amount})
    with pytest.raises(NotificationRejected) as refused:
        adapter("MD5").parse_notification(raw(fields))
    assert (refused.value.status, refused.value.reason) == (400, "malformed_body")


# -- query: only UseePay's own "no such transaction" means not found (finding 7) ----------------------
def query_reply(sandbox: UseePaySandbox, **fields: str) -> dict[str, Any]:
    reply = {"transactionType": "query", "signType": sandbox.sign_type, **fields}
    return {**reply, "sign": sandbox.signature(reply)}


@pytest.mark.parametrize(
    "reply",
    [
        {"resultCode": "failed", "errorCode": "9999", "errorMsg": "System busy"},
        {"resultCode": "failed", "errorCode": "1001", "errorMsg": "Invalid signature"},
        {"resultCode": "succeed", "errorCode": "0000", "errorMsg": ""},
        {"resultCode": "pending", "errorCode": "3200", "errorMsg": "processing"},
        # "not found" about something other than the transaction is not "no such transaction"
        {"resultCode": "failed", "errorCode": "1001", "errorMsg": "Merchant not found"},
        {"resultCode": "failed", "errorCode": "1001", "errorMsg": "App not exist"},
        {"resultCode": "failed", "errorCode": "1001", "errorMsg": "Route not found"},
        {"resultCode": "failed", "errorCode": "1001", "errorMsg": "Original transaction not exist"},
        {"resultCode": "failed", "errorCode": "1001", "errorMsg": "Transaction not exist for merchant"},
    ],
)
def test_a_signed_query_reply_without_the_transaction_is_not_a_not_found(reply: dict[str, str]) -> None:
    sandbox = sandbox_for("MD5")
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, f"{MD5_SETTINGS['base_url']}/api", json=query_reply(sandbox, **reply))
        with pytest.raises(ProviderUnavailable) as unclear:
            adapter("MD5").query(stored_order("o-1", provider="useepay"))
    assert unclear.value.code == "provider_query_failed"


@pytest.mark.parametrize("text", ["Transaction not exist", "Transaction does not exist."])
def test_useepays_no_such_transaction_is_not_found(text: str) -> None:
    sandbox = sandbox_for("MD5")
    reply = query_reply(sandbox, resultCode="failed", errorCode="1001", errorMsg=text)
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, f"{MD5_SETTINGS['base_url']}/api", json=reply)
        assert adapter("MD5").query(stored_order("o-1", provider="useepay")) is None


def test_a_query_about_another_transaction_is_not_believed() -> None:
    sandbox = sandbox_for("MD5")
    info = '{"transactionId":"someone-else","transactionType":"pay","amount":"1000","currency":"EUR",'
    info += '"resultCode":"succeed"}'
    reply = query_reply(sandbox, resultCode="succeed", errorCode="0000", transactionInfo=info)
    with responses.RequestsMock() as wire:
        wire.add(responses.POST, f"{MD5_SETTINGS['base_url']}/api", json=reply)
        with pytest.raises(ProviderUnavailable):
            adapter("MD5").query(stored_order("o-1", provider="useepay"))
