"""UseePay (API v1, form-encoded `POST {base_url}/api`) for Alipay.

Wire facts: docs/providers/useepay.md. Every request, reply and notification is signed over the
same string — all fields but `sign`, empty ones dropped, sorted by key, joined as `k=v&…` with raw
values — with MD5 (`…&pkey=<key>`, lowercase hex) or SHA256withRSA (base64).

That string does not determine the fields: `a=1&b=2` is also one field `a` worth `1&b=2`. So a
notification is accepted only when it cannot be read as another set of fields: each field once, names
of letters, digits and `_`, and no value holding `&<name>=` (see `unambiguous`). Blank fields are not
signed, so they are dropped before anything reads the fields.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode

from pydantic import Field, SecretStr, field_validator, model_validator

from payments.errors import (
    ConfigurationError,
    NotificationRejected,
    ProviderRejected,
    ProviderUnavailable,
    ValidationFailed,
)
from payments.facts import (
    CancelResult,
    Fact,
    PaymentAction,
    PaymentFact,
    RefundFact,
    RefundStatus,
    Statement,
)
from payments.http import HttpClient
from payments.ledger import Refund
from payments.money import Money, MoneyError
from payments.orders import Order, OrderStatus
from payments.providers.base import (
    CallContext,
    Capabilities,
    ProviderBase,
    RawRequest,
    RefundContext,
    SignedMessage,
)
from payments.providers.capabilities import ANY_CURRENCY, RefundReporting
from payments.providers.settings import ProviderSettings
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
    from payments.providers.diagnosis import Candidate

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

# A refund's resultCode -> its status. The result of a refund arrives as a notification.
REFUND_STATUS_TABLE: dict[str, RefundStatus] = {
    "received": RefundStatus.PENDING,
    "pending": RefundStatus.PENDING,
    "succeed": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "cancelled": RefundStatus.FAILED,
    "closed": RefundStatus.FAILED,
}

MAX_EXPIRY_S = 600  # UseePay: transactionExpirationTime is in minutes and at most 10 for Alipay
MAX_AMOUNT = 999_999_999_999  # amount is String(12)
MAX_SUBJECT = 128  # orderInfo.subject
FORM = "application/x-www-form-urlencoded"
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_CUT_POINT = re.compile(r"&[A-Za-z][A-Za-z0-9_]*=")  # where a value could be cut into another field
_AMOUNT = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() also takes "²" and "١٢٣"
# UseePay's own answer to a query for a transaction it does not hold. Its result-code table is not
# public and names no "not found" code (1001 is "invalid parameter"), so only this whole message,
# about the transaction itself, with resultCode `failed` and no transactionInfo, means "not found".
# "Merchant not found", "Original transaction not exist" and the like leave the order unknown: read
# as "no such transaction" they would lead to a second pay request, an expiry or a resend.
_NOT_FOUND = re.compile(r"\s*transaction (?:does not|not) exists?\.?\s*", re.IGNORECASE)


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


def unambiguous(fields: Mapping[str, str]) -> str | None:
    """Why these fields could be read as another set with the same string to sign; None if they
    cannot. Merging two fields puts `&<name>=` inside a value; splitting one needs a value that holds
    it (and whoever cut it must hide the field it displaced by merging it into another value)."""
    for key, value in fields.items():
        if not _FIELD_NAME.fullmatch(key):
            return "a field name is not letters, digits and _"
        if key != "sign" and _CUT_POINT.search(value):
            return f"the value of {key} could be cut into other fields"
    return None


class UseePay(ProviderBase):
    name: ClassVar[str] = "useepay"
    label: ClassVar[str] = "UseePay"
    settings_model: ClassVar[type[ProviderSettings]] = UseePaySettings
    ok_body: ClassVar[str] = "ok"  # any HTTP 200 stops UseePay's retries
    documented_capabilities: ClassVar[Capabilities] = Capabilities(
        currencies=ANY_CURRENCY,
        max_amount=MAX_AMOUNT,
        max_expiry_seconds=MAX_EXPIRY_S,
        default_expiry_seconds=MAX_EXPIRY_S,
        terminal_types=frozenset({"WEB", "WAP"}),  # APP terminals are not offered for Alipay
        required_customer_fields=frozenset({"ip_address"}),  # userInfo.ip
        payer_urls=frozenset({"return_url"}),  # redirectUrl, for every outcome
        cancels_unpaid_orders=False,  # no cancel call for unpaid Alipay orders (see `cancel`)
        confirms_payment_after_cancel=False,
        withdraws_unclear_creates=False,
        expiry_grace_seconds=600,  # its checkout closes at most 10 minutes after expiry
        query_gives_payment_link=False,
        refunds_reported=RefundReporting.EVENT_PER_REFUND,  # a transactionType=refund notification
        looks_up_a_refund=True,  # `query` on the refund's own transactionId
        wallets=frozenset({"alipay_cn"}),  # payerInfo.paymentMethod `alipay`
    )

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
        return self._signature_matches(string_to_sign(fields).encode("utf-8"), received)

    def _signature_matches(self, text: bytes, received: str) -> bool:
        if self.settings.sign_type == "MD5":
            return constant_time_equal(
                md5_hex(f"{text.decode('utf-8')}&pkey={self._md5_key}"), received.lower()
            )
        # A signature that travelled through a query string may have had its '+' turned into ' '.
        return rsa_verify(self._public_key, text, received.replace(" ", "+"), "SHA256")

    # -- the configuration, for the doctor --------------------------------------------------------
    def key_pair(self) -> tuple[Any, Any]:
        return self._private_key, self._public_key

    def signing(self) -> tuple[str, str]:
        if self.settings.sign_type == "MD5":
            return "ok", "sign_type MD5: MD5 of the sorted fields with your MD5 key, both ways"
        return "ok", "sign_type RSA: SHA256withRSA, your key signs, UseePay's verifies"

    def environment(self) -> tuple[str, str]:
        return self.environment_of(
            self.settings.base_url,
            {"pay-gateway1.uat.useepay.com": "the sandbox (UAT)", "pay-gateway.useepay.com": "live"},
        )

    # -- create ----------------------------------------------------------------------------------
    def check_order(self, request: CreateOrderRequest) -> None:
        def invalid(field: str, message: str, code: str = "invalid_field") -> ValidationFailed:
            return ValidationFailed(f"{field}: {message}", field=field, code=code)

        if request.terminal_type == "WAP" and request.os_type is None:
            raise invalid("os_type", "required (IOS or ANDROID) when terminal_type is WAP", "missing_field")
        if len(request.description) > MAX_SUBJECT:
            raise invalid("description", f"UseePay takes at most {MAX_SUBJECT} characters")
        for index, item in enumerate(request.items or ()):
            if item.unit_price <= 0:
                raise invalid(f"items.{index}.unit_price", "UseePay requires a price greater than 0")

    def create_payment(self, order: Order, ctx: CallContext) -> Statement:
        request = ctx.request
        customer = request.customer
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
            "transactionExpirationTime": str(
                min(10, max(1, math.ceil(self.seconds_left(order, ctx.now) / 60)))
            ),
            "appId": self.settings.app_id,
            "amount": str(order.amount.value),
            "currency": order.amount.currency,
            "notifyUrl": ctx.notify_url,
            "echoParam": order.order_id,  # comes back in replies and notifications
            "payerInfo": _json_text(payer),
            "orderInfo": _json_text(order_info),
            "userInfo": _json_text({key: value for key, value in user.items() if value}),
        }
        if order.return_url is not None:  # always, as payer_urls asks for it: its only merchant page
            fields["redirectUrl"] = order.return_url
        reply = self._call(fields)
        if reply.get("transactionId") != order.order_id:
            raise self.bad_reply("is for another transaction")
        code = reply.get("resultCode", "")
        if code in REFUSED:
            raise ProviderRejected(
                "UseePay refused the order",
                provider_code=reply.get("errorCode") or code,
                provider_message=reply.get("errorMsg") or code,
            )
        if code not in ACCEPTED:
            raise self.bad_reply(f"has resultCode '{code[:40]}'")
        action = _action_of(reply)
        if action is None:
            raise self.bad_reply("says nowhere to send the payer")
        payment_url = action.url if action.method == "GET" else None
        if action.type == "qr_code" and action.code and action.code.startswith("https://"):
            payment_url = action.code
        stated = _stated_money(reply)
        if stated is _UNREADABLE:
            raise self.bad_reply("has an unreadable amount")
        return Statement(
            order_id=order.order_id,
            facts=(PaymentFact(STATUS_TABLE[code], stated if isinstance(stated, Money) else None),),
            provider_status=code,
            verified_by=f"useepay-{self.settings.sign_type.lower()}",
            provider_reference=reply.get("reference") or None,
            payload=redact(dict(reply)),
            payment_url=payment_url,
            action=action,
        )

    # -- notifications: the steps of ProviderBase.parse_notification -----------------------------
    def notification_message(self, request: RawRequest) -> SignedMessage:
        fields = _form_fields(request)
        claimed = _claimed_order_id(fields)
        message = SignedMessage(b"", fields.get("sign", ""), fields, claimed_order_id=claimed)
        ambiguity = unambiguous(fields)
        if ambiguity:
            raise self.rejection(message, "ambiguous_fields", ambiguity, 400)
        if fields.get("signType", self.settings.sign_type) != self.settings.sign_type:
            raise self.rejection(message, "sign_type_mismatch", f"signType must be {self.settings.sign_type}")
        return SignedMessage(
            string_to_sign(fields).encode("utf-8"), fields.get("sign", ""), fields, claimed_order_id=claimed
        )

    def signature_valid(self, message: SignedMessage, request: RawRequest) -> bool:
        return self._signature_matches(message.signed, message.signature.strip())

    def signature_candidates(self, message: SignedMessage, request: RawRequest) -> Iterable[Candidate]:
        from payments.providers.diagnosis import rsa_candidates  # the refusal path only

        if self.settings.sign_type != "RSA":
            return ()  # MD5 with the shared key has no other hash or key pair to try
        return rsa_candidates(
            self.label,
            message.signed,
            message.signature.strip().replace(" ", "+"),
            provider_key=self._public_key,
            hash_name="SHA256",
            own_private_key=self._private_key,
            fix="UseePay signs with SHA256withRSA: the sender is not UseePay, or signs with an old tool",
        )

    def notification_from(self, message: SignedMessage) -> Statement:
        # Only what was signed: blank fields are not part of the string to sign.
        fields = {key: value for key, value in message.fields.items() if value.strip()}
        if fields.get("merchantNo") != self.settings.merchant_no:
            raise self.rejection(message, "merchant_mismatch", "the notification is for another merchant")
        return self._statement(fields, f"useepay-{self.settings.sign_type.lower()}", message)

    def _statement(
        self, fields: Mapping[str, str], verified_by: str, message: SignedMessage | None
    ) -> Statement:
        """A pay or refund transaction as UseePay describes it (a notification or a query's
        transactionInfo). Raises NotificationRejected for what cannot be read."""
        kind = fields.get("transactionType") or "pay"
        transaction_id = fields.get("transactionId")
        if not transaction_id:
            raise self.rejection(message, "malformed_body", "the transaction id is missing", 400)
        # A refund has its own transactionId; the order it refunds is the original one.
        order_id = fields.get("originalTransactionId") if kind == "refund" else transaction_id
        if not order_id:
            raise self.rejection(message, "malformed_body", "originalTransactionId is missing", 400)
        echo = fields.get("echoParam")
        if kind == "pay" and echo and echo != order_id:
            raise self.rejection(message, "order_id_mismatch", "echoParam does not match transactionId", 400)
        amount = _stated_money(fields)
        if not isinstance(amount, Money):
            raise self.rejection(message, "malformed_body", "amount or currency missing or invalid", 400)
        code = fields.get("resultCode", "")
        facts: tuple[Fact, ...]
        if kind == "pay":
            facts = (PaymentFact(STATUS_TABLE.get(code, OrderStatus.UNKNOWN), amount),)
        elif kind == "refund":
            status = REFUND_STATUS_TABLE.get(code, RefundStatus.UNKNOWN)
            facts = (RefundFact(transaction_id, amount, status, fields.get("reference") or None),)
        else:  # authorization, capture, …: not part of an Alipay payment
            facts = ()
        return Statement(
            order_id=order_id,
            facts=facts,
            provider_status=code if kind == "pay" else f"{kind}:{code}",
            verified_by=verified_by,
            provider_reference=(fields.get("reference") or None) if kind == "pay" else None,
            payload=redact(dict(fields)),
        )

    # -- status pull -----------------------------------------------------------------------------
    def query(self, order: Order) -> Statement | None:
        return self._query_transaction(order.order_id)

    def _query_transaction(self, transaction_id: str) -> Statement | None:
        fields = {
            "transactionType": "query",
            "version": "1.0",
            "signType": self.settings.sign_type,
            "merchantNo": self.settings.merchant_no,
            "transactionId": transaction_id,
        }
        reply = self._call(fields)
        info_text = reply.get("transactionInfo", "")
        if not info_text:
            if reply.get("resultCode") == "failed" and _NOT_FOUND.fullmatch(reply.get("errorMsg", "")):
                return None  # UseePay's own "no such transaction"
            # "system busy" and the like: nothing learnt, the order stays as it is.
            raise ProviderUnavailable(
                f"UseePay's query did not return the transaction ({reply.get('errorCode', '')[:20]})",
                code="provider_query_failed",
            )
        try:
            info = json.loads(info_text)
        except ValueError:
            raise self.bad_reply("has a transactionInfo that is not JSON") from None
        if not isinstance(info, dict):
            raise self.bad_reply("has a transactionInfo that is not an object")
        flat = {key: _field_text(value) for key, value in info.items() if value is not None}
        if flat.get("transactionId") != transaction_id:
            raise self.bad_reply("is about another transaction")
        try:
            return self._statement(flat, "provider-query", None)
        except NotificationRejected as unreadable:
            raise self.bad_reply(f"cannot be read ({unreadable.message})") from None

    # -- refunds and cancel ----------------------------------------------------------------------
    def refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement:
        """`transactionType=refund` under the refund's own transactionId. A synchronous `pending` +
        `0000` means accepted: the result comes as a `transactionType=refund` notification."""
        fields = {
            "transactionType": "refund",
            "version": "1.0",
            "signType": self.settings.sign_type,
            "merchantNo": self.settings.merchant_no,
            "transactionId": refund.provider_key,
            "originalTransactionId": order.order_id,
            "amount": str(refund.amount.value),
            "currency": refund.amount.currency,
        }
        if ctx.notify_url:  # without it UseePay reports the refund to the payment's notifyUrl
            fields["notifyUrl"] = ctx.notify_url
        reply = self._call(fields)
        if reply.get("transactionId") not in (None, refund.provider_key):
            raise self.bad_reply("is about another transaction")
        code = reply.get("resultCode", "")
        status = REFUND_STATUS_TABLE.get(code)
        if status == RefundStatus.FAILED:
            raise ProviderRejected(
                "UseePay refused the refund",
                provider_code=reply.get("errorCode") or code,
                provider_message=reply.get("errorMsg") or code,
            )
        if status is None:
            raise self.bad_reply(f"has resultCode '{code[:40]}'")
        stated = _stated_money(reply)
        if stated is _UNREADABLE:
            raise self.bad_reply("has an unreadable amount")
        return Statement(
            order_id=order.order_id,
            facts=(
                RefundFact(
                    refund.provider_key,
                    stated if isinstance(stated, Money) else refund.amount,
                    status,
                    reply.get("reference") or None,
                ),
            ),
            provider_status=f"refund:{code}",
            verified_by=f"useepay-{self.settings.sign_type.lower()}",
            payload=redact(dict(reply)),
        )

    def resolve_refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement | None:
        """`query` on the refund's own transactionId; None when UseePay never received it."""
        return self._query_transaction(refund.provider_key)

    def cancel(self, order: Order) -> CancelResult:
        # UseePay has no cancel call for unpaid Alipay orders: its checkout closes on its own (at
        # most 10 minutes), and a payment it reports after our cancel is applied and flagged late.
        return CancelResult.NO_CANCEL_CALL

    # -- wire plumbing ---------------------------------------------------------------------------
    def _call(self, fields: dict[str, str]) -> dict[str, str]:
        """POST a signed form; return the reply's fields once its signature is proven."""
        body = urlencode({**fields, "sign": self.sign(fields)}).encode("utf-8")
        reply = self.raise_for_server_error(
            self.http.request(
                "POST",
                f"{self.settings.base_url}/api",
                headers={"Content-Type": f"{FORM}; charset=UTF-8", "Accept": "application/json"},
                body=body,
            )
        )
        try:
            parsed = json.loads(reply.body)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise self.bad_reply("is not a JSON object")
        reply_fields = {key: _field_text(value) for key, value in parsed.items() if value is not None}
        # Unsigned or badly signed: we cannot tell what happened, so the outcome stays unknown.
        if reply_fields.get(
            "signType", self.settings.sign_type
        ) != self.settings.sign_type or not self.verify(reply_fields):
            raise self.reply_signature_failed("is not signed correctly")
        return reply_fields


_UNREADABLE = object()


def _stated_money(fields: Mapping[str, str]) -> Money | object | None:
    """The amount a message states: Money, None when it states none, _UNREADABLE when it is not
    currency + ASCII minor units."""
    value, currency = fields.get("amount", ""), fields.get("currency", "")
    if not value and not currency:
        return None
    if not _AMOUNT.fullmatch(value):
        return _UNREADABLE
    try:
        return Money(int(value), currency)
    except MoneyError:
        return _UNREADABLE


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
    """The posted form, each field once; raises NotificationRejected otherwise."""
    claimed = _claimed_order_id(dict(reversed(_lenient_pairs(request.body))))

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


def _lenient_pairs(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def _claimed_order_id(fields: Mapping[str, str]) -> str | None:
    """Which order a delivery says it is about: unverified, used only to file a rejected attempt."""
    return fields.get("echoParam") or fields.get("originalTransactionId") or fields.get("transactionId")


Adapter = UseePay  # what the registry (payments.providers) loads
