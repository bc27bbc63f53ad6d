"""MultiSafepay (JSON API v1) for Alipay and Alipay+.

Wire facts: docs/providers/multisafepay.md. Auth is the `api_key` header; notifications are
POSTed with an `Auth` header = base64("<unix seconds>:<hex HMAC-SHA512(api_key, "<ts>:" + raw body)>"),
or arrive as a legacy unsigned GET: a hint only, resolved by fetching the order with our key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote

from pydantic import Field, SecretStr, field_validator

from payments.errors import (
    NotificationRejected,
    ProviderDuplicateOrder,
    ProviderRejected,
    ProviderUnavailable,
    ValidationFailed,
)
from payments.facts import (
    CancelResult,
    ChargebackFact,
    Fact,
    PaymentAction,
    PaymentFact,
    RefundedTotalFact,
    RefundFact,
    RefundStatus,
    Statement,
)
from payments.http import HttpClient, HttpResponse
from payments.ledger import Refund
from payments.money import CURRENCY_EXPONENTS, Money, MoneyError
from payments.orders import Order, OrderStatus
from payments.providers.base import (
    CallContext,
    Capabilities,
    ProviderBase,
    RawRequest,
    RefundContext,
    SignedMessage,
)
from payments.providers.capabilities import TERMINAL_TYPES, RefundReporting, order_wallet
from payments.providers.settings import ProviderSettings
from payments.redact import redact
from payments.signing import constant_time_equal, hmac_sha512_hex

if TYPE_CHECKING:
    from payments.api import CreateOrderRequest
    from payments.providers.diagnosis import Candidate

# Every order status word MultiSafepay documents -> our unified status.
STATUS_TABLE: dict[str, OrderStatus] = {
    "initialized": OrderStatus.PENDING,  # payment link made, not paid yet
    "uncleared": OrderStatus.PENDING,  # awaiting MultiSafepay's manual acceptance
    "completed": OrderStatus.PAID,
    "shipped": OrderStatus.PAID,  # set by the merchant after a completed payment
    "reserved": OrderStatus.PAID,  # a refund or payout of a paid order is in progress
    "declined": OrderStatus.FAILED,
    "cancelled": OrderStatus.CANCELLED,  # cancelled by the merchant
    "void": OrderStatus.CANCELLED,  # cancelled; also an Alipay+ customer's cancel
    "expired": OrderStatus.EXPIRED,
    "refunded": OrderStatus.REFUNDED,
    "partial_refunded": OrderStatus.PARTIALLY_REFUNDED,
    "chargedback": OrderStatus.CHARGED_BACK,  # older spelling
    "chargeback": OrderStatus.CHARGED_BACK,  # newer spelling
}

SIGNATURE_MAX_AGE_S = 600  # what MultiSafepay's own SDKs accept
SIGNATURE_MAX_SKEW_S = 60  # a timestamp further in the future than clock skew explains is refused
ORDER_NOT_FOUND_CODE = 1006  # "invalid order id": unknown on GET, already used on POST
# Error codes that prove a refund request was refused, not made: 1034 "cannot refund", and requests
# MultiSafepay could not take (invalid amount or currency, missing data, invalid API key, a 422 that
# names the invalid attributes). Anything else (9999 "unknown", a bare 4xx, an undocumented code)
# leaves the refund unknown: calling it refused would free its amount for a second refund.
REFUND_REFUSALS = frozenset({"1001", "1002", "1016", "1032", "1034", "validation"})
MAX_AMOUNT = 2**31 - 1  # MultiSafepay's `amount` is a 32-bit integer
GATEWAY_EXPIRY_S = {"ALIPAY": 5 * 3600, "ALIPAYPLUS": 3600}  # after which MultiSafepay expires the order
# Our wallets -> MultiSafepay's gateway. The gateway setting is the default for a request naming none.
GATEWAYS = {"alipay_cn": "ALIPAY", "alipay_plus": "ALIPAYPLUS"}
DEFAULT_GATEWAY: Literal["ALIPAY", "ALIPAYPLUS"] = "ALIPAY"
DEFAULT_CURRENCIES = ("EUR", "USD")  # MultiSafepay's Alipay and Alipay+ take these
_CUSTOMER_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "ip_address",
    "locale",
    "country",
    "address1",
    "address2",
    "house_number",
    "zip_code",
    "city",
    "state",
)


class MultiSafepaySettings(ProviderSettings, frozen=True, extra="forbid"):
    api_key: SecretStr = Field(min_length=1)
    base_url: str = "https://testapi.multisafepay.com/v1/json/"
    gateway: Literal["ALIPAY", "ALIPAYPLUS"] = DEFAULT_GATEWAY
    currencies: tuple[str, ...] = Field(default=DEFAULT_CURRENCIES, min_length=1)
    max_amount: int = Field(default=MAX_AMOUNT, gt=0, le=MAX_AMOUNT)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("currencies")
    @classmethod
    def _iso_4217(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [code for code in value if code not in CURRENCY_EXPONENTS]
        if unknown:
            raise ValueError(f"not ISO 4217 currency codes: {unknown}")
        return value

    @field_validator("api_key")
    @classmethod
    def _trimmed(cls, value: SecretStr) -> SecretStr:
        # MultiSafepay trims the key before using it as the HMAC key; so do we, everywhere.
        return SecretStr(value.get_secret_value().strip())


class MultiSafepay(ProviderBase):
    name: ClassVar[str] = "multisafepay"
    label: ClassVar[str] = "MultiSafepay"
    settings_model: ClassVar[type[ProviderSettings]] = MultiSafepaySettings
    notification_headers: ClassVar[frozenset[str]] = frozenset({"auth"})
    notification_methods: ClassVar[frozenset[str]] = frozenset({"POST", "GET"})
    ok_body: ClassVar[str] = "OK"  # MultiSafepay looks for "OK" in the first 100 characters
    documented_capabilities: ClassVar[Capabilities] = Capabilities(
        currencies=frozenset(DEFAULT_CURRENCIES),
        max_amount=MAX_AMOUNT,
        max_expiry_seconds=max(GATEWAY_EXPIRY_S.values()),  # Alipay's; Alipay+'s is shorter
        default_expiry_seconds=GATEWAY_EXPIRY_S[DEFAULT_GATEWAY],
        terminal_types=frozenset(TERMINAL_TYPES),  # it is not told the terminal: its page adapts
        payer_urls=frozenset({"return_url", "cancel_url"}),  # payment_options.redirect_url and cancel_url
        cancels_unpaid_orders=True,  # PATCH status cancelled
        confirms_payment_after_cancel=False,
        withdraws_unclear_creates=False,
        expiry_grace_seconds=900,  # it notifies an expiry itself, retrying 15 minutes apart
        query_gives_payment_link=True,  # GET orders/{id} carries payment_url
        # Refunds are accepted, then complete in the order's amount_refunded (notified and queried).
        refunds_reported=RefundReporting.ORDER_REFUNDED_TOTAL,
        looks_up_a_refund=False,  # no lookup by refund: until its order shows it, a refund stays unknown
        wallets=frozenset(GATEWAYS),
        set_by_settings=frozenset({"currencies", "max_amount", "default_expiry_seconds", "default_wallet"}),
    )

    def __init__(self, settings: MultiSafepaySettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http
        self._key = settings.api_key.get_secret_value()
        # Currencies, the amount limit and the default gateway (hence its expiry) come from the settings;
        # the longest expiry is the longest gateway's (an order's own: `check_order`).
        self._capabilities = replace(
            self.documented_capabilities,
            currencies=frozenset(settings.currencies),
            max_amount=settings.max_amount,
            default_expiry_seconds=GATEWAY_EXPIRY_S[settings.gateway],
            default_wallet={gateway: wallet for wallet, gateway in GATEWAYS.items()}[settings.gateway],
        )

    # -- create ---------------------------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def default_expiry_seconds(self, request: CreateOrderRequest) -> int:
        return GATEWAY_EXPIRY_S[self._gateway(request)]

    def _gateway(self, request: CreateOrderRequest) -> str:
        return GATEWAYS[order_wallet(request, self._capabilities)]  # a wallet of the record: checked

    def check_order(self, request: CreateOrderRequest) -> None:
        limit = self.default_expiry_seconds(request)  # the gateway's lifetime is its longest too
        if request.expires_in_seconds is not None and request.expires_in_seconds > limit:
            wallet = order_wallet(request, self._capabilities)
            raise ValidationFailed(
                f"expires_in_seconds: MultiSafepay's {wallet} orders expire after at most {limit} seconds",
                field="expires_in_seconds",
                code="invalid_field",
            )
        customer = request.customer
        for name in ("first_name", "last_name"):
            value = getattr(customer, name) if customer else None
            if value is not None and len(value) < 2:
                raise ValidationFailed(
                    f"customer.{name}: MultiSafepay requires at least 2 characters",
                    field=f"customer.{name}",
                    code="invalid_field",
                )

    def create_payment(self, order: Order, ctx: CallContext) -> Statement:
        body: dict[str, Any] = {
            "type": order.flow,
            "order_id": order.order_id,
            "gateway": GATEWAYS[order.wallet],  # the request's wallet wins over the setting
            "currency": order.amount.currency,
            "amount": order.amount.value,
            "description": order.description,
            "seconds_active": max(self.seconds_left(order, ctx.now), 60),
            "payment_options": {
                "notification_url": ctx.notify_url,
                "notification_method": "POST",
                "redirect_url": order.return_url,
                "cancel_url": order.cancel_url,
                "close_window": False,
            },
        }
        customer = ctx.request.customer
        if customer is not None:
            body["customer"] = {
                name: getattr(customer, name)
                for name in _CUSTOMER_FIELDS
                if getattr(customer, name) is not None
            }
        reply = self._call("POST", "orders", body)
        data = self._data(reply)
        if data is None:
            error_code, message = self._error(reply)
            if error_code == str(ORDER_NOT_FOUND_CODE):
                # The order id is taken at MultiSafepay: an earlier attempt may have gone through.
                raise ProviderDuplicateOrder("MultiSafepay already holds an order with this id")
            raise ProviderRejected(
                "MultiSafepay refused the order", provider_code=error_code, provider_message=message
            )
        if _order_id_of(data) not in (None, order.order_id):
            raise self.bad_reply("is about another order")
        if "status" in data:  # a direct order's reply is the whole order: read it like any other
            statement = self._statement(data, verified_by="provider-reply")
        else:
            payment_url = _payment_url_of(data)
            statement = Statement(
                order_id=order.order_id,
                facts=(PaymentFact(OrderStatus.PENDING, _money_of(data)),),
                provider_status="initialized",
                verified_by="provider-reply",
                provider_reference=_reference_of(data),
                payload=redact(data),
                payment_url=payment_url,
                action=_redirect(payment_url),
            )
        if statement.payment_url is None:
            raise self.bad_reply("has no payment_url")
        return statement

    # -- notifications: the steps of ProviderBase.parse_notification -----------------------------
    def notification_message(self, request: RawRequest) -> SignedMessage | Statement:
        try:
            claimed = request.query_value("transactionid")
            timestamp = request.query_value("timestamp")
        except ValueError as exc:
            raise NotificationRejected("malformed_query", str(exc), status=400) from None
        if request.method == "GET":
            return _legacy_get(claimed, timestamp)
        header = request.header("auth")
        if not header:
            return SignedMessage(b"", "", {}, claimed_order_id=claimed)
        message = SignedMessage(b"", "", {}, claimed_order_id=claimed)
        try:
            decoded = base64.b64decode(header.strip(), validate=True).decode("ascii")
            stamp, _, received = decoded.partition(":")
            signed_at = int(stamp)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise self.rejection(
                message, "malformed_signature", "the Auth header is not base64('<timestamp>:<hmac>')"
            ) from None
        if not received or not stamp.isdigit():
            raise self.rejection(
                message, "malformed_signature", "the Auth header is not base64('<timestamp>:<hmac>')"
            )
        # In integers: a 400-digit timestamp would overflow float arithmetic (a 500, not a 401).
        age = int(request.now.timestamp()) - signed_at
        if age > SIGNATURE_MAX_AGE_S:
            raise self.rejection(
                message, "stale_signature", f"the Auth timestamp is older than {SIGNATURE_MAX_AGE_S} s"
            )
        if age < -SIGNATURE_MAX_SKEW_S:
            raise self.rejection(message, "future_signature", "the Auth timestamp is in the future")
        return SignedMessage(
            signed=stamp.encode() + b":" + request.body,
            signature=received,
            fields={"body": request.body},
            claimed_order_id=claimed,
            timestamp=stamp,
        )

    def signature_valid(self, message: SignedMessage, request: RawRequest) -> bool:
        return constant_time_equal(hmac_sha512_hex(self._key.encode(), message.signed), message.signature)

    # -- the doctor's candidates (after a refusal only) --------------------------------------------
    def signature_candidates(self, message: SignedMessage, request: RawRequest) -> Iterable[Candidate]:
        from payments.providers.diagnosis import Candidate  # the refusal path only
        from payments.refusals import SIGNED_WITH_OTHER_HASH

        yield Candidate(
            SIGNED_WITH_OTHER_HASH,
            "the Auth header is an HMAC-SHA256 of the body, not the HMAC-SHA512 MultiSafepay signs with: "
            "the sender is a tool or a proxy re-signing notifications, not MultiSafepay",
            lambda: constant_time_equal(
                hmac.new(self._key.encode(), message.signed, hashlib.sha256).hexdigest(), message.signature
            ),
        )

    def stale_explanation(self, request: RawRequest, rejection: NotificationRejected) -> str:
        stamp = _auth_timestamp(request.header("auth"))
        if stamp is None:
            return super().stale_explanation(request, rejection)
        age = int(request.now.timestamp()) - stamp
        genuine = self._message_or_none(_arrived_at(request, stamp))
        proven = (
            " It is MultiSafepay's own signature: a late delivery, or this server's clock is off."
            if genuine is not None and self.signature_valid(genuine, request)
            else " Its signature does not hold either."
        )
        if age > 0:
            return (
                f"the Auth timestamp is {age} s old; MultiSafepay's limit is {SIGNATURE_MAX_AGE_S} s "
                f"({age - SIGNATURE_MAX_AGE_S} s too old).{proven}"
            )
        return (
            f"the Auth timestamp is {-age} s in the future; at most {SIGNATURE_MAX_SKEW_S} s of clock skew "
            f"is allowed.{proven} Check this server's clock (NTP)."
        )

    def notification_from(self, message: SignedMessage) -> Statement:
        claimed = message.claimed_order_id
        data = _json_object(message.fields["body"], claimed)
        order_id = _order_id_of(data)
        if claimed is not None and claimed != order_id:
            raise NotificationRejected(
                "order_id_mismatch",
                "transactionid does not match the body's order_id",
                status=400,
                claimed_order_id=claimed,
            )
        return self._statement(data, verified_by="hmac-sha512", claimed=order_id)

    def _statement(self, data: dict[str, Any], *, verified_by: str, claimed: str | None = None) -> Statement:
        """MultiSafepay's order object (a notification's body, a GET or a direct create reply)."""

        def malformed(message: str) -> NotificationRejected:
            return NotificationRejected("malformed_body", message, status=400, claimed_order_id=claimed)

        order_id = _order_id_of(data)
        word = data.get("status")
        if not order_id or not isinstance(word, str):
            raise malformed("order_id or status missing")
        amount = _money_of(data)
        if amount is None:
            raise malformed("amount or currency missing or invalid")
        refunded = data.get("amount_refunded", 0)
        if type(refunded) is not int or refunded < 0:
            raise malformed("amount_refunded is not a whole number of minor units")
        payment_url = _payment_url_of(data)
        return Statement(
            order_id=order_id,
            facts=_facts_of(word.lower(), amount, refunded),
            provider_status=word,
            verified_by=verified_by,
            provider_reference=_reference_of(data),
            payload=redact(data),
            payment_url=payment_url,
            action=_redirect(payment_url),
        )

    # -- the configuration, for the doctor --------------------------------------------------------
    def signing(self) -> tuple[str, str]:
        return "ok", "notifications: HMAC-SHA512 of '<timestamp>:<body>' with the API key; calls: the API key"

    def environment(self) -> tuple[str, str]:
        return self.environment_of(
            self.settings.base_url,
            {"testapi.multisafepay.com": "the test environment", "api.multisafepay.com": "live"},
        )

    # -- status pull -----------------------------------------------------------------------------
    def query(self, order: Order) -> Statement | None:
        data = self._fetch_order(order.order_id)
        if data is None:
            return None
        if _order_id_of(data) != order.order_id:
            raise self.bad_reply("is about another order")
        try:
            return self._statement(data, verified_by="provider-query", claimed=order.order_id)
        except NotificationRejected as unreadable:
            raise self.bad_reply(f"cannot be read ({unreadable.message})") from None

    def _fetch_order(self, order_id: str) -> dict[str, Any] | None:
        reply = self._call("GET", f"orders/{quote(order_id, safe='')}", None)
        data = self._data(reply)
        if data is not None:
            return data
        error_code, _ = self._error(reply)
        if reply.status == 404 or error_code == str(ORDER_NOT_FOUND_CODE):
            return None
        raise ProviderUnavailable(f"MultiSafepay could not return the order ({error_code})")

    # -- refunds and cancel ----------------------------------------------------------------------
    def refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement:
        """`POST orders/{id}/refunds`. Success means accepted: the order's later notification (or
        its GET) carries the grown `amount_refunded` that completes it."""
        body = {
            "currency": refund.amount.currency,
            "amount": refund.amount.value,
            "description": refund.reason or f"Refund {refund.refund_id}",
            "refund_order_id": refund.provider_key,
        }
        reply = self._call("POST", f"orders/{quote(order.order_id, safe='')}/refunds", body)
        data = self._data(reply)
        if data is None:
            error_code, message = self._error(reply)
            if error_code not in REFUND_REFUSALS:
                raise ProviderUnavailable(
                    f"MultiSafepay's refund reply does not say whether it was refused ({error_code[:20]})",
                    code="provider_result_unknown",
                )
            raise ProviderRejected(
                "MultiSafepay refused the refund", provider_code=error_code, provider_message=message
            )
        reference = data.get("refund_id")
        return Statement(
            order_id=order.order_id,
            facts=(
                RefundFact(
                    refund.provider_key,
                    refund.amount,
                    RefundStatus.PENDING,
                    str(reference) if reference is not None else None,
                ),
            ),
            provider_status="refund:accepted",
            verified_by="provider-reply",
            payload=redact(data),
        )

    def resolve_refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement | None:
        """MultiSafepay has no lookup by refund: its order's cumulative `amount_refunded` tells. A
        refund that does not show there yet stays unknown — sending it again could refund twice."""
        data = self._fetch_order(order.order_id)
        if data is None:
            return None  # MultiSafepay does not hold the order: no refund of it was made
        if _order_id_of(data) != order.order_id:
            raise self.bad_reply("is about another order")
        try:
            return self._statement(data, verified_by="provider-query", claimed=order.order_id)
        except NotificationRejected as unreadable:
            raise self.bad_reply(f"cannot be read ({unreadable.message})") from None

    def cancel(self, order: Order) -> CancelResult:
        """`PATCH orders/{id}` with `{"status":"cancelled","exclude_order":true}`."""
        reply = self._call(
            "PATCH",
            f"orders/{quote(order.order_id, safe='')}",
            {"status": "cancelled", "exclude_order": True},
        )
        if self._data(reply) is not None:
            return CancelResult.WITHDRAWN
        error_code, message = self._error(reply)
        if reply.status == 404 or error_code == str(ORDER_NOT_FOUND_CODE):
            return CancelResult.NOT_AT_PROVIDER
        raise ProviderRejected(
            "MultiSafepay refused to cancel the order", provider_code=error_code, provider_message=message
        )

    # -- wire plumbing ---------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> HttpResponse:
        headers = {"api_key": self._key, "Accept": "application/json"}
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        reply = self.http.request(method, self.settings.base_url + path, headers=headers, body=payload)
        return self.raise_for_server_error(reply)

    def _parsed(self, reply: HttpResponse) -> dict[str, Any]:
        try:
            parsed = json.loads(reply.body)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            if 400 <= reply.status < 500:
                return {
                    "success": False,
                    "error_code": f"http_{reply.status}",
                    "error_info": "non-JSON reply",
                }
            raise self.bad_reply("is not JSON")
        return parsed

    def _data(self, reply: HttpResponse) -> dict[str, Any] | None:
        """`data` of a successful reply; None when MultiSafepay said no."""
        parsed = self._parsed(reply)
        if parsed.get("success") is True and 200 <= reply.status < 300:
            data = parsed.get("data")
            if not isinstance(data, dict):
                raise self.bad_reply("has no data")
            return data
        return None

    def _error(self, reply: HttpResponse) -> tuple[str, str]:
        parsed = self._parsed(reply)
        if "error_code" in parsed:
            return str(parsed["error_code"]), str(parsed.get("error_info") or "")[:500]
        if isinstance(parsed.get("errors"), list):  # 422 validation errors name their attributes
            attributes = [str(err.get("attribute")) for err in parsed["errors"] if isinstance(err, dict)]
            return "validation", f"{parsed.get('message') or 'invalid'}: {', '.join(attributes)}"[:500]
        return f"http_{reply.status}", "unexpected reply"


def _auth_timestamp(header: str | None) -> int | None:
    """The Unix time in an Auth header, if it has one (for explaining a refusal)."""
    try:
        stamp = base64.b64decode((header or "").strip(), validate=True).decode("ascii").partition(":")[0]
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(stamp) if stamp.isdigit() and len(stamp) < 20 else None


def _arrived_at(request: RawRequest, moment: int) -> RawRequest:
    """`request` as if it had arrived at Unix time `moment`."""
    return replace(request, now=datetime.fromtimestamp(moment, UTC))


def _legacy_get(claimed: str | None, timestamp: str | None) -> Statement:
    if not claimed:
        raise NotificationRejected("missing_field", "transactionid is missing", status=400)
    if not timestamp:
        # MultiSafepay: notifications without a timestamp are to be answered and ignored.
        return Statement(
            order_id=claimed, facts=(), provider_status="", verified_by="none", no_op_reason="no timestamp"
        )
    # Unsigned: believe nothing it says. The service asks MultiSafepay, with our key, only about an
    # order we hold and that is still open.
    return Statement(order_id=claimed, facts=(), provider_status="", verified_by="none", needs_query=True)


def _facts_of(word: str, amount: Money, refunded_value: int) -> tuple[Fact, ...]:
    """A status word is about the payment; `refunded`, `partial_refunded` and `chargedback` also say
    that it was paid (MultiSafepay reports them on the order it paid), and `amount_refunded` is the
    order's cumulative refunded total."""
    status = STATUS_TABLE.get(word, OrderStatus.UNKNOWN)
    if status in (OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED):
        if status == OrderStatus.REFUNDED and refunded_value == 0:
            refunded_value = amount.value  # "refunded" without a total: all of it
        facts: list[Fact] = [PaymentFact(OrderStatus.PAID, amount)]
        if refunded_value:
            facts.append(RefundedTotalFact(Money(refunded_value, amount.currency)))
        return tuple(facts)
    if status == OrderStatus.CHARGED_BACK:
        return (PaymentFact(OrderStatus.PAID, amount), ChargebackFact(None))
    if status == OrderStatus.PAID and refunded_value:
        return (
            PaymentFact(OrderStatus.PAID, amount),
            RefundedTotalFact(Money(refunded_value, amount.currency)),
        )
    return (PaymentFact(status, amount),)


def _redirect(url: str | None) -> PaymentAction | None:
    return PaymentAction(type="redirect", url=url, method="GET") if url else None


def _json_object(body: bytes, claimed: str | None) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise NotificationRejected(
            "malformed_body", "the body is not a JSON object", status=400, claimed_order_id=claimed
        )
    return data


def _payment_url_of(data: dict[str, Any]) -> str | None:
    """Redirect replies carry it at the top; direct replies under payment_details (read both)."""
    details = data.get("payment_details")
    url = data.get("payment_url") or (details.get("payment_url") if isinstance(details, dict) else None)
    return url if ProviderBase.is_web_url(url) else None


def _reference_of(data: dict[str, Any]) -> str | None:
    reference = data.get("transaction_id")
    return str(reference) if reference is not None else None


def _order_id_of(data: dict[str, Any]) -> str | None:
    value = data.get("order_id")
    # Numeric order ids come back as JSON integers.
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


def _money_of(data: dict[str, Any]) -> Money | None:
    value, currency = data.get("amount"), data.get("currency")
    if type(value) is not int or not isinstance(currency, str):
        return None
    try:
        return Money(value, currency)
    except MoneyError:
        return None


Adapter = MultiSafepay  # what the registry (payments.providers) loads
