"""A UseePay API v1 sandbox (`POST /api`, form-encoded), written from docs/providers/useepay.md. It
must not import the adapter or its signing code: its MD5 and RSA signing are its own.

Transport-agnostic: `handle()` takes a request and returns (status, headers, body). Knobs, the outbox of
notifications and the test queries come from `controls.SandboxControls`.

Calls (every request signed, every reply signed; `transactionType` says which):
- `pay` creates; `query` (`transactionId` or `reference`) answers `transactionInfo` (JSON text) for a
  payment or a refund; an unknown one answers `failed`/1001 "Transaction not exist" without it.
- `refund`: `transactionId` (new, <= 64), `originalTransactionId` (a paid `pay`), `amount`, `currency`,
  optional `notifyUrl`, `echoParam`. Accepted: `resultCode=pending`, `errorCode=0000`, with
  transactionId, originalTransactionId, reference (the refund's), amount, currency,
  `transactionType=refund`. The result follows as a signed notification with `transactionType=refund`
  (`succeed`, or `failed`), sent to the refund's notifyUrl or else the payment's.
- There is no cancel call: an unpaid order closes when it expires (`closed`/3300), and that is notified.

Payer actions (checkout buttons; `control()` by name): `pay` -> succeed/0000, `cancel` ->
cancelled/0000, `fail` -> failed/0053, `expire` -> closed/3300, each notified; `pay_silently` ->
succeed, not notified. Only a `pending` payment takes them (`OrderClosed` otherwise).

Choices where the notes are silent (inferences):
- Synchronous refund refusals are `resultCode=failed`, `errorCode=1001` (the notes' "invalid parameter",
  the only refusal code they give) with an errorMsg naming the reason: missing or malformed field,
  "Duplicate transactionId" (a transactionId serves once, for a payment or a refund; a refused request
  does not use it up), "Original transaction not exist", "Original transaction is not paid",
  "Invalid parameter: currency" (not the payment's), "Refund amount exceeds the refundable amount"
  (refundable = paid amount - refunds succeeded or pending).
- `refuse_next_refund` answers `failed` with the sandbox's own errorCode 5001 "Refund refused";
  `fail_next_refund` accepts the refund and then reports it `failed`, errorCode 5002 "Refund failed"
  (unknown codes, as UseePay's full table is not public: adapters must go by resultCode).
- A pending refund queried answers resultCode `pending`, errorCode 3200, like a pending payment.
- `busy_next_query` makes the next query about the order answer a signed `failed`/9999 "System busy"
  without transactionInfo (UseePay's full code table is not public; 9999 is the sandbox's).
- A refund request with no `notifyUrl` is notified at the payment's notifyUrl.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.providers.controls import Notification, OrderClosed, RefundView, Reply, SandboxControls

JSON_HEADERS = {"Content-Type": "application/json;charset=UTF-8"}
PAY_REQUIRED = (
    "version",
    "signType",
    "merchantNo",
    "transactionId",
    "appId",
    "amount",
    "currency",
    "notifyUrl",
    "payerInfo",
    "userInfo",
)
REFUND_REQUIRED = (
    "version",
    "signType",
    "merchantNo",
    "transactionId",
    "originalTransactionId",
    "amount",
    "currency",
)
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
# resultCode, errorCode, errorMsg of each payer action at the checkout.
PAYER_RESULTS = {
    "pay": ("succeed", "0000", "Success"),
    "cancel": ("cancelled", "0000", "Transaction is cancelled"),
    "fail": ("failed", "0053", "Transaction is declined"),
    "expire": ("closed", "3300", "Transaction is expired"),
}


def useepay_base_string(fields: dict[str, str]) -> str:
    """UseePay's string to sign: fields except sign, blank ones out, sorted, raw k=v joined by '&'."""
    return "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sign" and fields[k].strip() != "")


@dataclass
class UseePaySandbox(SandboxControls):
    merchant_no: str
    sign_type: str  # "MD5" | "RSA"
    md5_key: str = ""
    merchant_public_key: rsa.RSAPublicKey | None = None  # verifies the merchant's requests (RSA)
    useepay_private_key: rsa.RSAPrivateKey | None = None  # signs replies and notifications (RSA)
    checkout_base: str = "https://pay-gateway1.uat.useepay.com/checkout/"
    reply_style: str = "redirect_get"  # "redirect_get" | "redirect_post" | "qr_code"
    sign_replies: bool = True
    transactions: dict[str, dict[str, str]] = field(default_factory=dict)  # payments by transactionId
    refund_transactions: dict[str, dict[str, str]] = field(default_factory=dict)  # refunds by transactionId
    calls: list[dict[str, str]] = field(default_factory=list)

    PRE_ARMABLE: ClassVar[frozenset[str]] = SandboxControls.PRE_ARMABLE | {"busy_next_query"}

    # -- signatures ------------------------------------------------------------------------------
    def signature(self, fields: dict[str, str]) -> str:
        base = useepay_base_string(fields)
        if self.sign_type == "MD5":
            return hashlib.md5(f"{base}&pkey={self.md5_key}".encode()).hexdigest()
        if self.useepay_private_key is None:
            raise ValueError("an RSA sandbox needs UseePay's private key")
        raw = self.useepay_private_key.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode()

    def _merchant_signed(self, fields: dict[str, str]) -> bool:
        sign = fields.get("sign", "")
        base = useepay_base_string(fields)
        if self.sign_type == "MD5":
            expected = hashlib.md5(f"{base}&pkey={self.md5_key}".encode()).hexdigest()
            return secrets.compare_digest(expected, sign)
        if self.merchant_public_key is None:
            raise ValueError("an RSA sandbox needs the merchant's public key")
        try:
            self.merchant_public_key.verify(
                base64.b64decode(sign), base.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    # -- HTTP API --------------------------------------------------------------------------------
    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Reply:
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        if method != "POST" or urlsplit(url).path.rstrip("/").split("/")[-1] != "api":
            return 404, JSON_HEADERS, b'{"errorMsg":"not found"}'
        if "application/x-www-form-urlencoded" not in content_type:
            return self._reply(
                {"resultCode": "failed", "errorCode": "1001", "errorMsg": "Invalid content type"}
            )
        fields = dict(parse_qsl((body or b"").decode("utf-8"), keep_blank_values=True))
        self.calls.append(fields)
        if fields.get("signType") != self.sign_type or not self._merchant_signed(fields):
            return self._reply({"resultCode": "failed", "errorCode": "1001", "errorMsg": "Invalid signature"})
        if fields.get("merchantNo") != self.merchant_no:
            return self._reply(
                {"resultCode": "failed", "errorCode": "1001", "errorMsg": "Invalid merchantNo"}
            )
        kind = fields.get("transactionType")
        if kind == "pay":
            return self._answer(fields.get("transactionId") or None, "create", self._pay(fields))
        if kind == "query":
            return self._answer(self._order_of_query(fields), "query", self._query(fields))
        if kind == "refund":
            return self._answer(fields.get("originalTransactionId") or None, "refund", self._refund(fields))
        return self._reply(
            {"resultCode": "failed", "errorCode": "1001", "errorMsg": "Invalid transactionType"}
        )

    def _answer(self, order_id: str | None, operation: str, reply: Reply) -> Reply:
        fields = json.loads(reply[2])
        code = str(fields.get("errorCode", ""))
        return self._answered(order_id, operation, "ok" if code in ("0000", "3200") else code, reply)

    def _pay(self, f: dict[str, str]) -> Reply:
        def invalid(message: str) -> Reply:
            return self._reply(
                {
                    "resultCode": "failed",
                    "errorCode": "1001",
                    "errorMsg": message,
                    "transactionId": f.get("transactionId", ""),
                    "transactionType": "pay",
                }
            )

        missing = [name for name in PAY_REQUIRED if not f.get(name, "").strip()]
        if missing:
            return invalid(f"Missing parameter: {missing[0]}")
        if (
            f["version"] != "1.0"
            or not f["amount"].isdigit()
            or len(f["amount"]) > 12
            or int(f["amount"]) <= 0
        ):
            return invalid("Invalid parameter: amount")
        if len(f["transactionId"]) > 64:
            return invalid("Invalid parameter: transactionId")
        minutes = f.get("transactionExpirationTime", "")
        if minutes and (not minutes.isdigit() or int(minutes) > 10):
            return invalid("Invalid parameter: transactionExpirationTime")
        try:
            payer = json.loads(f["payerInfo"])
            user = json.loads(f["userInfo"])
            order = json.loads(f["orderInfo"]) if f.get("orderInfo") else {}
        except ValueError:
            return invalid("Invalid parameter: json")
        if payer.get("paymentMethod") != "alipay" or payer.get("terminalType") not in ("WEB", "WAP"):
            return invalid("Invalid parameter: payerInfo")
        if payer["terminalType"] == "WAP" and payer.get("osType") not in ("IOS", "ANDROID"):
            return invalid("Invalid parameter: payerInfo.osType")
        if not user.get("ip"):
            return invalid("Invalid parameter: userInfo.ip")
        if order and (not order.get("subject") or len(order["subject"]) > 128):
            return invalid("Invalid parameter: orderInfo.subject")
        if self._used(f["transactionId"]):
            return invalid("Duplicate transactionId")
        reference = "10" + str(secrets.randbelow(10**17)).rjust(17, "0")
        checkout = f"{self.checkout_base}{reference}"
        self.transactions[f["transactionId"]] = {
            "transactionId": f["transactionId"],
            "reference": reference,
            "transactionType": "pay",
            "amount": f["amount"],
            "currency": f["currency"],
            "resultCode": "pending",
            "errorCode": "3200",
            "errorMsg": "Transaction is pending",
            "echoParam": f.get("echoParam", ""),
            "notifyUrl": f["notifyUrl"],
            "redirectUrl": f.get("redirectUrl", ""),
            "checkout": checkout,
            "subject": str(order.get("subject") or ""),
        }
        reply = {
            "resultCode": "pending",
            "errorCode": "3200",
            "errorMsg": "Transaction is pending",
            "transactionId": f["transactionId"],
            "transactionType": "pay",
            "reference": reference,
            "amount": f["amount"],
            "currency": f["currency"],
            "echoParam": f.get("echoParam", ""),
        }
        if self.reply_style == "qr_code":
            reply["codeUrl"] = f"https://qr.alipay.com/{reference}"
        elif self.reply_style == "redirect_post":
            reply.update(
                {
                    "redirectUrl": checkout,
                    "redirectMethod": "POST",
                    "redirectParam": json.dumps({"token": reference, "lang": "zh"}),
                }
            )
        else:
            reply.update({"redirectUrl": checkout, "redirectMethod": "GET", "redirectParam": "{}"})
        return self._reply(reply)

    def _used(self, transaction_id: str) -> bool:
        return transaction_id in self.transactions or transaction_id in self.refund_transactions

    def _find(self, f: dict[str, str]) -> dict[str, str] | None:
        """The payment or refund a query names, by transactionId or else by reference."""
        wanted = f.get("transactionId", "")
        if wanted:
            return self.transactions.get(wanted) or self.refund_transactions.get(wanted)
        reference = f.get("reference", "")
        everything = [*self.transactions.values(), *self.refund_transactions.values()]
        return next((t for t in everything if reference and t.get("reference") == reference), None)

    def _order_of_query(self, f: dict[str, str]) -> str | None:
        found = self._find(f)
        if found is None:
            return f.get("transactionId") or f.get("reference") or None
        return found.get("originalTransactionId") or found.get("transactionId")

    def _query(self, f: dict[str, str]) -> Reply:
        order_id = self._order_of_query(f)
        knobs = self.knobs.get(order_id or "")
        if knobs is not None and knobs.busy_next_query:
            knobs.busy_next_query = False
            return self._reply(
                {
                    "resultCode": "failed",
                    "errorCode": "9999",
                    "errorMsg": "System busy",
                    "transactionType": "query",
                }
            )
        txn = self._find(f)
        if txn is None:
            return self._reply(
                {
                    "resultCode": "failed",
                    "errorCode": "1001",
                    "errorMsg": "Transaction not exist",
                    "transactionType": "query",
                }
            )
        names = [
            "transactionId",
            "reference",
            "transactionType",
            "amount",
            "currency",
            "resultCode",
            "errorCode",
            "errorMsg",
            "echoParam",
        ]
        if txn.get("transactionType") == "refund":
            names.append("originalTransactionId")
        info = {k: txn[k] for k in names}
        return self._reply(
            {
                "resultCode": "succeed",
                "errorCode": "0000",
                "errorMsg": "Success",
                "transactionType": "query",
                "transactionInfo": json.dumps(info),
            }
        )

    # -- refunds ---------------------------------------------------------------------------------
    def _refund(self, f: dict[str, str]) -> Reply:
        def refused(message: str, code: str = "1001") -> Reply:
            return self._reply(
                {
                    "resultCode": "failed",
                    "errorCode": code,
                    "errorMsg": message,
                    "transactionId": f.get("transactionId", ""),
                    "originalTransactionId": f.get("originalTransactionId", ""),
                    "transactionType": "refund",
                    "amount": f.get("amount", ""),
                    "currency": f.get("currency", ""),
                }
            )

        missing = [name for name in REFUND_REQUIRED if not f.get(name, "").strip()]
        if missing:
            return refused(f"Missing parameter: {missing[0]}")
        if f["version"] != "1.0":
            return refused("Invalid parameter: version")
        amount = f["amount"]
        if not amount.isdigit() or len(amount) > 12 or int(amount) <= 0:
            return refused("Invalid parameter: amount")
        if len(f["transactionId"]) > 64:
            return refused("Invalid parameter: transactionId")
        if self._used(f["transactionId"]):
            return refused("Duplicate transactionId")
        original = self.transactions.get(f["originalTransactionId"])
        if original is None:
            return refused("Original transaction not exist")
        if original.get("resultCode") != "succeed":
            return refused("Original transaction is not paid")
        if f["currency"] != original["currency"]:
            return refused("Invalid parameter: currency")
        if int(amount) > self._refundable(f["originalTransactionId"]):
            return refused("Refund amount exceeds the refundable amount")
        knobs = self.knob(f["originalTransactionId"])
        if knobs.refuse_next_refund:
            knobs.refuse_next_refund = False
            return refused("Refund refused", code="5001")
        refund = {
            "transactionId": f["transactionId"],
            "originalTransactionId": f["originalTransactionId"],
            "reference": "20" + str(secrets.randbelow(10**17)).rjust(17, "0"),
            "transactionType": "refund",
            "amount": amount,
            "currency": f["currency"],
            "resultCode": "pending",
            "errorCode": "3200",
            "errorMsg": "Transaction is pending",
            "echoParam": f.get("echoParam", ""),
            "notifyUrl": f.get("notifyUrl", "") or original.get("notifyUrl", ""),
            "outcome": "failed" if knobs.fail_next_refund else "succeed",
        }
        knobs.fail_next_refund = False
        self.refund_transactions[f["transactionId"]] = refund
        if not knobs.refunds_held:
            self._finish_refund(refund)
        return self._reply(
            {
                "resultCode": "pending",
                "errorCode": "0000",
                "errorMsg": "Success",
                "transactionId": refund["transactionId"],
                "originalTransactionId": refund["originalTransactionId"],
                "reference": refund["reference"],
                "transactionType": "refund",
                "amount": refund["amount"],
                "currency": refund["currency"],
                "echoParam": refund["echoParam"],
            }
        )

    def _refundable(self, order_id: str) -> int:
        taken = sum(
            int(r["amount"])
            for r in self.refund_transactions.values()
            if r["originalTransactionId"] == order_id and r["resultCode"] in ("pending", "succeed")
        )
        return int(self.transactions[order_id]["amount"]) - taken

    def _finish_refund(self, refund: dict[str, str]) -> None:
        if refund["outcome"] == "succeed":
            refund.update({"resultCode": "succeed", "errorCode": "0000", "errorMsg": "Success"})
        else:
            refund.update({"resultCode": "failed", "errorCode": "5002", "errorMsg": "Refund failed"})
        fields = {
            "version": "1.0",
            "merchantNo": self.merchant_no,
            "transactionId": refund["transactionId"],
            "originalTransactionId": refund["originalTransactionId"],
            "reference": refund["reference"],
            "transactionType": "refund",
            "amount": refund["amount"],
            "currency": refund["currency"],
            "resultCode": refund["resultCode"],
            "errorCode": refund["errorCode"],
            "errorMsg": refund["errorMsg"],
            "echoParam": refund["echoParam"],
            "reserved": "",
            "signType": self.sign_type,
        }
        fields["sign"] = self.signature(fields)
        self._send(
            Notification(
                refund["originalTransactionId"],
                refund["notifyUrl"],
                dict(FORM_HEADERS),
                urlencode(fields).encode(),
                f"refund {refund['transactionId']} {refund['resultCode']}",
            )
        )

    def fail_next_refund(self, order_id: str) -> None:
        """The next refund of the order is accepted, then reported `failed`."""
        self.knob(order_id).fail_next_refund = True

    def busy_next_query(self, order_id: str) -> None:
        """The next query about the order (or one of its refunds) answers "system busy"."""
        self.knob(order_id).busy_next_query = True

    def release_refunds(self, order_id: str) -> None:
        """Held refunds get their result now, oldest first, each notified; later ones are not held."""
        self.knob(order_id).refunds_held = False
        for refund in list(self.refund_transactions.values()):
            if refund["originalTransactionId"] == order_id and refund["resultCode"] == "pending":
                self._finish_refund(refund)

    def release_refund(self, order_id: str, merchant_refund_id: str) -> None:
        refund = self.refund_transactions.get(merchant_refund_id)
        if refund and refund["originalTransactionId"] == order_id and refund["resultCode"] == "pending":
            self._finish_refund(refund)

    def refunds(self, order_id: str) -> list[RefundView]:
        words = {"pending": "pending", "succeed": "succeeded", "failed": "failed"}
        return [
            RefundView(
                refund_id=r["reference"],
                merchant_refund_id=r["transactionId"],
                amount=int(r["amount"]),
                currency=r["currency"],
                status=words.get(r["resultCode"], r["resultCode"]),
                provider_status=r["resultCode"],
            )
            for r in self.refund_transactions.values()
            if r["originalTransactionId"] == order_id
        ]

    # -- the payer's actions at the checkout -------------------------------------------------------
    def actions(self) -> dict[str, Callable[[str], None]]:
        return {
            **super().actions(),
            "fail_next_refund": self.fail_next_refund,
            "busy_next_query": self.busy_next_query,
        }

    def payer_action(self, order_id: str, action: str, *, notify: bool) -> None:
        """The payment settles as UseePay reports the action (`PAYER_RESULTS`): an expiry is its
        close (3300), notified like the rest."""
        if not self.is_open(order_id):
            raise OrderClosed(f"the payment is {self.transactions[order_id]['resultCode']}")
        self.settle(order_id, *PAYER_RESULTS[action])
        if notify:
            url, headers, body = self.notification(order_id)
            what = f"payment {self.transactions[order_id]['resultCode']}"
            self._send(Notification(order_id, url, headers, body, what))

    def is_open(self, order_id: str) -> bool:
        return self.transactions[order_id]["resultCode"] == "pending"

    def knows(self, order_id: str) -> bool:
        return order_id in self.transactions

    def status_of(self, order_id: str) -> str:
        return self.transactions[order_id]["resultCode"]

    def _reply(self, fields: dict[str, str]) -> Reply:
        fields = {"merchantNo": self.merchant_no, "signType": self.sign_type, **fields}
        if self.sign_replies:
            fields["sign"] = self.signature(fields)
        return 200, dict(JSON_HEADERS), json.dumps(fields, ensure_ascii=False).encode()

    # -- what UseePay sends the merchant -----------------------------------------------------------
    def settle(
        self, transaction_id: str, result_code: str, error_code: str = "0000", message: str = ""
    ) -> None:
        txn = self.transactions[transaction_id]
        txn.update({"resultCode": result_code, "errorCode": error_code, "errorMsg": message or result_code})

    def notification(self, transaction_id: str, **overrides: str) -> tuple[str, dict[str, str], bytes]:
        """(url, headers, body) of UseePay's signed pay notification for the transaction as it is now."""
        txn = self.transactions[transaction_id]
        fields = {
            "version": "1.0",
            "merchantNo": self.merchant_no,
            "transactionId": transaction_id,
            "reference": txn["reference"],
            "transactionType": "pay",
            "amount": txn["amount"],
            "currency": txn["currency"],
            "resultCode": txn["resultCode"],
            "errorCode": txn["errorCode"],
            "errorMsg": txn["errorMsg"],
            "echoParam": txn["echoParam"],
            "reserved": "",
            "signType": self.sign_type,
            "issuerResponse": json.dumps({"code": "00", "message": "approved"}),
            **overrides,
        }
        fields["sign"] = self.signature(fields)
        return (
            txn["notifyUrl"],
            {"Content-Type": "application/x-www-form-urlencoded"},
            urlencode(fields).encode(),
        )

    def refund_notification(
        self, transaction_id: str, amount: int, result_code: str = "succeed", refund_id: str | None = None
    ) -> tuple[str, dict[str, str], bytes]:
        txn = self.transactions[transaction_id]
        fields = {
            "version": "1.0",
            "merchantNo": self.merchant_no,
            "transactionId": refund_id or f"rf-{transaction_id}",
            "originalTransactionId": transaction_id,
            "reference": "20" + txn["reference"][2:],
            "transactionType": "refund",
            "amount": str(amount),
            "currency": txn["currency"],
            "resultCode": result_code,
            "errorCode": "0000",
            "errorMsg": "",
            "echoParam": "",
            "signType": self.sign_type,
        }
        fields["sign"] = self.signature(fields)
        return (
            txn["notifyUrl"],
            {"Content-Type": "application/x-www-form-urlencoded"},
            urlencode(fields).encode(),
        )
