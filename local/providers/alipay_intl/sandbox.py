"""A sandbox of Alipay's international acquiring gateway (`alipay.intl.*` envelopes, cashier product),
written from the provider notes in docs/providers/alipay-intl.md only.

It must not import the adapter or our signing module: its RSA is `cryptography` called directly and
it finds the raw `request` text with its own JSON walk, so sandbox and adapter check each other.
Transport-agnostic: `handle()` takes a request and returns (status, headers, body), so tests can
mount it on `responses` and the local stack can serve it over HTTP.

Where the documentation is silent the sandbox is strict and says so (e.g. a repeated reqMsgId or
merchantTransId is refused): the adapter must work against the strictest reading. Knobs, the outbox
of notifications and the test queries come from `controls.SandboxControls`.

Functions (each at `{base}/api/alipay/intl/acquiring/<area>/<name>.htm`, signed both ways):
- `cashier.prepareForRedirect` creates; `cashier.payQuery` answers `payStatus`: INIT (unpaid),
  SUCCESS, FAIL, CANCELLED (after payCancel), CLOSED (expired unpaid).
- `common.refund` `{merchantId, acquirementId, merchantRefundId, refundAmount{currency,value},
  refundReason}` is synchronous. S: refunded; the body echoes merchantRefundId, acquirementId and
  refundAmount and gives `refundId` and `refundTime`. F: refused (ORDER_STATUS_INVALID: not paid;
  REFUND_AMOUNT_EXCEED: more than what remains = paid - refunds succeeded or in process;
  PARAM_ILLEGAL: currency not the payment's, or a malformed field; ORDER_NOT_EXIST: unknown
  acquirementId; PROCESS_FAIL: the `refuse_next_refund` knob). U (UNKNOWN_EXCEPTION): while the order's
  refunds are held (`hold_refunds`) — the refund is in process and keeps its amount reserved until
  `release_refunds` makes it succeed. Idempotent by merchantRefundId: the same id again with the same
  acquirementId and refundAmount answers the first result again (S with the same refundId, U while
  still held, F with the same code) and never refunds twice; with another amount or acquirementId it
  is F REPEAT_REQ_INCONSISTENT.
- `common.payCancel` `{merchantId, merchantTransId}` or `{merchantId, acquirementId}`: an unpaid order
  is closed (payQuery: CANCELLED) -> S; a paid one -> F ORDER_STATUS_INVALID; one already cancelled,
  closed or failed -> S, unchanged; a merchantTransId Alipay never saw -> S, and a later
  prepareForRedirect with it is refused (PROCESS_FAIL): the pay is treated as never having happened.
  An unknown acquirementId -> F ORDER_NOT_EXIST. The S body echoes merchantTransId (and acquirementId).

What the payer does at the cashier (checkout buttons; `control()` by name), and what is notified:
- `pay`: paid, notify.pay S/SUCCESS. `pay_silently`: paid, no notification (payQuery tells).
- `fail`: the payment failed, notify.pay F/PROCESS_FAIL (payQuery: FAIL).
- `cancel`: the payer leaves the cashier and is sent back to merchantRedirectUrl. Nothing is notified
  and nothing changes: the order stays payable (payQuery: INIT) until it expires or is payCancelled.
- `expire`: the order is closed unpaid (payQuery: CLOSED). Nothing is notified.
Why (issue 11, item 5): notify.pay is documented as the *payment result* notification — its body is a
payment's resultInfo, acquirementId, paymentTime and payStatus — and Alipay names only two outcomes
for it (S paid, F failed). A cashier the payer walked away from is not a payment result, and an expiry
is Alipay closing a payment that never happened; the documentation describes neither as notified, so
the merchant learns of them by payQuery (or by its own expiry time), and after its own payCancel.

Other choices where the notes are silent (inferences): the resultCodes ORDER_STATUS_INVALID,
REFUND_AMOUNT_EXCEED, REPEAT_REQ_INCONSISTENT and ORDER_NOT_EXIST are not in the documentation's
table (they are the names Alipay's later APIs use) and their resultCodeIds are the sandbox's own: branch on
resultStatus. A refund sends no notification. A paid or closed order takes no payer action
(`OrderClosed`); refunds are listed by `refunds()` unless refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.providers.controls import Notification, OrderClosed, RefundView, Reply, SandboxControls

VERSION = "2.0.0"
PREPARE = "alipay.intl.acquiring.cashier.prepareForRedirect"
PAY_QUERY = "alipay.intl.acquiring.cashier.payQuery"
NOTIFY_PAY = "alipay.intl.acquiring.cashier.notify.pay"
REFUND = "alipay.intl.acquiring.common.refund"
PAY_CANCEL = "alipay.intl.acquiring.common.payCancel"
OPERATIONS = {PREPARE: "create", PAY_QUERY: "query", REFUND: "refund", PAY_CANCEL: "cancel"}
JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8"}
ALIPAY_TZ = timezone(timedelta(hours=8))  # Alipay stamps its messages in China time

# resultCode -> (resultCodeId, resultStatus): the global codes (docs/providers/alipay-intl.md).
RESULT_CODES: dict[str, tuple[str, str]] = {
    "SUCCESS": ("00000000", "S"),
    "PROCESS_FAIL": ("00000019", "F"),
    "UNKNOWN_EXCEPTION": ("00000901", "U"),
    "PARAM_ILLEGAL": ("00000004", "F"),
    "INVALID_SIGNATURE": ("00000007", "F"),
    "KEY_NO_FOUND": ("00000008", "F"),
    "NO_INTERFACE_DEF": ("00000013", "F"),
    "API_IS_INVALID": ("00000014", "F"),
    "OAUTH_FAILED": ("00000016", "F"),
    "ACCESS_DENIED": ("00000021", "F"),
    "CLIENT_FORBIDDEN_ACCESS_API": ("12014152", "F"),
    "UNKNOWN_CLIENT": ("12014155", "F"),
    "INVALID_CLIENT_STATUS": ("12014156", "F"),
    "REQUEST_TRAFFIC_EXCEED_LIMIT": ("00000024", "F"),
    # Not in the global codes' table; the id is the sandbox's own (clients branch on resultCode, not on ids).
    "ORDER_NOT_EXIST": ("99000001", "F"),
    "ORDER_STATUS_INVALID": ("99000002", "F"),
    "REFUND_AMOUNT_EXCEED": ("99000003", "F"),
    "REPEAT_REQ_INCONSISTENT": ("99000004", "F"),
}
REFUND_WORDS = {"SUCCESS": "succeeded", "PROCESSING": "pending"}
HASHES = {"SHA256": hashes.SHA256, "SHA1": hashes.SHA1}
DURATION_RE = re.compile(r"[1-9][0-9]*(y|m|d|h|min|s)")
AMOUNT_RE = re.compile(r"0|[1-9][0-9]*")
RFC3339_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)")


class SandboxError(Exception):
    """What Alipay would not accept from the merchant (e.g. an unsigned notification reply)."""


class _Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.head: dict[str, Any] | None = None  # echoed in the reply once the head could be read


@dataclass
class Recorded:
    function: str
    head: dict[str, Any]
    body: dict[str, Any]
    request_text: str  # the exact `request` value the merchant signed
    answer: str  # the resultCode we answered


@dataclass
class Delivery:
    """A notification as Alipay POSTs it to the merchant's notifyUrl."""

    url: str
    headers: dict[str, str]
    body: bytes
    req_msg_id: str


def sign(key: rsa.RSAPrivateKey, text: str, hash_name: str) -> str:
    return base64.b64encode(key.sign(text.encode("utf-8"), padding.PKCS1v15(), HASHES[hash_name]())).decode()


def verify(key: rsa.RSAPublicKey, text: str, signature: str, hash_name: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, text.encode("utf-8"), padding.PKCS1v15(), HASHES[hash_name]())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def raw_members(text: str) -> dict[str, str]:
    """The exact text of each top-level member's value, found by decoding token by token.

    `json.JSONDecoder.raw_decode` reports where each value ends, so braces or quotes inside strings
    cannot mislead it. Repeated keys are refused: which one would be "the" request?
    """
    decoder = json.JSONDecoder()
    members: dict[str, str] = {}

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    i = skip(0)
    if not text.startswith("{", i):
        raise ValueError("not an object")
    i = skip(i + 1)
    if text.startswith("}", i):
        i += 1
    else:
        while True:
            key, i = decoder.raw_decode(text, skip(i))
            if not isinstance(key, str) or key in members:
                raise ValueError("bad or repeated key")
            i = skip(i)
            if not text.startswith(":", i):
                raise ValueError("expected ':'")
            start = skip(i + 1)
            _, i = decoder.raw_decode(text, start)
            members[key] = text[start:i]
            i = skip(i)
            if text.startswith(",", i):
                i += 1
                continue
            if not text.startswith("}", i):
                raise ValueError("expected '}'")
            i += 1
            break
    if skip(i) != len(text):
        raise ValueError("trailing data")
    return members


def envelope(
    kind: str, value: dict[str, Any], key: rsa.RSAPrivateKey, hash_name: str, *, style: str
) -> bytes:
    """`{"<kind>":…,"signature":"…"}`, signed over the value's text exactly as it is placed."""
    if style == "compact":
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    elif style == "ascii":  # non-ASCII as \\uXXXX escapes: still the same signed text
        text = json.dumps(value, ensure_ascii=True)
    else:  # "pretty": how Alipay's documentation prints its samples
        text = json.dumps(value, ensure_ascii=False, indent=4)
    signature = sign(key, text, hash_name)
    return f'{{\n  "{kind}": {text},\n  "signature": "{signature}"\n}}'.encode()


@dataclass
class AlipayIntlSandbox(SandboxControls):
    client_id: str
    merchant_id: str
    merchant_public_key: rsa.RSAPublicKey  # verifies the merchant's requests and replies
    alipay_private_key: rsa.RSAPrivateKey  # signs our responses and notifications
    sign_hash: str = "SHA256"  # RSA2; "SHA1" is RSA
    cashier_url: str = "https://intlmapi.alipay.com/gateway.do"
    style: str = "pretty"
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Recorded] = field(default_factory=list)
    seen_msg_ids: set[str] = field(default_factory=set)
    # Scripted behaviour, consumed one per request: (resultCode, whether the order is created anyway).
    forced: list[tuple[str, bool]] = field(default_factory=list)
    # Faults in our own signed replies: "unsigned", "bad_signature", "foreign_key", "other_msg_id",
    # "tampered" (consumed one per request).
    reply_faults: list[str] = field(default_factory=list)
    next_acquirement: int = 2026112200000001
    # Refunds by merchantRefundId (refused ones too: a retry gets the first answer again).
    refund_records: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_refund: int = 2026112280000001
    # merchantTransIds payCancelled before Alipay saw them: a later create with one is refused.
    cancelled_unseen: set[str] = field(default_factory=set)

    def force(self, code: str, *, processed: bool = False) -> None:
        self.forced.append((code, processed))

    # -- HTTP ----------------------------------------------------------------------------------------
    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Reply:
        if method != "POST":
            return 405, {"Content-Type": "text/plain"}, b"Method Not Allowed"
        path = urlsplit(url).path
        match = re.fullmatch(r"/api/(alipay/intl/acquiring/[A-Za-z]+/[A-Za-z/]+)\.htm", path)
        function = match.group(1).replace("/", ".") if match else path
        head: dict[str, Any] = {"function": function}
        read: tuple[dict[str, Any], dict[str, Any], str] | None = None
        order_id: str | None = None
        try:
            read = self._read(function, headers, body or b"")
            head = read[0]
            order_id = self._order_of(read[1])
            answer = self._dispatch(function, head, read[1])
        except _Refusal as refusal:
            head = refusal.head or head
            answer = {"resultInfo": self._result(refusal.code, refusal.message)}
        reply = self._reply(head, answer)
        if read is None:
            return reply
        # A request we could read and verify: recorded with our answer.
        code = answer["resultInfo"]["resultCode"]
        self.calls.append(Recorded(function, read[0], read[1], read[2], code))
        outcome = "ok" if code == "SUCCESS" else code
        return self._answered(order_id, OPERATIONS.get(function, function), outcome, reply)

    def _order_of(self, body: dict[str, Any]) -> str | None:
        """The merchantTransId a request is about, named directly or through its acquirementId."""
        trans_id = body.get("merchantTransId")
        if isinstance(trans_id, str) and trans_id:
            return trans_id
        found = self._by_acquirement(body.get("acquirementId"))
        return found["merchantTransId"] if found else None

    def _by_acquirement(self, acquirement: Any) -> dict[str, Any] | None:
        if not isinstance(acquirement, str) or not acquirement:
            return None
        return next((o for o in self.orders.values() if o["acquirementId"] == acquirement), None)

    def _read(
        self, function: str, headers: dict[str, str], raw: bytes
    ) -> tuple[dict[str, Any], dict[str, Any], str]:
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if not content_type.lower().startswith("application/json"):
            raise _Refusal("PARAM_ILLEGAL", "Content-Type must be application/json")
        try:
            members = raw_members(raw.decode("utf-8"))
            request = json.loads(members["request"])
            signature = json.loads(members["signature"])
        except (UnicodeDecodeError, ValueError, KeyError):
            raise _Refusal("PARAM_ILLEGAL", "the body is not a signed request envelope") from None
        head = request.get("head") if isinstance(request, dict) else None
        body = request.get("body") if isinstance(request, dict) else None
        if not isinstance(head, dict) or not isinstance(body, dict):
            raise _Refusal("PARAM_ILLEGAL", "request.head and request.body are required")
        try:
            if head.get("clientId") != self.client_id:
                raise _Refusal("UNKNOWN_CLIENT", "unknown clientId")
            if not isinstance(signature, str) or not verify(
                self.merchant_public_key, members["request"], signature, self.sign_hash
            ):
                raise _Refusal("INVALID_SIGNATURE", "the signature is invalid")
            self._check_head(function, head)
        except _Refusal as refusal:
            refusal.head = head
            raise
        return head, body, members["request"]

    def _check_head(self, function: str, head: dict[str, Any]) -> None:
        if head.get("version") != VERSION:
            raise _Refusal("PARAM_ILLEGAL", "head.version must be 2.0.0")
        if head.get("function") != function:
            raise _Refusal("PARAM_ILLEGAL", "head.function does not match the URL")
        stamp = head.get("reqTime")
        if not isinstance(stamp, str) or not RFC3339_RE.fullmatch(stamp):
            raise _Refusal("PARAM_ILLEGAL", "head.reqTime must be RFC 3339 with an offset")
        msg_id = head.get("reqMsgId")
        if not isinstance(msg_id, str) or not 0 < len(msg_id) <= 64:
            raise _Refusal("PARAM_ILLEGAL", "head.reqMsgId must be 1-64 characters")
        if msg_id in self.seen_msg_ids:  # sandbox strictness: one id per HTTP request
            raise _Refusal("PARAM_ILLEGAL", "head.reqMsgId was used before")
        self.seen_msg_ids.add(msg_id)
        if "reserve" in head and (not isinstance(head["reserve"], str) or len(head["reserve"]) > 256):
            raise _Refusal("PARAM_ILLEGAL", "head.reserve must be a string of at most 256")

    def _dispatch(self, function: str, head: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if function == PREPARE:
            return self._prepare(body)
        if function == PAY_QUERY:
            return self._query(body)
        if function == REFUND:
            return self._refund(body)
        if function == PAY_CANCEL:
            return self._pay_cancel(body)
        raise _Refusal("NO_INTERFACE_DEF", "API is not defined")

    # -- prepareForRedirect ---------------------------------------------------------------------------
    def _prepare(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check_prepare(body)
        trans_id = body["merchantTransId"]
        if trans_id in self.cancelled_unseen:
            raise _Refusal("PROCESS_FAIL", "merchantTransId was cancelled (payCancel) before")
        forced_code, processed = self.forced.pop(0) if self.forced else ("SUCCESS", True)
        if processed and trans_id in self.orders:
            raise _Refusal("PROCESS_FAIL", "merchantTransId was used before")
        if processed:
            self.orders[trans_id] = {
                "merchantTransId": trans_id,
                "orderAmount": dict(body["order"]["orderAmount"]),
                "request": body,
                "payStatus": "INIT",
                "acquirementId": None,
                "paymentTime": None,
                "paymentSiteUrl": (
                    f"{self.cashier_url}?merchant_trans_id={quote(trans_id)}&token={secrets.token_urlsafe(16)}"
                ),
            }
        if forced_code != "SUCCESS":
            return {"resultInfo": self._result(forced_code, "scripted by the test")}
        return {
            "resultInfo": self._result("SUCCESS", "success"),
            "paymentSiteUrl": self.orders[trans_id]["paymentSiteUrl"],
            "validTime": "600s",
        }

    def _check_prepare(self, body: dict[str, Any]) -> None:
        def text(name: str, value: Any, limit: int, *, required: bool = True) -> None:
            if value is None and not required:
                return
            if not isinstance(value, str) or not value or len(value) > limit:
                raise _Refusal("PARAM_ILLEGAL", f"{name} must be a string of 1-{limit} characters")

        if body.get("merchantId") != self.merchant_id:
            raise _Refusal("ACCESS_DENIED", "merchantId does not belong to this client")
        text("productCode", body.get("productCode"), 64)
        text("merchantTransId", body.get("merchantTransId"), 64)
        order = body.get("order")
        if not isinstance(order, dict) or not isinstance(order.get("orderAmount"), dict):
            raise _Refusal("PARAM_ILLEGAL", "order.orderAmount is required")
        amount = order["orderAmount"]
        if not isinstance(amount.get("currency"), str) or not re.fullmatch(r"[A-Z]{3}", amount["currency"]):
            raise _Refusal("PARAM_ILLEGAL", "order.orderAmount.currency must be ISO 4217")
        value = amount.get("value")
        if not isinstance(value, str) or not AMOUNT_RE.fullmatch(value) or value == "0":
            raise _Refusal(
                "PARAM_ILLEGAL", "order.orderAmount.value must be positive minor units, as a string"
            )
        text("order.orderTitle", order.get("orderTitle"), 256)
        text("order.orderDetail", order.get("orderDetail"), 2048, required=False)
        if "seller" in order and not isinstance(order["seller"], dict):
            raise _Refusal("PARAM_ILLEGAL", "order.seller must be an object")
        expire = body.get("expireTime")
        if expire is not None and (
            not isinstance(expire, str) or len(expire) > 16 or not DURATION_RE.fullmatch(expire)
        ):
            raise _Refusal("PARAM_ILLEGAL", "expireTime must be an integer and a unit (y/m/d/h/min/s)")
        text("settleContractId", body.get("settleContractId"), 64, required=False)
        if body.get("paymentSite") not in ("ALIPAY_CN", "ALIPAY_HK"):
            raise _Refusal("PARAM_ILLEGAL", "paymentSite must be ALIPAY_CN or ALIPAY_HK")
        if body.get("terminalType") not in ("WEB", "WAP", "APP"):
            raise _Refusal("PARAM_ILLEGAL", "terminalType must be WEB, WAP or APP")
        # This merchant passes merchantRedirectUrl in each call (merchantRedirectUrlisPassedInEachCall).
        text("merchantRedirectUrl", body.get("merchantRedirectUrl"), 512)
        if not str(body["merchantRedirectUrl"]).startswith(("https://", "http://")):
            raise _Refusal("PARAM_ILLEGAL", "merchantRedirectUrl must be a URL")
        if body.get("urlType") not in (None, "DEFAULT", "SHORT"):
            raise _Refusal("PARAM_ILLEGAL", "urlType must be DEFAULT or SHORT")
        text("extendInfo", body.get("extendInfo"), 2048, required=False)  # a string, not an object
        if "riskInfo" in body and not isinstance(body["riskInfo"], dict):
            raise _Refusal("PARAM_ILLEGAL", "riskInfo must be an object")
        text("notifyUrl", body.get("notifyUrl"), 256, required=False)

    # -- payQuery --------------------------------------------------------------------------------------
    def _query(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.forced:
            code, _ = self.forced.pop(0)
            return {"resultInfo": self._result(code, "scripted by the test")}
        if body.get("merchantId") != self.merchant_id:
            raise _Refusal("ACCESS_DENIED", "merchantId does not belong to this client")
        acquirement, trans_id = body.get("acquirementId"), body.get("merchantTransId")
        if not acquirement and not trans_id:
            raise _Refusal("PARAM_ILLEGAL", "acquirementId or merchantTransId is required")
        found = None
        if acquirement:  # favoured over merchantTransId when both are given
            found = self._by_acquirement(acquirement)
        elif isinstance(trans_id, str):
            found = self.orders.get(trans_id)
        if found is None:
            raise _Refusal("ORDER_NOT_EXIST", "the order does not exist")
        answer: dict[str, Any] = {
            "resultInfo": self._result("SUCCESS", "success"),
            "merchantTransId": found["merchantTransId"],
            "orderAmount": dict(found["orderAmount"]),
            "payStatus": found["payStatus"],
        }
        if found["acquirementId"]:
            answer["acquirementId"] = found["acquirementId"]
        if found["paymentTime"]:
            answer["paymentTime"] = found["paymentTime"]
        return answer

    # -- refund ----------------------------------------------------------------------------------------
    def _refund(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("merchantId") != self.merchant_id:
            raise _Refusal("ACCESS_DENIED", "merchantId does not belong to this client")
        refund_id, acquirement = body.get("merchantRefundId"), body.get("acquirementId")
        for name, value in (("merchantRefundId", refund_id), ("acquirementId", acquirement)):
            if not isinstance(value, str) or not 0 < len(value) <= 64:
                raise _Refusal("PARAM_ILLEGAL", f"{name} must be a string of 1-64 characters")
        amount = body.get("refundAmount")
        if (
            not isinstance(amount, dict)
            or not isinstance(amount.get("currency"), str)
            or not re.fullmatch(r"[A-Z]{3}", amount["currency"])
            or not isinstance(amount.get("value"), str)
            or not AMOUNT_RE.fullmatch(amount["value"])
            or amount["value"] == "0"
        ):
            raise _Refusal("PARAM_ILLEGAL", "refundAmount must be {currency, value: positive minor units}")
        reason = body.get("refundReason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 256):
            raise _Refusal("PARAM_ILLEGAL", "refundReason must be a string of at most 256")
        if not isinstance(refund_id, str):  # checked above; tells the type checker
            raise _Refusal("PARAM_ILLEGAL", "merchantRefundId must be a string")
        asked = {"currency": amount["currency"], "value": amount["value"]}
        previous = self.refund_records.get(refund_id)
        if previous is not None:
            if previous["acquirementId"] != acquirement or previous["refundAmount"] != asked:
                raise _Refusal("REPEAT_REQ_INCONSISTENT", "merchantRefundId was used with another refund")
            return self._refund_answer(previous)
        order = self._by_acquirement(acquirement)
        if order is None:
            raise _Refusal("ORDER_NOT_EXIST", "the order does not exist")
        record: dict[str, Any] = {
            "merchantRefundId": refund_id,
            "acquirementId": acquirement,
            "merchantTransId": order["merchantTransId"],
            "refundAmount": asked,
            "refundReason": reason,
            "status": "PROCESSING",
            "refundId": None,
            "refundTime": None,
            "refusal": None,
        }
        knobs = self.knob(order["merchantTransId"])
        if order["payStatus"] != "SUCCESS":
            record["refusal"] = ("ORDER_STATUS_INVALID", f"the order is not paid ({order['payStatus']})")
        elif asked["currency"] != order["orderAmount"]["currency"]:
            record["refusal"] = ("PARAM_ILLEGAL", "refundAmount.currency is not the payment's currency")
        elif int(asked["value"]) > self._refundable(order):
            record["refusal"] = ("REFUND_AMOUNT_EXCEED", "the refund is more than what remains refundable")
        elif knobs.refuse_next_refund:
            knobs.refuse_next_refund = False
            record["refusal"] = ("PROCESS_FAIL", "refused by the sandbox (refuse_next_refund)")
        if record["refusal"]:
            record["status"] = "FAIL"
        elif not knobs.refunds_held:
            self._succeed(record)
        self.refund_records[refund_id] = record
        return self._refund_answer(record)

    def _refundable(self, order: dict[str, Any]) -> int:
        taken = sum(
            int(r["refundAmount"]["value"])
            for r in self.refund_records.values()
            if r["merchantTransId"] == order["merchantTransId"] and r["status"] in ("SUCCESS", "PROCESSING")
        )
        return int(order["orderAmount"]["value"]) - taken

    def _succeed(self, record: dict[str, Any]) -> None:
        record.update({"status": "SUCCESS", "refundId": str(self.next_refund), "refundTime": _now()})
        self.next_refund += 1

    def _refund_answer(self, record: dict[str, Any]) -> dict[str, Any]:
        if record["status"] == "FAIL":
            code, message = record["refusal"]
            return {"resultInfo": self._result(code, message)}
        if record["status"] == "PROCESSING":
            return {"resultInfo": self._result("UNKNOWN_EXCEPTION", "the refund is being processed")}
        return {
            "resultInfo": self._result("SUCCESS", "success"),
            "merchantRefundId": record["merchantRefundId"],
            "acquirementId": record["acquirementId"],
            "refundAmount": dict(record["refundAmount"]),
            "refundId": record["refundId"],
            "refundTime": record["refundTime"],
        }

    def release_refunds(self, order_id: str) -> None:
        """Refunds in process succeed now (a retry of each then answers S); later ones are not held.
        Alipay notifies no refund: the merchant learns it by sending the same merchantRefundId again."""
        self.knob(order_id).refunds_held = False
        for record in self.refund_records.values():
            if record["merchantTransId"] == order_id and record["status"] == "PROCESSING":
                self._succeed(record)

    def release_refund(self, order_id: str, merchant_refund_id: str) -> None:
        for record in self.refund_records.values():
            if (record["merchantTransId"], record["merchantRefundId"], record["status"]) == (
                order_id,
                merchant_refund_id,
                "PROCESSING",
            ):
                self._succeed(record)

    def refunds(self, order_id: str) -> list[RefundView]:
        return [
            RefundView(
                refund_id=r["refundId"] or "",
                merchant_refund_id=r["merchantRefundId"],
                amount=int(r["refundAmount"]["value"]),
                currency=r["refundAmount"]["currency"],
                status=REFUND_WORDS[r["status"]],
                provider_status=r["status"],
            )
            for r in self.refund_records.values()
            if r["merchantTransId"] == order_id and r["status"] != "FAIL"
        ]

    # -- payCancel -------------------------------------------------------------------------------------
    def _pay_cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("merchantId") != self.merchant_id:
            raise _Refusal("ACCESS_DENIED", "merchantId does not belong to this client")
        acquirement, trans_id = body.get("acquirementId"), body.get("merchantTransId")
        if acquirement:
            order = self._by_acquirement(acquirement)
            if order is None:
                raise _Refusal("ORDER_NOT_EXIST", "the order does not exist")
        elif isinstance(trans_id, str) and 0 < len(trans_id) <= 64:
            order = self.orders.get(trans_id)
            if order is None:  # never seen: the pay is treated as never having happened
                self.cancelled_unseen.add(trans_id)
                return {"resultInfo": self._result("SUCCESS", "success"), "merchantTransId": trans_id}
        else:
            raise _Refusal("PARAM_ILLEGAL", "acquirementId or merchantTransId is required")
        if order["payStatus"] == "SUCCESS":
            raise _Refusal("ORDER_STATUS_INVALID", "the order is paid: refund it instead")
        if order["payStatus"] == "INIT":
            order["payStatus"] = "CANCELLED"
        answer: dict[str, Any] = {
            "resultInfo": self._result("SUCCESS", "success"),
            "merchantTransId": order["merchantTransId"],
        }
        if order["acquirementId"]:
            answer["acquirementId"] = order["acquirementId"]
        return answer

    # -- the payer at the cashier (Alipay notifies a payment or a failure only) --------------------
    def pay(self, order_id: str) -> None:
        self._open(order_id)
        self._notify(order_id, "SUCCESS", "payment succeeded")

    def pay_silently(self, order_id: str) -> None:
        """Paid at Alipay; no notification is sent (only payQuery tells)."""
        self._open(order_id)
        self.notification(order_id, "SUCCESS")  # moves the order as the notification would; not sent

    def fail(self, order_id: str) -> None:
        self._open(order_id)
        self._notify(order_id, "PROCESS_FAIL", "payment failed")

    def cancel(self, order_id: str) -> None:
        """The payer leaves the cashier: nothing is notified, the order stays payable until it expires."""
        self._open(order_id)

    def expire(self, order_id: str) -> None:
        """The order's time ran out: closed unpaid (payQuery: CLOSED), nothing notified."""
        self._open(order_id)
        self.orders[order_id]["payStatus"] = "CLOSED"

    def _open(self, order_id: str) -> None:
        if not self.is_open(order_id):
            raise OrderClosed(f"the order is {self.orders[order_id]['payStatus']}")

    def is_open(self, order_id: str) -> bool:
        return bool(self.orders[order_id]["payStatus"] == "INIT")

    def knows(self, order_id: str) -> bool:
        return order_id in self.orders

    def status_of(self, order_id: str) -> str:
        status: str = self.orders[order_id]["payStatus"]
        return status

    def _notify(self, order_id: str, result: str, what: str) -> None:
        sent = self.notification(order_id, result)
        self._send(Notification(order_id, sent.url, sent.headers, sent.body, what, sent.req_msg_id))

    # -- what Alipay sends the merchant ---------------------------------------------------------------
    def notification(
        self,
        trans_id: str,
        result: str = "SUCCESS",
        *,
        key: rsa.RSAPrivateKey | None = None,
        hash_name: str | None = None,
        style: str | None = None,
        body_changes: dict[str, Any] | None = None,
        head_changes: dict[str, Any] | None = None,
    ) -> Delivery:
        """The notify.pay Alipay would POST now. `result`: SUCCESS (paid), PROCESS_FAIL or any code.

        The order's state moves with it (as in payQuery afterwards). `key`, `hash_name`, `*_changes`
        let a test forge or vary what is sent; the signature always covers the text as sent.
        """
        order = self.orders[trans_id]
        code_id, status = RESULT_CODES.get(result, ("00000000", "U"))
        if result == "SUCCESS":
            if order["acquirementId"] is None:
                order["acquirementId"] = str(self.next_acquirement)
                self.next_acquirement += 1
                order["paymentTime"] = _now()
            order["payStatus"] = "SUCCESS"
        elif status == "F":
            order["payStatus"] = "FAIL"
        body: dict[str, Any] = {
            "resultInfo": {
                "resultStatus": status,
                "resultCodeId": code_id,
                "resultCode": result,
                "resultMsg": "success" if result == "SUCCESS" else "payment failed",
            },
            "merchantTransId": trans_id,
            "orderAmount": dict(order["orderAmount"]),
            "payStatus": order["payStatus"],
        }
        if order["acquirementId"]:
            body["acquirementId"] = order["acquirementId"]
        if order["paymentTime"]:
            body["paymentTime"] = order["paymentTime"]
        body.update(body_changes or {})
        msg_id = secrets.token_hex(16)
        head = {
            "version": VERSION,
            "function": NOTIFY_PAY,
            "clientId": self.client_id,
            "reqTime": _now(),
            "reqMsgId": msg_id,
            "reserve": "{}",
        }
        head.update(head_changes or {})
        raw = envelope(
            "request",
            {"head": head, "body": body},
            key or self.alipay_private_key,
            hash_name or self.sign_hash,
            style=style or self.style,
        )
        url = str(order["request"].get("notifyUrl") or "")
        return Delivery(url, dict(JSON_HEADERS), raw, str(head.get("reqMsgId")))

    def ack_result(self, reply: bytes | str, delivery: Delivery | Notification) -> dict[str, Any]:
        """The resultInfo of the merchant's reply, once checked as Alipay checks it; raises otherwise."""
        text = reply.decode("utf-8") if isinstance(reply, bytes) else reply
        try:
            members = raw_members(text)
            signature = json.loads(members["signature"])
            response = json.loads(members["response"])
        except (ValueError, KeyError):
            raise SandboxError("the reply is not a signed response envelope") from None
        if not isinstance(signature, str) or not verify(
            self.merchant_public_key, members["response"], signature, self.sign_hash
        ):
            raise SandboxError("the reply's signature does not verify with the merchant's public key")
        head = response.get("head") if isinstance(response, dict) else None
        if not isinstance(head, dict):
            raise SandboxError("the reply has no head")
        msg_id = delivery.req_msg_id if isinstance(delivery, Delivery) else delivery.message_id
        if head.get("reqMsgId") != msg_id:
            raise SandboxError("the reply does not echo the notification's reqMsgId")
        if head.get("function") != NOTIFY_PAY or head.get("clientId") != self.client_id:
            raise SandboxError("the reply's head names another function or client")
        result = response.get("body", {}).get("resultInfo")
        if not isinstance(result, dict):
            raise SandboxError("the reply has no resultInfo")
        return result

    def acknowledged(self, reply: bytes | str, delivery: Delivery | Notification) -> bool:
        """Whether Alipay would stop retrying: a valid signed reply with resultInfo SUCCESS."""
        try:
            result = self.ack_result(reply, delivery)
        except SandboxError:
            return False
        return (result.get("resultStatus"), result.get("resultCode")) == ("S", "SUCCESS")

    # -- plumbing --------------------------------------------------------------------------------------
    @staticmethod
    def _result(code: str, message: str) -> dict[str, str]:
        code_id, status = RESULT_CODES.get(code, ("00000901", "U"))
        return {"resultStatus": status, "resultCodeId": code_id, "resultCode": code, "resultMsg": message}

    def _reply(self, request_head: dict[str, Any], body: dict[str, Any]) -> Reply:
        head = {
            "version": VERSION,
            "function": request_head.get("function"),
            "clientId": self.client_id,
            "respTime": _now(),
            "reqMsgId": request_head.get("reqMsgId"),
            "reserve": "{}",
        }
        fault = self.reply_faults.pop(0) if self.reply_faults else None
        if fault == "other_msg_id":
            head["reqMsgId"] = secrets.token_hex(16)
        value = {"head": head, "body": body}
        key = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048) if fault == "foreign_key" else None
        )
        raw = envelope("response", value, key or self.alipay_private_key, self.sign_hash, style=self.style)
        if fault == "unsigned":
            raw = f'{{"response": {json.dumps(value, ensure_ascii=False)}}}'.encode()
        elif fault == "bad_signature":
            raw = re.sub(
                rb'"signature": "[^"]+"', b'"signature": "' + base64.b64encode(b"x" * 256) + b'"', raw
            )
        elif fault == "tampered":  # signed, then changed on the way
            raw = raw.replace(b'"resultStatus": "F"', b'"resultStatus": "S"').replace(
                b'"validTime": "600s"', b'"validTime": "6000s"'
            )
        return 200, dict(JSON_HEADERS), raw


def _now() -> str:
    # The moment through time.time(), which events/generate.py fixes to make the samples.
    return datetime.fromtimestamp(time.time(), ALIPAY_TZ).replace(microsecond=0).isoformat()
