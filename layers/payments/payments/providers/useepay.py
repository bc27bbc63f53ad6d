"""UseePay (API v1, form-encoded `POST {base_url}/api`) for Alipay.

Wire facts: docs/providers/useepay.md. Every request, reply and notification is
signed over the same string — all fields but `sign`, empty ones dropped, sorted by key, joined as
`k=v&…` with raw values — with MD5 (`…&pkey=<key>`, lowercase hex) or SHA256withRSA (base64).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode

from pydantic import Field, SecretStr, field_validator, model_validator

from payments.errors import (
    ConfigurationError,
    NotificationRejected,
    PaymentsError,
    ProviderRejected,
    ProviderUnavailable,
    ValidationFailed,
)
from payments.http import HttpClient
from payments.money import Money, MoneyError
from payments.orders import Order, OrderStatus
from payments.providers.base import (
    CallContext,
    Notification,
    PaymentAction,
    ProviderPayment,
    ProviderSettings,
    RawRequest,
    RawResponse,
)
from payments.redact import redact
from payments.signing import (
    KeyLoadError,
    constant_time_equal,
    load_private_key,
    load_public_key,
    md5_hex,
    rsa_sign,
    rsa_verify,
)

if TYPE_CHECKING:
    from payments.api import CreateOrderRequest

# resultCode -> unified status, for payments.
STATUS_TABLE: dict[str, OrderStatus] = {
    "received": OrderStatus.PENDING,  # accepted, nothing happened yet
    "pending": OrderStatus.PENDING,  # in progress (errorCode 3200)
    "challenge": OrderStatus.PENDING,  # the payer must act: follow the redirect
    "gather": OrderStatus.PENDING,  # the payer must act: more data to collect
    "pending_review": OrderStatus.PENDING,  # held for review (seen in a plugin)
    "succeed": OrderStatus.PAID,
    "failed": OrderStatus.FAILED,
    "cancelled": OrderStatus.CANCELLED,
    # Closed by the merchant or expired (errorCode 3300). We never close unpaid Alipay orders (there
    # is no cancel call for them), so for our orders it means the payment window ran out.
    "closed": OrderStatus.EXPIRED,
}
# On create, these mean UseePay accepted the order and the payer can go on.
ACCEPTED = frozenset({"received", "pending", "challenge", "gather", "pending_review", "succeed"})
REFUSED = frozenset({"failed", "cancelled", "closed"})

MAX_EXPIRY_S = 600  # UseePay: transactionExpirationTime is in minutes and at most 10 for Alipay
MAX_AMOUNT = 999_999_999_999  # amount is String(12)
MAX_SUBJECT = 128  # orderInfo.subject
FORM = "application/x-www-form-urlencoded"


class UseePaySettings(ProviderSettings, frozen=True, extra="forbid"):
    merchant_no: str = Field(min_length=1, max_length=16)
    app_id: str = Field(min_length=1, max_length=128)  # the site's domain
    sign_type: Literal["MD5", "RSA"]
    md5_key: SecretStr | None = None
    private_key: SecretStr | None = None  # the merchant's, signs requests (RSA)
    useepay_public_key: SecretStr | None = None  # UseePay's, verifies replies and notifications (RSA)
    base_url: str = "https://pay-gateway1.uat.useepay.com"

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("private_key")
    @classmethod
    def _private_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                load_private_key(value.get_secret_value())
            except KeyLoadError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("useepay_public_key")
    @classmethod
    def _public_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                load_public_key(value.get_secret_value())
            except KeyLoadError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _keys_for_sign_type(self) -> UseePaySettings:
        needed = ("md5_key",) if self.sign_type == "MD5" else ("private_key", "useepay_public_key")
        for name in needed:
            value = getattr(self, name)
            if value is None or not value.get_secret_value().strip():
                raise ValueError(f"{name} is required when sign_type is {self.sign_type}")
        return self


def string_to_sign(fields: Mapping[str, str]) -> str:
    """Every field but `sign` whose value is not blank, sorted by key, as raw `k=v&…`."""
    kept = sorted((key, value) for key, value in fields.items() if key != "sign" and value.strip())
    return "&".join(f"{key}={value}" for key, value in kept)


class UseePay:
    name: ClassVar[str] = "useepay"
    settings_model: ClassVar[type[ProviderSettings]] = UseePaySettings

    def __init__(self, settings: UseePaySettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http
        self._md5_key = settings.md5_key.get_secret_value() if settings.md5_key else ""
        self._private_key = None
        self._public_key = None
        if settings.sign_type == "RSA":
            if settings.private_key is None or settings.useepay_public_key is None:  # the model requires both
                raise ConfigurationError("useepay: sign_type RSA needs private_key and useepay_public_key")
            self._private_key = load_private_key(settings.private_key.get_secret_value())
            self._public_key = load_public_key(settings.useepay_public_key.get_secret_value())

    # -- signatures ------------------------------------------------------------------------------
    def sign(self, fields: Mapping[str, str]) -> str:
        text = string_to_sign(fields)
        if self.settings.sign_type == "MD5":
            return md5_hex(f"{text}&pkey={self._md5_key}")
        return rsa_sign(self._private_key, text.encode("utf-8"), "SHA256")

    def verify(self, fields: Mapping[str, str]) -> bool:
        received = fields.get("sign", "").strip()
        if not received:
            return False
        text = string_to_sign(fields)
        if self.settings.sign_type == "MD5":
            return constant_time_equal(md5_hex(f"{text}&pkey={self._md5_key}"), received.lower())
        # A signature that travelled through a query string may have had its '+' turned into ' '.
        return rsa_verify(self._public_key, text.encode("utf-8"), received.replace(" ", "+"), "SHA256")

    # -- create ----------------------------------------------------------------------------------
    def check_order(self, request: CreateOrderRequest) -> None:
        def invalid(field: str, message: str, code: str = "invalid_field") -> ValidationFailed:
            return ValidationFailed(f"{field}: {message}", field=field, code=code)

        if request.customer is None or request.customer.ip_address is None:
            raise invalid("customer.ip_address", "UseePay requires the payer's IP address", "missing_field")
        if request.terminal_type == "APP":
            raise invalid("terminal_type", "UseePay takes Alipay payments from WEB or WAP terminals")
        if request.terminal_type == "WAP" and request.os_type is None:
            raise invalid("os_type", "required (IOS or ANDROID) when terminal_type is WAP", "missing_field")
        if request.amount.value > MAX_AMOUNT:
            raise invalid(
                "amount.value",
                f"above this provider's limit of {MAX_AMOUNT} minor units",
                "amount_over_limit",
            )
        if len(request.description) > MAX_SUBJECT:
            raise invalid("description", f"UseePay takes at most {MAX_SUBJECT} characters")
        if request.expires_in_seconds is not None and request.expires_in_seconds > MAX_EXPIRY_S:
            raise invalid(
                "expires_in_seconds", f"UseePay's Alipay orders expire after at most {MAX_EXPIRY_S} s"
            )
        for index, item in enumerate(request.items or ()):
            if item.unit_price <= 0:
                raise invalid(f"items.{index}.unit_price", "UseePay requires a price greater than 0")

    def default_expiry_seconds(self, request: CreateOrderRequest) -> int:
        return MAX_EXPIRY_S

    def create_payment(self, order: Order, ctx: CallContext) -> ProviderPayment:
        request = ctx.request
        customer = request.customer
        seconds_left = (datetime.fromisoformat(order.expires_at) - ctx.now).total_seconds()
        payer: dict[str, str] = {"paymentMethod": "alipay", "terminalType": order.terminal_type}
        if request.os_type is not None:
            payer["osType"] = request.os_type
        user = {
            "ip": customer.ip_address if customer else None,
            "email": customer.email if customer else None,
            "phoneNo": customer.phone if customer else None,
        }
        order_info: dict[str, Any] = {"subject": order.description}
        if request.items:
            order_info["goodsInfo"] = [
                {
                    "name": item.name,
                    "body": item.description or item.name,
                    "quantity": item.quantity,
                    "price": str(item.unit_price),
                }
                for item in request.items
            ]
        fields = {
            "transactionType": "pay",
            "version": "1.0",
            "signType": self.settings.sign_type,
            "merchantNo": self.settings.merchant_no,
            "transactionId": order.order_id,
            "transactionExpirationTime": str(min(10, max(1, math.ceil(seconds_left / 60)))),
            "appId": self.settings.app_id,
            "amount": str(order.amount.value),
            "currency": order.amount.currency,
            "notifyUrl": ctx.notify_url,
            "echoParam": order.order_id,  # comes back in replies and notifications
            "redirectUrl": order.return_url,
            "payerInfo": _json_text(payer),
            "orderInfo": _json_text(order_info),
            "userInfo": _json_text({key: value for key, value in user.items() if value}),
        }
        reply = self._call(fields)
        if reply.get("transactionId") != order.order_id:
            raise ProviderUnavailable("UseePay's reply is for another transaction", code="provider_bad_reply")
        code = reply.get("resultCode", "")
        if code in REFUSED:
            raise ProviderRejected(
                "UseePay refused the order",
                provider_code=reply.get("errorCode") or code,
                provider_message=reply.get("errorMsg") or code,
            )
        if code not in ACCEPTED:
            raise ProviderUnavailable(f"UseePay answered resultCode '{code[:40]}'", code="provider_bad_reply")
        action = _action_of(reply)
        if action is None:
            raise ProviderUnavailable(
                "UseePay's reply says nowhere to send the payer", code="provider_bad_reply"
            )
        payment_url = action.url if action.method == "GET" else None
        if action.type == "qr_code" and action.code and action.code.startswith("https://"):
            payment_url = action.code
        return ProviderPayment(
            status=STATUS_TABLE[code],
            provider_status=code,
            provider_reference=reply.get("reference") or None,
            payment_url=payment_url,
            action=action,
            payload=redact(dict(reply)),
        )

    # -- notifications ---------------------------------------------------------------------------
    def parse_notification(self, request: RawRequest) -> Notification:
        if request.method != "POST":
            raise NotificationRejected("method_not_allowed", "UseePay notifications are POSTs", status=405)
        fields = _form_fields(request)
        claimed = (
            fields.get("echoParam") or fields.get("originalTransactionId") or fields.get("transactionId")
        )

        def reject(reason: str, message: str, status: int = 401) -> NotificationRejected:
            return NotificationRejected(reason, message, status=status, claimed_order_id=claimed)

        if not fields.get("sign", "").strip():
            raise reject("missing_signature", "the sign field is missing")
        if fields.get("signType", self.settings.sign_type) != self.settings.sign_type:
            raise reject("sign_type_mismatch", f"signType must be {self.settings.sign_type}")
        if not self.verify(fields):
            raise reject("bad_signature", "the sign does not match the fields")
        if fields.get("merchantNo") != self.settings.merchant_no:
            raise reject("merchant_mismatch", "the notification is for another merchant")
        return self._notification_from(
            fields, verified_by=f"useepay-{self.settings.sign_type.lower()}", reject=reject
        )

    def _notification_from(self, fields: Mapping[str, str], *, verified_by: str, reject: Any) -> Notification:
        kind = fields.get("transactionType") or "pay"
        # A refund has its own transactionId; the order it refunds is the original one.
        order_id = fields.get("originalTransactionId") if kind == "refund" else fields.get("transactionId")
        if not order_id:
            raise reject("malformed_body", "the transaction id is missing", 400)
        echo = fields.get("echoParam")
        if kind == "pay" and echo and echo != order_id:
            raise reject("order_id_mismatch", "echoParam does not match transactionId", 400)
        try:
            amount = (
                Money(int(fields["amount"]), fields["currency"])
                if fields.get("amount", "").isdigit()
                else None
            )
        except (KeyError, MoneyError):
            amount = None
        if amount is None:
            raise reject("malformed_body", "amount or currency missing or invalid", 400)
        code = fields.get("resultCode", "")
        if kind == "pay":
            status = STATUS_TABLE.get(code, OrderStatus.UNKNOWN)
        elif kind == "refund":
            # Only a finished refund moves the order; the service tells full from partial by amount.
            status = OrderStatus.REFUNDED if code == "succeed" else OrderStatus.UNKNOWN
        else:  # authorization, capture, …: not part of an Alipay payment
            status = OrderStatus.UNKNOWN
        return Notification(
            order_id=order_id,
            status=status,
            provider_status=code if kind == "pay" else f"{kind}:{code}",
            amount=amount,
            provider_reference=(fields.get("reference") or None) if kind == "pay" else None,
            verified_by=verified_by,
            payload=redact(dict(fields)),
            kind="payment" if kind == "pay" else kind,
            event_key=f"{kind}:{fields.get('transactionId')}:{code}" if kind != "pay" else None,
        )

    def acknowledge(self, notification: Notification | None, error: Exception | None) -> RawResponse:
        if error is None:
            return RawResponse(200, "ok")  # any HTTP 200 stops UseePay's retries
        if isinstance(error, PaymentsError):
            status = error.status if 400 <= error.status < 500 else 503
            return RawResponse(status, json.dumps(error.to_body()), "application/json")
        return RawResponse(500, json.dumps({"error": {"code": "internal_error"}}), "application/json")

    # -- status pull -----------------------------------------------------------------------------
    def query(self, order: Order) -> Notification | None:
        fields = {
            "transactionType": "query",
            "version": "1.0",
            "signType": self.settings.sign_type,
            "merchantNo": self.settings.merchant_no,
            "transactionId": order.order_id,
        }
        reply = self._call(fields)
        info_text = reply.get("transactionInfo", "")
        if not info_text:
            # UseePay answered, signed, without the transaction: it does not know it.
            return None
        try:
            info = json.loads(info_text)
        except ValueError:
            raise ProviderUnavailable(
                "UseePay's transactionInfo is not JSON", code="provider_bad_reply"
            ) from None
        if not isinstance(info, dict):
            raise ProviderUnavailable("UseePay's transactionInfo is not an object", code="provider_bad_reply")

        def reject(reason: str, message: str, status: int = 401) -> ProviderUnavailable:
            return ProviderUnavailable(f"UseePay's query reply: {message}", code="provider_bad_reply")

        flat = {key: _field_text(value) for key, value in info.items()}
        flat.setdefault("merchantNo", self.settings.merchant_no)
        return self._notification_from(flat, verified_by="provider-query", reject=reject)

    # -- wire plumbing ---------------------------------------------------------------------------
    def _call(self, fields: dict[str, str]) -> dict[str, str]:
        """POST a signed form; return the reply's fields once its signature is proven."""
        body = urlencode({**fields, "sign": self.sign(fields)}).encode("utf-8")
        reply = self.http.request(
            "POST",
            f"{self.settings.base_url}/api",
            headers={"Content-Type": f"{FORM}; charset=UTF-8", "Accept": "application/json"},
            body=body,
        )
        if reply.status >= 500:
            raise ProviderUnavailable(f"UseePay answered HTTP {reply.status}")
        try:
            parsed = json.loads(reply.body)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ProviderUnavailable("UseePay's reply is not a JSON object", code="provider_bad_reply")
        reply_fields = {key: _field_text(value) for key, value in parsed.items() if value is not None}
        # Unsigned or badly signed: we cannot tell what happened, so the outcome stays unknown.
        if reply_fields.get(
            "signType", self.settings.sign_type
        ) != self.settings.sign_type or not self.verify(reply_fields):
            raise ProviderUnavailable(
                "UseePay's reply is not signed correctly", code="provider_bad_signature"
            )
        return reply_fields


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _field_text(value: Any) -> str:
    """A reply value as the text UseePay signed."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _json_text(value)


def _action_of(reply: Mapping[str, str]) -> PaymentAction | None:
    if reply.get("redirectUrl"):
        method = (reply.get("redirectMethod") or "GET").upper()
        form: dict[str, str] | None = None
        if method == "POST":
            try:
                params = json.loads(reply.get("redirectParam") or "{}")
            except ValueError:
                return None
            form = (
                {str(key): _field_text(value) for key, value in params.items()}
                if isinstance(params, dict)
                else {}
            )
        return PaymentAction(type="redirect", url=reply["redirectUrl"], method=method, form=form)
    if reply.get("codeUrl"):
        return PaymentAction(type="qr_code", code=reply["codeUrl"])
    return None


def _form_fields(request: RawRequest) -> dict[str, str]:
    claimed = _claimed_order_id(request.body)

    def malformed(reason: str, message: str, status: int = 400) -> NotificationRejected:
        return NotificationRejected(reason, message, status=status, claimed_order_id=claimed)

    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise malformed("unsupported_content_type", f"expected {FORM}", 415)
    try:
        pairs = parse_qsl(
            request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(request.body)
        )
    except (UnicodeDecodeError, ValueError):
        raise malformed("malformed_body", "the body is not a UTF-8 form") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise malformed("malformed_body", f"field '{key[:40]}' repeated")
        fields[key] = value
    return fields


def _claimed_order_id(body: bytes) -> str | None:
    """Which order a delivery says it is about: unverified, used only to file a rejected attempt."""
    fields = dict(reversed(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)))
    return fields.get("echoParam") or fields.get("originalTransactionId") or fields.get("transactionId")
