"""Write the sample API Gateway events in events/ (run: make events).

The signed MultiSafepay notification is signed with SAMPLE_MSP_API_KEY (see events/README.md).
Its timestamp is the moment of generation: MultiSafepay signatures are accepted for 600 s, so
regenerate it right before `sam local invoke` if you want it accepted rather than refused as stale.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402

from local.apigw import proxy_event  # noqa: E402

SAMPLE_MSP_API_KEY = "sample-msp-api-key-0000000000000000000000"
SAMPLE_USEEPAY_MD5_KEY = "sample-useepay-md5-key-000000000000"
SAMPLE_USEEPAY_MERCHANT_NO = "500000000007264"
SAMPLE_ORDER_ID = "sample-order-1"
DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"


# One sample order per provider: each has a create event, a get event and a notification sample.
SAMPLE_ORDERS = {
    "multisafepay": SAMPLE_ORDER_ID,
    "useepay": "sample-order-2",
    "alipay_intl": "sample-order-3",
}


def sample_create_body(provider: str = "multisafepay") -> dict[str, object]:
    """10.00 EUR for the provider's sample order: the amount its notification sample reports."""
    order_id = SAMPLE_ORDERS[provider]
    return {
        "order_id": order_id,
        "provider": provider,
        "amount": {"value": 1000, "currency": "EUR"},
        "description": "Tea set",
        "return_url": f"https://shop.example.com/orders/{order_id}/return",
        # Only MultiSafepay has a field for it; the API asks for it whatever the provider.
        "cancel_url": f"https://shop.example.com/orders/{order_id}/cancel",
        # UseePay requires the payer's IP address; the others pass on what they have a field for.
        "customer": {"locale": "zh_CN", "ip_address": "203.0.113.7", "country": "CN"},
        "items": [{"name": "Tea set", "quantity": 1, "unit_price": 1000}],
    }


# The merchant's actions on the sample orders: part of MultiSafepay's paid sample order given back, and
# Alipay's sample order withdrawn while it is still unpaid (payCancel).
SAMPLE_REFUND_ORDER = SAMPLE_ORDERS["multisafepay"]
SAMPLE_CANCEL_ORDER = SAMPLE_ORDERS["alipay_intl"]


def sample_refund_body() -> dict[str, object]:
    """4.00 of the sample order's 10.00 EUR; the same event invoked again is the same refund."""
    return {
        "refund_id": "sample-refund-1",
        "amount": {"value": 400, "currency": "EUR"},
        "reason": "One cup arrived broken",
    }


def sample_msp_notification_body() -> bytes:
    order = {
        "transaction_id": 4051823,
        "order_id": SAMPLE_ORDER_ID,
        "created": "2026-11-22T10:51:04",
        "currency": "EUR",
        "amount": 1000,
        "description": "Tea set",
        "amount_refunded": 0,
        "status": "completed",
        "financial_status": "completed",
        "modified": "2026-11-22T10:53:10",
        "customer": {"locale": "zh_CN", "country": "CN"},
        "payment_details": {"type": "ALIPAY", "account_id": "", "external_transaction_id": "2026112222001"},
    }
    return json.dumps(order, separators=(",", ":")).encode()


def msp_auth(key: str, stamp: int, body: bytes) -> str:
    digest = hmac.new(key.encode(), f"{stamp}:".encode() + body, hashlib.sha512).hexdigest()
    return base64.b64encode(f"{stamp}:{digest}".encode()).decode()


def useepay_notification_body() -> bytes:
    """UseePay's form-encoded pay notification, MD5-signed with the sample key (see events/README.md)."""
    fields = {
        "version": "1.0",
        "merchantNo": SAMPLE_USEEPAY_MERCHANT_NO,
        "transactionId": "sample-order-2",
        "reference": "1012211221000000001",
        "transactionType": "pay",
        "amount": "1000",
        "currency": "EUR",
        "resultCode": "succeed",
        "errorCode": "0000",
        "errorMsg": "Success",
        "echoParam": "sample-order-2",
        "reserved": "",
        "signType": "MD5",
    }
    base = "&".join(f"{key}={fields[key]}" for key in sorted(fields) if fields[key].strip())
    fields["sign"] = hashlib.md5(f"{base}&pkey={SAMPLE_USEEPAY_MD5_KEY}".encode()).hexdigest()  # noqa: S324
    return urlencode(fields).encode()


SAMPLE_ALIPAY_CLIENT_ID = "SAMPLE_CLIENT_ID_01"
ALIPAY_PUBLIC_KEY_FILE = ROOT / "events" / "alipay_sample_public_key.pem"


def alipay_notification_body(now: int, key: rsa.RSAPrivateKey) -> bytes:
    """Alipay's notify.pay envelope, signed (SHA256withRSA over the exact `request` text)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now))
    request = {
        "head": {
            "version": "2.0.0",
            "function": "alipay.intl.acquiring.cashier.notify.pay",
            "clientId": SAMPLE_ALIPAY_CLIENT_ID,
            "reqTime": stamp,
            "reqMsgId": f"sample-{now}",
            "reserve": "{}",
        },
        "body": {
            "resultInfo": {
                "resultStatus": "S",
                "resultCodeId": "00000000",
                "resultCode": "SUCCESS",
                "resultMsg": "success",
            },
            "acquirementId": "2026112211001000000000000001",
            "merchantTransId": "sample-order-3",
            "orderAmount": {"currency": "EUR", "value": "1000"},
            "paymentTime": stamp,
            "payStatus": "SUCCESS",
        },
    }
    text = json.dumps(request, separators=(",", ":"))
    signature = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    return ('{"request":' + text + ',"signature":"' + signature + '"}').encode()


def build(now: int, alipay_key: rsa.RSAPrivateKey | None = None) -> dict[str, dict[str, object]]:
    """The events; the Alipay one is signed with `alipay_key` (a throwaway one if not given)."""
    alipay_key = alipay_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    api_key = [("x-api-key", "sample-merchant-api-key")]
    json_type = [("Content-Type", "application/json")]
    body = sample_msp_notification_body()
    notify_query = [("transactionid", SAMPLE_ORDER_ID), ("timestamp", str(now))]
    events: dict[str, dict[str, object]] = {}
    for provider, order_id in SAMPLE_ORDERS.items():
        events[f"create_order_{provider}.json"] = proxy_event(
            method="POST",
            path="/orders",
            resource="/orders",
            headers=[*json_type, *api_key],
            body=json.dumps(sample_create_body(provider), indent=2).encode(),
            domain_name=DOMAIN,
            api_key="sample-merchant-api-key",
            api_key_id="samplekeyid",
        )
        events[f"get_order_{provider}.json"] = proxy_event(
            method="GET",
            path=f"/orders/{order_id}",
            resource="/orders/{order_id}",
            path_parameters={"order_id": order_id},
            headers=api_key,
            domain_name=DOMAIN,
            api_key="sample-merchant-api-key",
            api_key_id="samplekeyid",
        )
    events["refund_order_multisafepay.json"] = proxy_event(
        method="POST",
        path=f"/orders/{SAMPLE_REFUND_ORDER}/refunds",
        resource="/orders/{order_id}/refunds",
        path_parameters={"order_id": SAMPLE_REFUND_ORDER},
        headers=[*json_type, *api_key],
        body=json.dumps(sample_refund_body(), indent=2).encode(),
        domain_name=DOMAIN,
        api_key="sample-merchant-api-key",
        api_key_id="samplekeyid",
    )
    events["cancel_order_alipay_intl.json"] = proxy_event(
        method="POST",
        path=f"/orders/{SAMPLE_CANCEL_ORDER}/cancel",
        resource="/orders/{order_id}/cancel",
        path_parameters={"order_id": SAMPLE_CANCEL_ORDER},
        headers=api_key,  # no body: the route takes none (`{}` is accepted too)
        domain_name=DOMAIN,
        api_key="sample-merchant-api-key",
        api_key_id="samplekeyid",
    )
    return {
        **events,
        "notify_multisafepay_post.json": proxy_event(
            method="POST",
            path="/notify/multisafepay",
            resource="/notify/{provider}",
            path_parameters={"provider": "multisafepay"},
            query=notify_query,
            headers=[*json_type, ("Auth", msp_auth(SAMPLE_MSP_API_KEY, now, body))],
            body=body,
            domain_name=DOMAIN,
            source_ip="185.110.48.12",
        ),
        "notify_useepay_post.json": proxy_event(
            method="POST",
            path="/notify/useepay",
            resource="/notify/{provider}",
            path_parameters={"provider": "useepay"},
            headers=[("Content-Type", "application/x-www-form-urlencoded")],
            body=useepay_notification_body(),
            domain_name=DOMAIN,
            source_ip="47.88.1.10",
        ),
        "notify_alipay_intl_post.json": proxy_event(
            method="POST",
            path="/notify/alipay_intl",
            resource="/notify/{provider}",
            path_parameters={"provider": "alipay_intl"},
            headers=[("Content-Type", "application/json; charset=UTF-8")],
            body=alipay_notification_body(now, alipay_key),
            domain_name=DOMAIN,
            source_ip="110.75.1.10",
        ),
        "notify_multisafepay_get.json": proxy_event(
            method="GET",
            path="/notify/multisafepay",
            resource="/notify/{provider}",
            path_parameters={"provider": "multisafepay"},
            query=notify_query,
            domain_name=DOMAIN,
            source_ip="185.110.48.12",
        ),
    }


def main() -> None:
    # A key pair for this run only: the public half is kept for verifying the sample, the private
    # half is never written anywhere.
    alipay_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = alipay_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ALIPAY_PUBLIC_KEY_FILE.write_bytes(public)
    print("wrote events/alipay_sample_public_key.pem")
    for name, event in build(int(time.time()), alipay_key).items():
        (ROOT / "events" / name).write_text(json.dumps(event, indent=2) + "\n")
        print(f"wrote events/{name}")


if __name__ == "__main__":
    main()
