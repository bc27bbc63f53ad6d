"""prepareForRedirect: the envelope we send (checked with `cryptography` directly and by the sandbox)
and every kind of answer Alipay can give."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from payments.errors import ProviderRejected, ProviderTimeout, ProviderUnavailable, ValidationFailed
from payments.flows.creation import new_order
from payments.orders import OrderStatus
from payments.providers.alipay_intl.adapter import AlipayIntl
from payments.providers.capabilities import order_wallet
from tests.providers.alipay_intl.fixtures import (
    CLIENT_ID,
    MERCHANT_ID,
    MERCHANT_KEY,
    NOTIFY_URL,
    NOW,
    PRODUCT_CODE,
    context_for,
    create_request,
    make_adapter,
    new_sandbox,
    order_for,
    private_text,
)
from tests.support.sandbox_client import SandboxHttp

HASHES = {"SHA256": hashes.SHA256(), "SHA1": hashes.SHA1()}
PREFIX = b'{"request":'


def create(adapter: AlipayIntl, order_id: str = "a-1", **overrides: Any) -> Any:
    request = create_request(order_id, **overrides)
    return adapter.create_payment(order_for(request), context_for(request))


def sent(http: SandboxHttp, index: int = -1) -> tuple[str, dict[str, str], bytes, bytes, str]:
    """(url, headers, raw body, request text, signature) of a request we sent, split by hand."""
    url, headers, raw = http.sent[index]
    assert raw.startswith(PREFIX)
    match = re.fullmatch(rb'(.*),"signature":"([A-Za-z0-9+/=]+)"\}', raw[len(PREFIX) :], re.S)
    assert match, raw
    return url, headers, raw, match.group(1), match.group(2).decode()


@pytest.mark.parametrize("hash_name", ["SHA256", "SHA1"])
def test_the_request_is_signed_over_its_exact_text(hash_name: str) -> None:
    adapter, http = make_adapter(sign_hash=hash_name)
    create(adapter, description='茶具 {"set"} \\"x\\"')
    _, _, raw, text, signature = sent(http)
    # The oracle: `cryptography` itself, with the merchant's public key, over the bytes sent.
    public = MERCHANT_KEY.public_key()
    public.verify(base64.b64decode(signature), text, padding.PKCS1v15(), HASHES[hash_name])
    other = "SHA1" if hash_name == "SHA256" else "SHA256"
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(signature), text, padding.PKCS1v15(), HASHES[other])
    reserialised = json.dumps(json.loads(text)).encode()  # re-serialised text is different text
    with pytest.raises(InvalidSignature):
        public.verify(base64.b64decode(signature), reserialised, padding.PKCS1v15(), HASHES[hash_name])
    # The body is the signed text spliced in, never re-serialised; non-ASCII goes as UTF-8.
    assert raw == b'{"request":' + text + b',"signature":"' + signature.encode() + b'"}'
    assert '茶具 {\\"set\\"} \\\\\\"x\\\\\\"'.encode() in text
    assert json.loads(raw)["request"]["body"]["order"]["orderTitle"] == '茶具 {"set"} \\"x\\"'


def test_head_and_every_body_field_of_seed_002() -> None:
    adapter, http = make_adapter(settle_contract_id="USD-1")
    create(
        adapter,
        expires_in_seconds=900,
        terminal_type="WAP",
        items=[
            {"name": "Tea cup", "quantity": 2, "unit_price": 300},
            {"name": "Pot", "quantity": 1, "unit_price": 400},
        ],
    )
    url, headers, raw, _, _ = sent(http)
    assert url == "https://open-sea.alipay.com/api/alipay/intl/acquiring/cashier/prepareForRedirect.htm"
    assert headers["Content-Type"] == "application/json; charset=UTF-8"
    request = json.loads(raw)["request"]
    head, body = request["head"], request["body"]
    assert set(head) == {"version", "function", "clientId", "reqTime", "reqMsgId", "reserve"}
    assert head["version"] == "2.0.0"
    assert head["function"] == "alipay.intl.acquiring.cashier.prepareForRedirect"
    assert head["clientId"] == CLIENT_ID
    assert head["reqTime"] == "2026-11-22T12:00:00+00:00"
    assert 0 < len(head["reqMsgId"]) <= 64
    assert head["reserve"] == "{}"
    assert body == {
        "merchantId": MERCHANT_ID,
        "productCode": PRODUCT_CODE,
        "merchantTransId": "a-1",
        "order": {
            "orderAmount": {"currency": "EUR", "value": "1000"},
            "orderTitle": "Tea set",
            "orderDetail": "2 x Tea cup; 1 x Pot",
        },
        "expireTime": "15min",
        "settleContractId": "USD-1",
        "paymentSite": "ALIPAY_CN",
        "terminalType": "WAP",
        "merchantRedirectUrl": "https://shop.example.com/return",
        "urlType": "DEFAULT",
        "extendInfo": "{}",
        "riskInfo": {
            "deviceInfo": {"terminalType": "WAP", "clientIp": "89.20.162.110", "systemLanguage": "ZH"},
            "orderInfos": [
                {"productName": "Tea cup", "itemPrice": {"currency": "EUR", "value": "300"}},
                {"productName": "Pot", "itemPrice": {"currency": "EUR", "value": "400"}},
            ],
        },
        "notifyUrl": NOTIFY_URL,
    }


def test_minor_units_are_sent_as_integer_strings_for_every_exponent() -> None:
    adapter, http = make_adapter()
    create(adapter, "jpy", amount={"value": 1500, "currency": "JPY"})
    create(adapter, "kwd", amount={"value": 1234, "currency": "KWD"})
    amounts = [json.loads(raw)["request"]["body"]["order"]["orderAmount"] for _, _, raw in http.sent]
    assert amounts == [{"currency": "JPY", "value": "1500"}, {"currency": "KWD", "value": "1234"}]


def test_without_customer_data_risk_info_still_names_the_terminal() -> None:
    adapter, http = make_adapter()
    create(adapter, customer=None)
    assert json.loads(http.sent[-1][2])["request"]["body"]["riskInfo"] == {
        "deviceInfo": {"terminalType": "WEB"}
    }


def test_every_request_gets_a_fresh_req_msg_id() -> None:
    adapter, http = make_adapter()
    for n in range(5):
        create(adapter, f"a-{n}")
    ids = {json.loads(raw)["request"]["head"]["reqMsgId"] for _, _, raw in http.sent}
    assert len(ids) == 5


def test_success_is_pending_with_the_cashier_redirect() -> None:
    adapter, _ = make_adapter()
    payment = create(adapter)
    assert payment.status == OrderStatus.PENDING
    assert payment.payment_url.startswith("https://intlmapi.alipay.com/gateway.do?merchant_trans_id=a-1")
    assert payment.action is not None
    assert payment.action.to_dict() == {"type": "redirect", "url": payment.payment_url, "method": "GET"}
    assert payment.payload["validTime"] == "600s"


@pytest.mark.parametrize("code", ["PARAM_ILLEGAL", "PROCESS_FAIL", "REQUEST_TRAFFIC_EXCEED_LIMIT"])
def test_f_is_a_rejection_with_alipays_code_and_message(code: str) -> None:
    adapter, http = make_adapter()
    http.sandbox.force(code)
    with pytest.raises(ProviderRejected) as caught:
        create(adapter)
    assert (caught.value.provider_code, caught.value.provider_message) == (code, "scripted by the test")


def test_a_field_alipay_refuses_is_a_rejection_naming_it() -> None:
    adapter, _ = make_adapter(merchant_id="218820000000009999")
    with pytest.raises(ProviderRejected) as caught:
        create(adapter)
    assert caught.value.provider_code == "ACCESS_DENIED"


def test_a_signature_alipay_refuses_is_a_rejection() -> None:
    # The merchant's configured key is not the one registered with Alipay.
    adapter, _ = make_adapter(private_key=private_text(new_sandbox().alipay_private_key, "pkcs8 pem"))
    with pytest.raises(ProviderRejected) as caught:
        create(adapter)
    assert caught.value.provider_code == "INVALID_SIGNATURE"


@pytest.mark.parametrize("processed", [True, False])
def test_u_leaves_the_outcome_unknown(processed: bool) -> None:
    adapter, http = make_adapter()
    http.sandbox.force("UNKNOWN_EXCEPTION", processed=processed)
    with pytest.raises(ProviderUnavailable) as caught:
        create(adapter)
    assert not isinstance(caught.value, ProviderRejected)
    assert caught.value.code == "provider_result_unknown"
    assert ("a-1" in http.sandbox.orders) is processed


@pytest.mark.parametrize("fault", ["timeout", "timeout_after_processing"])
def test_timeouts_propagate(fault: str) -> None:
    adapter, http = make_adapter()
    http.faults.append(fault)
    with pytest.raises(ProviderTimeout):
        create(adapter)


@pytest.mark.parametrize("fault", ["unsigned", "bad_signature", "foreign_key", "tampered", "other_msg_id"])
def test_a_reply_we_cannot_trust_never_decides_the_order(fault: str) -> None:
    adapter, http = make_adapter()
    http.sandbox.reply_faults.append(fault)
    with pytest.raises(ProviderUnavailable) as caught:
        create(adapter)
    assert not isinstance(caught.value, ProviderRejected)
    expected = "provider_bad_reply" if fault == "other_msg_id" else "provider_bad_signature"
    assert caught.value.code == expected


def test_a_tampered_refusal_is_not_believed_either() -> None:
    # Signed F, flipped to S on the way: had we read before verifying, this would look accepted.
    adapter, http = make_adapter()
    http.sandbox.force("PROCESS_FAIL")
    http.sandbox.reply_faults.append("tampered")
    with pytest.raises(ProviderUnavailable) as caught:
        create(adapter)
    assert caught.value.code == "provider_bad_signature"


def test_http_500_and_garbage_are_unavailable() -> None:
    adapter, http = make_adapter()
    http.faults.append("http_500")
    with pytest.raises(ProviderUnavailable):
        create(adapter, "a-500")
    http.sandbox = _Garbage()
    with pytest.raises(ProviderUnavailable) as caught:
        create(adapter, "a-garbage")
    assert caught.value.code == "provider_bad_reply"


class _Garbage:
    def handle(self, *_: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, b'{"response": {"head": '


@pytest.mark.parametrize("fmt", ["pkcs8 pem", "pkcs1 pem", "pkcs8 base64", "pkcs1 base64"])
def test_every_private_key_format_signs_what_alipay_accepts(fmt: str) -> None:
    adapter, http = make_adapter(private_key=private_text(MERCHANT_KEY, fmt))
    assert create(adapter).status == OrderStatus.PENDING
    assert http.sandbox.calls[-1].answer == "SUCCESS"


def test_check_order_enforces_alipays_documented_limits_only() -> None:
    adapter, _ = make_adapter()
    long_url = "https://shop.example.com/" + "r" * 500
    with pytest.raises(ValidationFailed) as caught:
        adapter.check_order(create_request(return_url=long_url))
    assert caught.value.field == "return_url"
    for terminal in ("WEB", "WAP", "APP"):
        adapter.check_order(create_request(terminal_type=terminal))
    adapter.check_order(create_request(amount={"value": 2**53 - 1, "currency": "USD"}))
    assert adapter.default_expiry_seconds(create_request()) == 600


def test_a_resumed_create_sends_the_time_left_and_never_less_than_a_minute() -> None:
    adapter, http = make_adapter()
    request = create_request("late")
    order = order_for(request, expires_in=30)
    adapter.create_payment(order, context_for(request))
    assert json.loads(http.sent[-1][2])["request"]["body"]["expireTime"] == "1min"


@pytest.mark.parametrize(
    ("setting", "wallet", "site"),
    [
        ("ALIPAY_CN", "alipay_hk", "ALIPAY_HK"),
        ("ALIPAY_HK", None, "ALIPAY_HK"),
        ("ALIPAY_HK", "alipay_cn", "ALIPAY_CN"),
    ],
)
def test_the_orders_wallet_is_the_payment_site_and_the_setting_its_default(
    setting: str, wallet: str | None, site: str
) -> None:
    adapter, http = make_adapter(payment_site=setting)
    request = create_request("w-1", **({"wallet": wallet} if wallet else {}))
    order = new_order(request, NOW, 600, order_wallet(request, adapter.capabilities))  # as the service does
    adapter.create_payment(order, context_for(request))
    assert json.loads(sent(http)[3])["body"]["paymentSite"] == site
    assert order.wallet == (wallet or site.lower())
