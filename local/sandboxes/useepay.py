"""A UseePay API v1 sandbox (`POST /api`, form-encoded), written from docs/providers/useepay.md. It
must not import the adapter or its signing code: its MD5 and RSA signing are its own.

Transport-agnostic: `handle()` takes a request and returns (status, headers, body).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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


def useepay_base_string(fields: dict[str, str]) -> str:
    """UseePay's string to sign: fields except sign, blank ones out, sorted, raw k=v joined by '&'."""
    return "&".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sign" and fields[k].strip() != "")


@dataclass
class UseePaySandbox:
    merchant_no: str
    sign_type: str  # "MD5" | "RSA"
    md5_key: str = ""
    merchant_public_key: rsa.RSAPublicKey | None = None  # verifies the merchant's requests (RSA)
    useepay_private_key: rsa.RSAPrivateKey | None = None  # signs replies and notifications (RSA)
    checkout_base: str = "https://pay-gateway1.uat.useepay.com/checkout/"
    reply_style: str = "redirect_get"  # "redirect_get" | "redirect_post" | "qr_code"
    sign_replies: bool = True
    transactions: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: list[dict[str, str]] = field(default_factory=list)

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
    def handle(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
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
            return self._pay(fields)
        if kind == "query":
            return self._query(fields)
        return self._reply(
            {"resultCode": "failed", "errorCode": "1001", "errorMsg": "Invalid transactionType"}
        )

    def _pay(self, f: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        def invalid(message: str) -> tuple[int, dict[str, str], bytes]:
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
        if f["transactionId"] in self.transactions:
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

    def _query(self, f: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        txn = self.transactions.get(f.get("transactionId", ""))
        if txn is None:
            return self._reply(
                {
                    "resultCode": "failed",
                    "errorCode": "1001",
                    "errorMsg": "Transaction not exist",
                    "transactionType": "query",
                }
            )
        info = {
            k: txn[k]
            for k in (
                "transactionId",
                "reference",
                "transactionType",
                "amount",
                "currency",
                "resultCode",
                "errorCode",
                "errorMsg",
                "echoParam",
            )
        }
        return self._reply(
            {
                "resultCode": "succeed",
                "errorCode": "0000",
                "errorMsg": "Success",
                "transactionType": "query",
                "transactionInfo": json.dumps(info),
            }
        )

    def _reply(self, fields: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
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
