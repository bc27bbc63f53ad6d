"""A sandbox of Antom (Alipay's global acquiring API, "AMS"), cashier payments, written from the
provider notes in docs/providers/antom.md only.

It must not import the adapter or our signing module: its RSA is `cryptography` called directly, so
sandbox and adapter check each other. Transport-agnostic: `handle()` takes a request and returns
(status, headers, body). Knobs, the outbox of notifications and the test queries come from
`controls.SandboxControls`.

The wire (both ways): `POST <host><path>`, a JSON body, and the headers `client-id`, `request-time`
(`response-time` on replies) and `signature: algorithm=RSA256,keyVersion=1,signature=<value>`, where
value = quote_plus(base64(SHA256withRSA("POST <path>\\n<client-id>.<time>.<body>"))). Paths are
`/ams/api/v1/payments/<op>`, or `/ams/sandbox/api/v1/payments/<op>` for a client id that starts with
`SANDBOX_`; the other prefix is refused. Replies are signed over the request's path and the reply's own
`response-time`; notifications over the path of the notify URL they are sent to.

Operations (every answer has `result{resultCode, resultStatus, resultMessage}`: S done, F refused,
U unknown):
- `pay` (CASHIER_PAYMENT): U PAYMENT_IN_PROCESS with `normalUrl` (created: send the payer there; the
  cashier's usual answer), or S with it (`create_answer = "S"`). Idempotent by paymentRequestId: the
  same request again answers the payment as it stands (U and the same link while unpaid, S once paid,
  F ORDER_IS_CLOSED once failed or cancelled); another request under the same id is F
  REPEAT_REQ_INCONSISTENT. `force()` scripts one answer: "F:<code>" (refused, nothing made),
  "U:<code>" (made, no link: a true unknown), "U!:<code>" (nothing made, U).
- `inquiryPayment` (paymentRequestId or paymentId, paymentId wins): `result` is the call's outcome;
  the payment's is `paymentStatus`: PROCESSING, PENDING (the payer paid, the result is coming),
  SUCCESS, FAIL, CANCELLED. Unknown: F ORDER_NOT_EXIST.
- `cancel`: an unpaid payment -> CANCELLED, S with `cancelTime`; one already cancelled -> S again;
  a paid one -> S and the payer refunded while the cancel window is open (until 00:15 GMT+8 the day
  after the payment), F CANCEL_WINDOW_EXCEEDED after it; one with refunds -> F PROCESS_FAIL; a failed
  one -> F ORDER_IS_CLOSED; unknown -> F ORDER_NOT_EXIST.
- `refund` (refundRequestId, paymentId, refundAmount, refundReason, refundNotifyUrl): S the refund
  succeeded (`refundId`, `refundTime`); F when refused (ORDER_STATUS_INVALID: not paid;
  REFUND_AMOUNT_EXCEED: over paid - refunds succeeded or in process; PARAM_ILLEGAL: another currency;
  ORDER_NOT_EXIST; PROCESS_FAIL: `refuse_next_refund`); U REFUND_IN_PROCESS while the order's refunds
  are held (`hold_refunds`), its result then notified (notifyRefund) when released. Idempotent by
  refundRequestId: the same refund again answers its result as it stands; another under the same id is
  F REPEAT_REQ_INCONSISTENT.
- `inquiryRefund` (refundRequestId or refundId): refundStatus SUCCESS, PROCESSING or FAIL; unknown:
  F REFUND_NOT_EXIST.

Notifications (sent to the URL of the request: paymentNotifyUrl, refundNotifyUrl): notifyPayment
(`PAYMENT_RESULT` + S paid, + F failed; `PAYMENT_PENDING` + S: paid by the payer, result to follow) and
notifyRefund (`refundStatus` SUCCESS or FAIL, or S or F with `refund_words = "short"`: both spellings
are in Antom's documents). Acknowledged only by HTTP 200 with exactly
`{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}`.

The payer at the cashier (checkout buttons; `control()` by name): `pay` (paid, notified), `pay_silently`
(paid, not notified), `pay_pending` (paid by the payer, PAYMENT_PENDING notified, the result follows
with `pay`), `fail` (F USER_BALANCE_NOT_ENOUGH, notified), `expire` (closed unpaid at its expiry time:
F ORDER_IS_CLOSED, notified: a failure is a final state), `cancel` (the payer leaves the cashier: nothing
changes, nothing is notified; the payment stays payable).

Choices where the notes are silent (inferences): the result codes ORDER_STATUS_INVALID,
REFUND_IN_PROCESS, REFUND_NOT_EXIST, KEY_NOT_FOUND (unknown client-id), NO_INTERFACE_DEF (an unknown path
or the other environment's prefix), MEDIA_TYPE_NOT_ACCEPTABLE, USER_BALANCE_NOT_ENOUGH and ORDER_IS_CLOSED
are Antom's common codes as the sandbox reads them; a refund answered S at once is not notified
again; a refused refund answers inquiryRefund with FAIL; a cancel of an order never seen is
ORDER_NOT_EXIST and does not stop a later pay.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeGuard
from urllib.parse import quote, quote_plus, unquote_plus, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.providers.controls import Notification, OrderClosed, RefundView, Reply, SandboxControls

LIVE_PREFIX = "/ams/api/v1/payments/"
SANDBOX_PREFIX = "/ams/sandbox/api/v1/payments/"
OPERATIONS = {
    "pay": "create",
    "inquiryPayment": "query",
    "cancel": "cancel",
    "refund": "refund",
    "inquiryRefund": "query",
}
WALLETS = ("ALIPAY_CN", "ALIPAY_HK", "GCASH", "DANA", "KAKAOPAY", "TRUEMONEY", "TNG", "BKASH", "EASYPAISA")
JSON_TYPE = "application/json; charset=UTF-8"
ACK = b'{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}'
ANTOM_TZ = timezone(timedelta(hours=8))  # Antom stamps its times in China time (ISO 8601 with offset)

RESULT_STATUS = {
    "SUCCESS": "S",
    "PAYMENT_IN_PROCESS": "U",
    "REFUND_IN_PROCESS": "U",
    "UNKNOWN_EXCEPTION": "U",
}  # every other code here is a refusal (F)
AMOUNT_RE = re.compile(r"0|[1-9][0-9]{0,17}")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
ISO_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)")
EPOCH_MS_RE = re.compile(r"[0-9]{13}")
KEY_VERSION_RE = re.compile(r"[0-9]{1,4}")


class _Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Recorded:
    """An API call the sandbox could read and verify, and the result code it answered."""

    operation: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]
    raw: bytes
    answer: str


# -- the signature, both ways ------------------------------------------------------------------------
def signed_content(path: str, client_id: str, moment: str, body: bytes) -> bytes:
    """`POST <path>` newline `<client-id>.<time>.<body>`: what either side signs."""
    return f"POST {path}\n{client_id}.{moment}.".encode() + body


def sign(key: rsa.RSAPrivateKey, content: bytes) -> str:
    """The `signature=` value: base64 of SHA256withRSA, URL-encoded with quote_plus."""
    raw = key.sign(content, padding.PKCS1v15(), hashes.SHA256())
    return quote_plus(base64.b64encode(raw).decode("ascii"))


def signature_header(value: str, key_version: str = "1") -> str:
    return f"algorithm=RSA256,keyVersion={key_version},signature={value}"


def signature_bytes(header: str | None) -> bytes | None:
    """The raw signature a `signature` header carries; None when the header is not of Antom's shape
    (algorithm=RSA256, an optional numeric keyVersion, a signature that is URL-encoded base64)."""
    if not header:
        return None
    parts: dict[str, str] = {}
    for item in header.split(","):
        name, equals, value = item.strip().partition("=")
        if not equals or name in parts:
            return None
        parts[name] = value
    if parts.get("algorithm") != "RSA256" or not parts.get("signature"):
        return None
    if "keyVersion" in parts and not KEY_VERSION_RE.fullmatch(parts["keyVersion"]):
        return None
    if set(parts) - {"algorithm", "keyVersion", "signature"}:
        return None
    try:
        # A `+` the sender left unescaped reads as a space here: not base64, so not a signature.
        return base64.b64decode(unquote_plus(parts["signature"]), validate=True)
    except (binascii.Error, ValueError):
        return None


def verify(key: rsa.RSAPublicKey, content: bytes, header: str | None) -> bool:
    raw = signature_bytes(header)
    if not raw:
        return False
    try:
        key.verify(raw, content, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def now() -> str:
    """ISO 8601 in China time, whole seconds (time.time(): events/generate.py fixes it)."""
    return datetime.fromtimestamp(time.time(), ANTOM_TZ).replace(microsecond=0).isoformat()


def _utc_now() -> str:
    """The SDK's form of a header time: ISO 8601 UTC, whole seconds."""
    return datetime.fromtimestamp(int(time.time()), UTC).isoformat()


def _amount_ok(value: Any, *, positive: bool = True) -> TypeGuard[dict[str, Any]]:
    return (
        isinstance(value, dict)
        and isinstance(value.get("currency"), str)
        and CURRENCY_RE.fullmatch(value["currency"]) is not None
        and isinstance(value.get("value"), str)
        and AMOUNT_RE.fullmatch(value["value"]) is not None
        and not (positive and value["value"] == "0")
    )


@dataclass
class AntomSandbox(SandboxControls):
    client_id: str
    merchant_public_key: rsa.RSAPublicKey  # verifies the merchant's requests
    antom_private_key: rsa.RSAPrivateKey  # signs replies and notifications
    cashier_base: str = "https://open-sea-global.alipay.com/cashier"
    create_answer: str = "U"  # "U": PAYMENT_IN_PROCESS with normalUrl; "S": SUCCESS with it
    refund_words: str = "long"  # notifyRefund's refundStatus: "long" SUCCESS/FAIL, "short" S/F
    indent: int | None = 2  # how replies and notifications are laid out (None: compact)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # by paymentRequestId
    refund_records: dict[str, dict[str, Any]] = field(default_factory=dict)  # by refundRequestId
    calls: list[Recorded] = field(default_factory=list)
    # Scripted answers to `pay`, one per call ("F:<code>", "U:<code>", "U!:<code>").
    forced: list[str] = field(default_factory=list)
    # Faults in the next replies, one per reply: "unsigned", "bad_signature", "foreign_key",
    # "tampered", "request_time" (signed over our request-time), "other_path" (signed over another
    # path), "other_client" (another client-id header).
    reply_faults: list[str] = field(default_factory=list)
    next_payment: int = 202611221900000001
    next_refund: int = 202611228000000001

    def force(self, answer: str) -> None:
        self.forced.append(answer)

    @property
    def prefix(self) -> str:
        return SANDBOX_PREFIX if self.client_id.startswith("SANDBOX_") else LIVE_PREFIX

    # -- HTTP --------------------------------------------------------------------------------------
    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Reply:
        path = urlsplit(url).path
        lowered = {name.lower(): value for name, value in headers.items()}
        raw = body or b""
        if method != "POST":
            return self._reply(path, lowered, {"result": self._result("METHOD_NOT_SUPPORTED", method)})
        operation = path[len(self.prefix) :] if path.startswith(self.prefix) else ""
        try:
            if operation not in OPERATIONS:
                raise _Refusal("NO_INTERFACE_DEF", f"no API at {path[:100]}")
            request = self._read(path, lowered, raw)
        except _Refusal as refusal:
            return self._reply(path, lowered, {"result": self._result(refusal.code, refusal.message)})
        order_id = self._order_of(operation, request)
        try:
            answer = self._operations()[operation](request)
        except _Refusal as refusal:
            answer = {"result": self._result(refusal.code, refusal.message)}
        code = answer["result"]["resultCode"]
        self.calls.append(Recorded(operation, path, lowered, request, raw, code))
        reply = self._reply(path, lowered, answer)
        ok = code in ("SUCCESS", "PAYMENT_IN_PROCESS")
        return self._answered(order_id, OPERATIONS[operation], "ok" if ok else code, reply)

    def _operations(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "pay": self._pay,
            "inquiryPayment": self._inquiry_payment,
            "cancel": self._cancel,
            "refund": self._refund,
            "inquiryRefund": self._inquiry_refund,
        }

    def _read(self, path: str, headers: dict[str, str], raw: bytes) -> dict[str, Any]:
        if not headers.get("content-type", "").lower().startswith("application/json"):
            raise _Refusal("MEDIA_TYPE_NOT_ACCEPTABLE", "Content-Type must be application/json")
        if headers.get("client-id") != self.client_id:
            raise _Refusal("KEY_NOT_FOUND", "no key for this client-id")
        moment = headers.get("request-time", "")
        if not (ISO_TIME_RE.fullmatch(moment) or EPOCH_MS_RE.fullmatch(moment)):
            raise _Refusal("PARAM_ILLEGAL", "request-time must be ISO 8601 or epoch milliseconds")
        content = signed_content(path, self.client_id, moment, raw)
        if not verify(self.merchant_public_key, content, headers.get("signature")):
            raise _Refusal("INVALID_SIGNATURE", "the signature is invalid")
        try:
            request = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _Refusal("PARAM_ILLEGAL", "the body is not JSON") from None
        if not isinstance(request, dict):
            raise _Refusal("PARAM_ILLEGAL", "the body is not a JSON object")
        return request

    def _order_of(self, operation: str, request: dict[str, Any]) -> str | None:
        """The paymentRequestId a call is about, named directly or through paymentId or a refund."""
        if operation in ("refund", "inquiryRefund"):
            record = self._refund_record(request.get("refundRequestId"), request.get("refundId"))
            if record is not None:
                return str(record["paymentRequestId"])
            found = self._payment(None, request.get("paymentId"))
            return str(found["paymentRequestId"]) if found else None
        found = self._payment(request.get("paymentRequestId"), request.get("paymentId"))
        if found is not None:
            return str(found["paymentRequestId"])
        named = request.get("paymentRequestId")
        return named if isinstance(named, str) and named else None

    def _payment(self, request_id: Any, payment_id: Any) -> dict[str, Any] | None:
        if isinstance(payment_id, str) and payment_id:  # paymentId wins
            return next((p for p in self.payments.values() if p["paymentId"] == payment_id), None)
        if isinstance(request_id, str) and request_id:
            return self.payments.get(request_id)
        return None

    # -- pay ---------------------------------------------------------------------------------------
    def _pay(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_pay(body)
        request_id = body["paymentRequestId"]
        forced = self.forced.pop(0) if self.forced else None
        if forced is not None:
            kind, _, code = forced.partition(":")
            if kind == "U":
                self._make(body)
            return {"result": self._result(code, "scripted by the test")}
        existing = self.payments.get(request_id)
        if existing is None:
            return self._pay_answer(self._make(body), self.create_answer)
        if _pay_terms(existing["request"]) != _pay_terms(body):
            raise _Refusal("REPEAT_REQ_INCONSISTENT", "paymentRequestId was used for another payment")
        if existing["status"] in ("FAIL", "CANCELLED"):
            raise _Refusal("ORDER_IS_CLOSED", "the payment is closed")
        return self._pay_answer(existing, "S" if existing["status"] == "SUCCESS" else "U")

    def _check_pay(self, body: dict[str, Any]) -> None:
        def text(name: str, value: Any, limit: int, *, required: bool = True) -> None:
            if value is None and not required:
                return
            if not isinstance(value, str) or not value or len(value) > limit:
                raise _Refusal("PARAM_ILLEGAL", f"{name} must be a string of 1-{limit} characters")

        def url(name: str, value: Any) -> None:
            text(name, value, 2048)
            if not str(value).startswith(("https://", "http://")):
                raise _Refusal("PARAM_ILLEGAL", f"{name} must be a URL")

        if body.get("productCode") != "CASHIER_PAYMENT":
            raise _Refusal("PARAM_ILLEGAL", "productCode must be CASHIER_PAYMENT")
        text("paymentRequestId", body.get("paymentRequestId"), 64)
        if not _amount_ok(body.get("paymentAmount")):
            raise _Refusal("PARAM_ILLEGAL", "paymentAmount must be {currency, value: minor units}")
        method = body.get("paymentMethod")
        if not isinstance(method, dict) or method.get("paymentMethodType") not in WALLETS:
            raise _Refusal("PARAM_ILLEGAL", "paymentMethod.paymentMethodType is not a wallet")
        order = body.get("order")
        if not isinstance(order, dict):
            raise _Refusal("PARAM_ILLEGAL", "order is required")
        text("order.referenceOrderId", order.get("referenceOrderId"), 64)
        text("order.orderDescription", order.get("orderDescription"), 256)
        if order.get("orderAmount") != body["paymentAmount"]:
            raise _Refusal("PARAM_ILLEGAL", "order.orderAmount must be the paymentAmount")
        buyer = order.get("buyer")
        if buyer is not None and (
            not isinstance(buyer, dict) or any(not isinstance(v, str | dict) for v in buyer.values())
        ):
            raise _Refusal("PARAM_ILLEGAL", "order.buyer must be an object of strings")
        url("paymentRedirectUrl", body.get("paymentRedirectUrl"))
        url("paymentNotifyUrl", body.get("paymentNotifyUrl"))
        expiry = body.get("paymentExpiryTime")
        if expiry is not None and (not isinstance(expiry, str) or not ISO_TIME_RE.fullmatch(expiry)):
            raise _Refusal("PARAM_ILLEGAL", "paymentExpiryTime must be ISO 8601 with an offset")
        env = body.get("env")
        if not isinstance(env, dict) or env.get("terminalType") not in ("WEB", "WAP", "APP"):
            raise _Refusal("PARAM_ILLEGAL", "env.terminalType must be WEB, WAP or APP")

    def _make(self, body: dict[str, Any]) -> dict[str, Any]:
        request_id = body["paymentRequestId"]
        wallet = body["paymentMethod"]["paymentMethodType"]
        payment_id = str(self.next_payment)
        self.next_payment += 1
        token = secrets.token_urlsafe(12)
        slug = wallet.lower().replace("_", "-")
        record: dict[str, Any] = {
            "paymentRequestId": request_id,
            "paymentId": payment_id,
            "paymentAmount": dict(body["paymentAmount"]),
            "wallet": wallet,
            "request": body,
            "status": "PROCESSING",
            "resultCode": None,
            "paymentCreateTime": now(),
            "paymentTime": None,
            "normalUrl": f"{self.cashier_base}/{slug}?paymentId={payment_id}&token={token}",
        }
        self.payments[request_id] = record
        return record

    def _pay_answer(self, payment: dict[str, Any], status: str) -> dict[str, Any]:
        code = "SUCCESS" if status == "S" else "PAYMENT_IN_PROCESS"
        answer: dict[str, Any] = {
            "result": self._result(code, "success" if status == "S" else "payment in process"),
            "paymentRequestId": payment["paymentRequestId"],
            "paymentId": payment["paymentId"],
            "paymentAmount": dict(payment["paymentAmount"]),
            "paymentCreateTime": payment["paymentCreateTime"],
            "normalUrl": payment["normalUrl"],
        }
        terminal = payment["request"]["env"]["terminalType"]
        if terminal in ("WAP", "APP"):  # app flows: the wallet's own links
            answer["schemeUrl"] = f"{payment['wallet'].lower()}://pay?paymentId={payment['paymentId']}"
        if terminal == "APP":
            answer["applinkUrl"] = f"{payment['normalUrl']}&applink=1"
        return answer

    # -- inquiryPayment ------------------------------------------------------------------------------
    def _inquiry_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        payment = self._named_payment(body)
        knobs = self.knobs.get(payment["paymentRequestId"])
        if knobs is not None and knobs.busy_next_query:
            knobs.busy_next_query = False
            return {"result": self._result("UNKNOWN_EXCEPTION", "system busy")}
        answer: dict[str, Any] = {
            "result": self._result("SUCCESS", "success"),
            "paymentStatus": payment["status"],
            "paymentRequestId": payment["paymentRequestId"],
            "paymentId": payment["paymentId"],
            "paymentAmount": dict(payment["paymentAmount"]),
            "paymentCreateTime": payment["paymentCreateTime"],
            "paymentMethodType": payment["wallet"],
        }
        if payment["paymentTime"]:
            answer["paymentTime"] = payment["paymentTime"]
        if payment["status"] == "FAIL":
            answer["paymentResultCode"] = payment["resultCode"]
            answer["paymentResultMessage"] = "the payment failed"
        return answer

    def _named_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        request_id, payment_id = body.get("paymentRequestId"), body.get("paymentId")
        if not request_id and not payment_id:
            raise _Refusal("PARAM_ILLEGAL", "paymentRequestId or paymentId is required")
        found = self._payment(request_id, payment_id)
        if found is None:
            raise _Refusal("ORDER_NOT_EXIST", "the payment does not exist")
        return found

    # -- cancel ------------------------------------------------------------------------------------
    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        payment = self._named_payment(body)
        status = payment["status"]
        if status == "FAIL":
            raise _Refusal("ORDER_IS_CLOSED", "the payment is closed")
        if any(
            r["paymentId"] == payment["paymentId"] and not r["refusal"] for r in self.refund_records.values()
        ):
            raise _Refusal("PROCESS_FAIL", "a payment with refunds cannot be cancelled")
        if status == "SUCCESS" and not self._cancel_window_open(payment):
            raise _Refusal("CANCEL_WINDOW_EXCEEDED", "the cancel window has passed: refund instead")
        if status != "CANCELLED":
            payment["status"] = "CANCELLED"  # a paid one: the payer gets the money back
            payment["cancelTime"] = now()
        return {
            "result": self._result("SUCCESS", "success"),
            "paymentRequestId": payment["paymentRequestId"],
            "paymentId": payment["paymentId"],
            "cancelTime": payment["cancelTime"],
        }

    @staticmethod
    def _cancel_window_open(payment: dict[str, Any]) -> bool:
        paid = datetime.fromisoformat(payment["paymentTime"]).astimezone(ANTOM_TZ)
        closes = (paid + timedelta(days=1)).replace(hour=0, minute=15, second=0, microsecond=0)
        return datetime.fromtimestamp(time.time(), ANTOM_TZ) <= closes

    # -- refund ------------------------------------------------------------------------------------
    def _refund(self, body: dict[str, Any]) -> dict[str, Any]:
        refund_id, payment_id = body.get("refundRequestId"), body.get("paymentId")
        for name, value in (("refundRequestId", refund_id), ("paymentId", payment_id)):
            if not isinstance(value, str) or not 0 < len(value) <= 64:
                raise _Refusal("PARAM_ILLEGAL", f"{name} must be a string of 1-64 characters")
        amount = body.get("refundAmount")
        if not _amount_ok(amount):
            raise _Refusal("PARAM_ILLEGAL", "refundAmount must be {currency, value: positive minor units}")
        reason = body.get("refundReason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 256):
            raise _Refusal("PARAM_ILLEGAL", "refundReason must be a string of at most 256")
        notify_url = body.get("refundNotifyUrl")
        if notify_url is not None and (
            not isinstance(notify_url, str) or not notify_url.startswith(("https://", "http://"))
        ):
            raise _Refusal("PARAM_ILLEGAL", "refundNotifyUrl must be a URL")
        asked = {"currency": amount["currency"], "value": amount["value"]}
        previous = self.refund_records.get(str(refund_id))
        if previous is not None:
            if previous["paymentId"] != payment_id or previous["refundAmount"] != asked:
                raise _Refusal("REPEAT_REQ_INCONSISTENT", "refundRequestId was used for another refund")
            return self._refund_answer(previous)
        payment = self._payment(None, payment_id)
        if payment is None:
            raise _Refusal("ORDER_NOT_EXIST", "the payment does not exist")
        record: dict[str, Any] = {
            "refundRequestId": refund_id,
            "paymentId": payment_id,
            "paymentRequestId": payment["paymentRequestId"],
            "refundAmount": asked,
            "refundReason": reason,
            "refundNotifyUrl": notify_url,
            "status": "PROCESSING",
            "refundId": str(self.next_refund),
            "refundTime": None,
            "refusal": None,
            "fails": False,
        }
        self.next_refund += 1
        knobs = self.knob(payment["paymentRequestId"])
        if payment["status"] != "SUCCESS":
            record["refusal"] = ("ORDER_STATUS_INVALID", f"the payment is not paid ({payment['status']})")
        elif asked["currency"] != payment["paymentAmount"]["currency"]:
            record["refusal"] = ("PARAM_ILLEGAL", "refundAmount.currency is not the payment's currency")
        elif int(asked["value"]) > self._refundable(payment):
            record["refusal"] = ("REFUND_AMOUNT_EXCEED", "the refund is more than what remains refundable")
        elif knobs.refuse_next_refund:
            knobs.refuse_next_refund = False
            record["refusal"] = ("PROCESS_FAIL", "refused by the sandbox (refuse_next_refund)")
        if record["refusal"]:
            record["status"] = "FAIL"
        elif knobs.fail_next_refund:
            knobs.fail_next_refund = False
            record["fails"] = True  # in process now; it fails when released
        elif not knobs.refunds_held:
            record.update({"status": "SUCCESS", "refundTime": now()})
        self.refund_records[record["refundRequestId"]] = record
        answer = self._refund_answer(record)
        if record["fails"] and not knobs.refunds_held:
            self._finish_refund(record)  # its failure follows the reply, notified
        return answer

    def _refundable(self, payment: dict[str, Any]) -> int:
        taken = sum(
            int(r["refundAmount"]["value"])
            for r in self.refund_records.values()
            if r["paymentId"] == payment["paymentId"] and r["status"] in ("SUCCESS", "PROCESSING")
        )
        return int(payment["paymentAmount"]["value"]) - taken

    def _refund_answer(self, record: dict[str, Any]) -> dict[str, Any]:
        if record["status"] == "FAIL":  # refused at once, or failed after an "in process" reply
            code, message = record["refusal"] or ("REFUND_FAIL", "the refund failed")
            return {"result": self._result(code, message)}
        if record["status"] == "PROCESSING":
            return {"result": self._result("REFUND_IN_PROCESS", "the refund is being processed")}
        return {
            "result": self._result("SUCCESS", "success"),
            "refundRequestId": record["refundRequestId"],
            "paymentId": record["paymentId"],
            "refundId": record["refundId"],
            "refundAmount": dict(record["refundAmount"]),
            "refundTime": record["refundTime"],
        }

    def _refund_record(self, request_id: Any, refund_id: Any) -> dict[str, Any] | None:
        if isinstance(request_id, str) and request_id:
            return self.refund_records.get(request_id)
        if isinstance(refund_id, str) and refund_id:
            return next((r for r in self.refund_records.values() if r["refundId"] == refund_id), None)
        return None

    def _finish_refund(self, record: dict[str, Any]) -> None:
        """A refund in process reaches its result; Antom notifies it (notifyRefund)."""
        if record["fails"]:
            record.update({"status": "FAIL", "refundTime": None})
        else:
            record.update({"status": "SUCCESS", "refundTime": now()})
        sent = self.refund_notification(record["refundRequestId"])
        if sent is not None:
            self._send(sent)

    def release_refunds(self, order_id: str) -> None:
        """Refunds in process get their result now, oldest first, each notified; later ones are not
        held."""
        self.knob(order_id).refunds_held = False
        for record in list(self.refund_records.values()):
            if record["paymentRequestId"] == order_id and record["status"] == "PROCESSING":
                self._finish_refund(record)

    def release_refund(self, order_id: str, merchant_refund_id: str) -> None:
        record = self.refund_records.get(merchant_refund_id)
        if record and record["paymentRequestId"] == order_id and record["status"] == "PROCESSING":
            self._finish_refund(record)

    def fail_next_refund(self, order_id: str) -> None:
        """The next refund of the order is answered "in process", then fails (notified)."""
        self.knob(order_id).fail_next_refund = True

    def busy_next_query(self, order_id: str) -> None:
        """The next inquiryPayment about the order answers U UNKNOWN_EXCEPTION."""
        self.knob(order_id).busy_next_query = True

    def refunds(self, order_id: str) -> list[RefundView]:
        words = {"SUCCESS": "succeeded", "PROCESSING": "pending", "FAIL": "failed"}
        return [
            RefundView(
                refund_id=r["refundId"],
                merchant_refund_id=r["refundRequestId"],
                amount=int(r["refundAmount"]["value"]),
                currency=r["refundAmount"]["currency"],
                status=words[r["status"]],
                provider_status=r["status"],
            )
            for r in self.refund_records.values()
            if r["paymentRequestId"] == order_id and not r["refusal"]
        ]

    # -- inquiryRefund -----------------------------------------------------------------------------
    def _inquiry_refund(self, body: dict[str, Any]) -> dict[str, Any]:
        request_id, refund_id = body.get("refundRequestId"), body.get("refundId")
        if not request_id and not refund_id:
            raise _Refusal("PARAM_ILLEGAL", "refundRequestId or refundId is required")
        record = self._refund_record(request_id, refund_id)
        if record is None:
            raise _Refusal("REFUND_NOT_EXIST", "the refund does not exist")
        answer: dict[str, Any] = {
            "result": self._result("SUCCESS", "success"),
            "refundRequestId": record["refundRequestId"],
            "refundId": record["refundId"],
            "refundAmount": dict(record["refundAmount"]),
            "refundStatus": record["status"],
        }
        if record["refundTime"]:
            answer["refundTime"] = record["refundTime"]
        return answer

    # -- the payer at the cashier ------------------------------------------------------------------
    def actions(self) -> dict[str, Callable[[str], None]]:
        return {
            **super().actions(),
            "pay_pending": self.pay_pending,
            "fail_next_refund": self.fail_next_refund,
            "busy_next_query": self.busy_next_query,
        }

    def payer_action(self, order_id: str, action: str, *, notify: bool) -> None:
        payment = self.payments[order_id]
        payable = ("PROCESSING", "PENDING") if action in ("pay", "fail") else ("PROCESSING",)
        if payment["status"] not in payable:
            raise OrderClosed(f"the payment is {payment['status']}")
        if action == "cancel":
            return  # the payer left the cashier: nothing changes, nothing is notified
        if action == "pay":
            payment.update({"status": "SUCCESS", "paymentTime": now()})
        else:
            code = "USER_BALANCE_NOT_ENOUGH" if action == "fail" else "ORDER_IS_CLOSED"
            payment.update({"status": "FAIL", "resultCode": code})
        if notify:
            self._send(self.payment_notification(order_id))

    def pay_pending(self, order_id: str) -> None:
        """The payer paid; the wallet has not confirmed yet: PAYMENT_PENDING, the result follows."""
        payment = self.payments[order_id]
        if payment["status"] != "PROCESSING":
            raise OrderClosed(f"the payment is {payment['status']}")
        payment["status"] = "PENDING"
        self._send(self.payment_notification(order_id, notify_type="PAYMENT_PENDING"))

    def knows(self, order_id: str) -> bool:
        return order_id in self.payments

    def is_open(self, order_id: str) -> bool:
        return self.payments[order_id]["status"] in ("PROCESSING", "PENDING")

    def status_of(self, order_id: str) -> str:
        return str(self.payments[order_id]["status"])

    # -- what Antom sends the merchant -------------------------------------------------------------
    def payment_notification(
        self,
        order_id: str,
        *,
        notify_type: str = "PAYMENT_RESULT",
        result: tuple[str, str] | None = None,
        changes: dict[str, Any] | None = None,
        key: rsa.RSAPrivateKey | None = None,
    ) -> Notification:
        """notifyPayment for the payment as it stands (PAYMENT_RESULT: S if paid, F if failed), or with
        `result` (status, code) as given. `changes`, `key`: a test's variations, signed as sent."""
        payment = self.payments[order_id]
        if result is None:
            result = ("F", payment["resultCode"]) if payment["status"] == "FAIL" else ("S", "SUCCESS")
        status, code = result
        body: dict[str, Any] = {
            "notifyType": notify_type,
            "result": {"resultCode": code, "resultStatus": status, "resultMessage": code.lower()},
            "paymentRequestId": order_id,
            "paymentId": payment["paymentId"],
            "paymentAmount": dict(payment["paymentAmount"]),
            "paymentCreateTime": payment["paymentCreateTime"],
            "paymentMethodType": payment["wallet"],
        }
        if payment["paymentTime"] and notify_type == "PAYMENT_RESULT" and status == "S":
            body["paymentTime"] = payment["paymentTime"]
        body.update(changes or {})
        what = f"payment {notify_type} {status}/{code}"
        return self.signed_notification(order_id, payment["request"]["paymentNotifyUrl"], body, what, key)

    def refund_notification(self, refund_request_id: str, **changes: Any) -> Notification | None:
        """notifyRefund for a refund with a result, to its refundNotifyUrl (None: the refund named none)."""
        record = self.refund_records[refund_request_id]
        if not record["refundNotifyUrl"]:
            return None
        succeeded = record["status"] == "SUCCESS"
        word = {"long": ("SUCCESS", "FAIL"), "short": ("S", "F")}[self.refund_words][0 if succeeded else 1]
        code = "SUCCESS" if succeeded else "REFUND_FAIL"
        body: dict[str, Any] = {
            "notifyType": "REFUND_RESULT",
            "result": {
                "resultCode": code,
                "resultStatus": "S" if succeeded else "F",
                "resultMessage": code.lower(),
            },
            "refundStatus": word,
            "refundRequestId": record["refundRequestId"],
            "refundId": record["refundId"],
            "refundAmount": dict(record["refundAmount"]),
        }
        if record["refundTime"]:
            body["refundTime"] = record["refundTime"]
        body.update(changes)
        what = f"refund {record['refundRequestId']} {word}"
        return self.signed_notification(record["paymentRequestId"], record["refundNotifyUrl"], body, what)

    def provider_refund(self, order_id: str, refund_request_id: str, amount: int) -> Notification:
        """A refund of the order made at Antom (not through this API), succeeded, and its notifyRefund
        to the payment's notify URL."""
        payment = self.payments[order_id]
        self.refund_records[refund_request_id] = {
            "refundRequestId": refund_request_id,
            "paymentId": payment["paymentId"],
            "paymentRequestId": order_id,
            "refundAmount": {"currency": payment["paymentAmount"]["currency"], "value": str(amount)},
            "refundReason": None,
            "refundNotifyUrl": payment["request"]["paymentNotifyUrl"],
            "status": "SUCCESS",
            "refundId": str(self.next_refund),
            "refundTime": now(),
            "refusal": None,
            "fails": False,
        }
        self.next_refund += 1
        sent = self.refund_notification(refund_request_id)
        assert sent is not None  # noqa: S101 - the payment's notify URL is always set
        return sent

    def signed_notification(
        self,
        order_id: str,
        url: str,
        body: dict[str, Any],
        what: str,
        key: rsa.RSAPrivateKey | None = None,
    ) -> Notification:
        """`body` POSTed to `url`, signed over the URL's path, this moment and the body's bytes."""
        raw = json.dumps(body, ensure_ascii=False, indent=self.indent).encode()
        moment = _utc_now()
        content = signed_content(urlsplit(url).path, self.client_id, moment, raw)
        headers = {
            "Content-Type": JSON_TYPE,
            "client-id": self.client_id,
            "request-time": moment,
            "signature": signature_header(sign(key or self.antom_private_key, content)),
        }
        return Notification(order_id, url, headers, raw, what)

    @staticmethod
    def acknowledged(status: int, body: bytes | str) -> bool:
        """Whether Antom would stop sending: HTTP 200 and exactly its documented body."""
        raw = body.encode() if isinstance(body, str) else body
        return status == 200 and raw == ACK

    # -- plumbing ----------------------------------------------------------------------------------
    @staticmethod
    def _result(code: str, message: str) -> dict[str, str]:
        return {"resultCode": code, "resultStatus": RESULT_STATUS.get(code, "F"), "resultMessage": message}

    def _reply(self, path: str, request_headers: dict[str, str], answer: dict[str, Any]) -> Reply:
        fault = self.reply_faults.pop(0) if self.reply_faults else None
        raw = json.dumps(answer, ensure_ascii=False, indent=self.indent).encode()
        moment = _utc_now()
        signed_time = request_headers.get("request-time", moment) if fault == "request_time" else moment
        signed_path = "/ams/api/v1/payments/other" if fault == "other_path" else path
        client = "SANDBOX_OTHER_CLIENT" if fault == "other_client" else self.client_id
        key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if fault == "foreign_key"
            else self.antom_private_key
        )
        value = sign(key, signed_content(signed_path, client, signed_time, raw))
        if fault == "bad_signature":
            value = quote(base64.b64encode(b"x" * 256).decode(), safe="")
        headers = {"Content-Type": JSON_TYPE, "client-id": client, "response-time": moment}
        if fault != "unsigned":
            headers["signature"] = signature_header(value)
        if fault == "tampered":  # signed, then changed on the way
            raw = raw.replace(b'"F"', b'"S"').replace(b'"U"', b'"S"')
        return 200, headers, raw


def _pay_terms(body: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two pay requests under one paymentRequestId the same payment."""
    return (
        body.get("productCode"),
        body.get("paymentAmount"),
        body.get("paymentMethod"),
        (body.get("order") or {}).get("orderAmount"),
    )
