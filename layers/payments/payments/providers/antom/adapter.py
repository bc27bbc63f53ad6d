"""Antom (Alipay's global acquiring API, "AMS"), cashier payments: Alipay and the Alipay+ wallets.

Wire facts: docs/providers/antom.md. Every call is `POST <base_url><path>` with a JSON body and three
headers, `client-id`, `request-time` and `signature: algorithm=RSA256,keyVersion=1,signature=<value>`,
value = quote_plus(base64(SHA256withRSA(`POST <path>\\n<client-id>.<request-time>.<body>`))). Antom's
replies are verified the same way with Antom's key, over the request's path and the reply's own
`response-time`; its notifications over the path of the notify URL we gave it (`RawRequest.url`:
stage or custom-domain base path included, never the path the Lambda sees). Bodies are signed and
verified as the exact bytes sent: nothing is re-serialised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, get_args
from urllib.parse import quote_plus, unquote_plus, urlsplit

from aws_lambda_powertools import Logger
from pydantic import Field, SecretStr, field_validator

from payments.errors import NotificationRejected, ProviderRejected, ProviderUnavailable, ValidationFailed
from payments.facts import CancelResult, PaymentAction, PaymentFact, RefundFact, RefundStatus, Statement
from payments.http import HttpClient, HttpResponse
from payments.ledger import Refund, provider_refund_key
from payments.money import read_string_amount, string_amount
from payments.orders import ORDER_ID_PATTERN, Order, OrderStatus
from payments.providers.base import (
    CallContext,
    Capabilities,
    ProviderBase,
    RawRequest,
    RawResponse,
    RefundContext,
    SignedMessage,
)
from payments.providers.capabilities import (
    ANY_CURRENCY,
    DEFAULT_WALLET,
    TERMINAL_TYPES,
    RefundReporting,
    wallet_order,
)
from payments.providers.settings import ProviderSettings
from payments.providers.stated_time import stated_time
from payments.redact import redact
from payments.signing import (
    check_rsa_private_key,
    check_rsa_public_key,
    load_private_key,
    load_public_key,
    rsa_sign,
    rsa_verify,
)

if TYPE_CHECKING:
    from payments.api import CreateOrderRequest
    from payments.providers.diagnosis import Candidate

logger = Logger()

LIVE_PATH = "/ams/api/v1/payments/"
SANDBOX_PATH = "/ams/sandbox/api/v1/payments/"  # for a client id that starts with SANDBOX_
JSON_UTF8 = "application/json; charset=UTF-8"
VERIFIED_BY = "antom-rsa256"
# The one answer Antom takes as "received" (anything else is retried).
ACK_BODY = '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}'

# Our wallet names -> Antom's paymentMethodType, the wallets this adapter offers.
WALLET_TYPES = {
    "alipay_cn": "ALIPAY_CN",
    "alipay_hk": "ALIPAY_HK",
    "gcash": "GCASH",
    "dana": "DANA",
    "kakaopay": "KAKAOPAY",
    "truemoney": "TRUEMONEY",
    "tng": "TNG",
    "bkash": "BKASH",
    "easypaisa": "EASYPAISA",
}
Wallet = Literal[
    "alipay_cn", "alipay_hk", "gcash", "dana", "kakaopay", "truemoney", "tng", "bkash", "easypaisa"
]
ALL_WALLETS: tuple[Wallet, ...] = get_args(Wallet)

# inquiryPayment's paymentStatus (`result` only says whether the query worked).
PAYMENT_STATUS_TABLE: dict[str, OrderStatus] = {
    "PROCESSING": OrderStatus.PENDING,
    "PENDING": OrderStatus.PENDING,  # the payer paid; the final result is coming
    "SUCCESS": OrderStatus.PAID,
    "FAIL": OrderStatus.FAILED,
    "CANCELLED": OrderStatus.CANCELLED,
}
# A refund's status: inquiryRefund says SUCCESS / PROCESSING / FAIL; notifyRefund SUCCESS / FAIL on
# one of Antom's pages and S / F on another: every spelling is read.
REFUND_STATUS_TABLE: dict[str, RefundStatus] = {
    "SUCCESS": RefundStatus.SUCCEEDED,
    "S": RefundStatus.SUCCEEDED,
    "FAIL": RefundStatus.FAILED,
    "F": RefundStatus.FAILED,
    "PROCESSING": RefundStatus.PENDING,
}
# A failure that is a payment closed unpaid when its paymentExpiryTime passed (*inference*: the code
# Antom gives a closed payment): our `expired`, not `failed`.
CLOSED_UNPAID = "ORDER_IS_CLOSED"
PAYMENT_NOT_FOUND = "ORDER_NOT_EXIST"
REFUND_NOT_FOUND = "REFUND_NOT_EXIST"

DEFAULT_EXPIRY_S = 840  # the cashier's default for Alipay and the Alipay+ wallets: 14 minutes
MAX_DESCRIPTION = 256  # order.orderDescription
MAX_URL = 2048  # paymentRedirectUrl, paymentNotifyUrl
_KEY_VERSION_RE = re.compile(r"[0-9]{1,4}")
# Our refundRequestId: the order id, "_R" and 12 hex digits (`refund_key`): a refund notification,
# which names no payment, tells its order by it.
_REFUND_REQUEST_ID_RE = re.compile("(?P<order>" + ORDER_ID_PATTERN.strip("^$") + ")_R[0-9a-f]{12}")


class AntomSettings(ProviderSettings, frozen=True, extra="forbid"):
    client_id: str = Field(min_length=1, max_length=64)
    private_key: SecretStr  # the merchant's: signs requests
    antom_public_key: SecretStr  # Antom's: verifies replies and notifications
    base_url: str  # the regional host, e.g. https://open-sea-global.alipay.com
    wallets: tuple[Wallet, ...] = Field(default=ALL_WALLETS, min_length=1)  # the contract's wallets

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("wallets")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a wallet is named twice")
        return value

    @field_validator("private_key")
    @classmethod
    def _private_key(cls, value: SecretStr) -> SecretStr:
        check_rsa_private_key(value.get_secret_value())
        return value

    @field_validator("antom_public_key")
    @classmethod
    def _public_key(cls, value: SecretStr) -> SecretStr:
        check_rsa_public_key(value.get_secret_value())
        return value


def _utc_now() -> datetime:
    return datetime.now(UTC)


def signed_content(path: str, client_id: str, moment: str, body: bytes) -> bytes:
    """`POST <path>` newline `<client-id>.<time>.<body>`: what Antom and we sign, both ways."""
    return f"POST {path}\n{client_id}.{moment}.".encode() + body


def signature_value(header: str | None) -> str | None:
    """The base64 signature in a `signature` header of Antom's shape (algorithm=RSA256, an optional
    numeric keyVersion, a URL-encoded signature), decoded once; None for any other shape."""
    if not header:
        return None
    parts: dict[str, str] = {}
    for item in header.split(","):
        name, equals, value = item.strip().partition("=")
        if not equals or name in parts or name not in ("algorithm", "keyVersion", "signature"):
            return None
        parts[name] = value
    if parts.get("algorithm") != "RSA256" or not parts.get("signature"):
        return None
    if "keyVersion" in parts and not _KEY_VERSION_RE.fullmatch(parts["keyVersion"]):
        return None
    # A `+` left unescaped by the sender reads as a space here, which is not base64: refused.
    return unquote_plus(parts["signature"])


def header_time(moment: datetime) -> str:
    """A `request-time` as Antom's SDK writes it: ISO 8601 in UTC, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


class Antom(ProviderBase):
    name: ClassVar[str] = "antom"
    label: ClassVar[str] = "Antom"
    settings_model: ClassVar[type[ProviderSettings]] = AntomSettings
    notification_headers: ClassVar[frozenset[str]] = frozenset({"client-id", "request-time", "signature"})
    documented_capabilities: ClassVar[Capabilities] = Capabilities(
        currencies=ANY_CURRENCY,  # the merchant's contract with Antom decides
        max_amount=None,
        max_expiry_seconds=None,  # paymentExpiryTime has no documented ceiling
        default_expiry_seconds=DEFAULT_EXPIRY_S,
        terminal_types=frozenset(TERMINAL_TYPES),  # env.terminalType
        payer_urls=frozenset({"return_url"}),  # paymentRedirectUrl, whatever the outcome
        cancels_unpaid_orders=True,  # payments/cancel
        # Antom keeps a payment it cancelled CANCELLED, even if a payment result arrives later: such a
        # notification is confirmed with inquiryPayment first.
        confirms_payment_after_cancel=True,
        withdraws_unclear_creates=False,  # an unclear pay is asked about, never cancelled
        expiry_grace_seconds=900,
        query_gives_payment_link=False,  # inquiryPayment has no normalUrl
        # Its reply says S (refunded) or F; only a refund still in process (U) is notified later
        # (notifyRefund), or asked about.
        refunds_reported=RefundReporting.WHEN_ASKED,
        looks_up_a_refund=True,  # inquiryRefund by refundRequestId
        wallets=frozenset(WALLET_TYPES),
        set_by_settings=frozenset({"wallets", "default_wallet"}),  # `wallets`: the contract's
    )

    def __init__(
        self, settings: AntomSettings, http: HttpClient, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        # Loaded once per settings (the directory rebuilds the adapter only when the secret changes).
        self._private_key = load_private_key(settings.private_key.get_secret_value())
        self._antom_key = load_public_key(settings.antom_public_key.get_secret_value())
        self._prefix = SANDBOX_PATH if settings.client_id.startswith("SANDBOX_") else LIVE_PATH
        offered = frozenset(settings.wallets)
        self._capabilities = replace(
            self.documented_capabilities,
            wallets=offered,
            # Alipay, else the first the contract offers (in the API's order of wallets).
            default_wallet=DEFAULT_WALLET if DEFAULT_WALLET in offered else wallet_order(offered)[0],
        )

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    def path(self, operation: str) -> str:
        """`/ams/api/v1/payments/<operation>`, under `/ams/sandbox/api` for a sandbox client id."""
        return self._prefix + operation

    # -- create ------------------------------------------------------------------------------------
    def check_order(self, request: CreateOrderRequest) -> None:
        if request.return_url is not None and len(request.return_url) > MAX_URL:
            raise ValidationFailed(
                f"return_url: Antom takes at most {MAX_URL} characters",
                field="return_url",
                code="invalid_field",
            )

    def create_payment(self, order: Order, ctx: CallContext) -> Statement:
        amount = string_amount(order.amount)
        details: dict[str, Any] = {
            "referenceOrderId": order.order_id,
            "orderDescription": order.description[:MAX_DESCRIPTION],
            "orderAmount": amount,
        }
        buyer = _buyer(ctx.request)
        if buyer:
            details["buyer"] = buyer
        body: dict[str, Any] = {
            "productCode": "CASHIER_PAYMENT",
            "paymentRequestId": order.order_id,  # Antom's idempotency key: a retry sends the same
            "paymentAmount": amount,
            "paymentMethod": {"paymentMethodType": WALLET_TYPES[order.wallet]},
            "order": details,
            "paymentRedirectUrl": order.return_url,
            "paymentNotifyUrl": ctx.notify_url,
            "paymentExpiryTime": header_time(datetime.fromisoformat(order.expires_at)),
            "env": _env(order, ctx.request),
        }
        reply = self._call("pay", body)
        result = _result(reply)
        status, code = result.get("resultStatus"), str(result.get("resultCode") or "")
        if status == "F":
            raise ProviderRejected(
                "Antom refused the payment",
                provider_code=code or "F",
                provider_message=str(result.get("resultMessage") or "")[:500],
            )
        link = reply.get("normalUrl")
        if status in ("S", "U") and self.is_web_url(link):
            # S, or U with a link (PAYMENT_IN_PROCESS): created, the payer goes to the cashier.
            if reply.get("paymentRequestId") not in (None, order.order_id):
                raise self.bad_reply("is about another payment")
            try:
                stated = read_string_amount(reply.get("paymentAmount"))
            except ValueError:
                raise self.bad_reply("has an unreadable paymentAmount") from None
            return Statement(
                order_id=order.order_id,
                facts=(PaymentFact(OrderStatus.PENDING, stated),),
                provider_status=f"{status}:{code}",
                verified_by=VERIFIED_BY,
                provider_reference=_text(reply.get("paymentId")),
                payload=redact(reply),  # schemeUrl and applinkUrl, for app flows, stay in it
                payment_url=link,
                action=PaymentAction(type="redirect", url=link, method="GET"),
            )
        if status == "S":
            raise self.bad_reply("has no normalUrl")
        # U without a link: Antom may have made the payment. Asked later (inquiryPayment), never
        # created again under another id.
        raise ProviderUnavailable(
            f"Antom could not say whether the payment was created ({code[:40]})",
            code="provider_result_unknown",
        )

    # -- notifications: the steps of ProviderBase.parse_notification --------------------------------
    def notification_message(self, request: RawRequest) -> SignedMessage | Statement:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise NotificationRejected("unsupported_content_type", "expected application/json", status=415)
        try:
            fields = json.loads(request.body, object_pairs_hook=_no_repeated_keys)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise NotificationRejected("malformed_body", "the body is not JSON", status=400) from None
        if not isinstance(fields, dict):
            raise NotificationRejected("malformed_body", "the body is not a JSON object", status=400)
        client_id = request.header("client-id") or ""
        moment = request.header("request-time") or ""  # signed as received: never re-formatted
        signature = signature_value(request.header("signature"))
        message = SignedMessage(
            signed=signed_content(urlsplit(request.url).path, client_id, moment, request.body),
            signature=signature or "",
            fields={**fields, "client-id": client_id},
            claimed_order_id=_order_of(fields),
        )
        if request.header("signature") and signature is None:
            raise self.rejection(message, "malformed_signature", "the signature header is not Antom's shape")
        if not moment:
            raise self.rejection(message, "malformed_body", "request-time is missing", 400)
        return message

    def signature_valid(self, message: SignedMessage, request: RawRequest) -> bool:
        return rsa_verify(self._antom_key, message.signed, message.signature)

    # -- the doctor's candidates (after a refusal only) --------------------------------------------
    def signature_candidates(self, message: SignedMessage, request: RawRequest) -> Iterable[Candidate]:
        from payments.providers.diagnosis import Candidate, rsa_candidates  # the refusal path only
        from payments.refusals import BODY_ALTERED, PATH_MISMATCH

        yield from rsa_candidates(
            self.label,
            message.signed,
            message.signature,
            provider_key=self._antom_key,
            hash_name="SHA256",
            own_private_key=self._private_key,
            fix="Antom signs with SHA256withRSA (RSA256) only: the sender is a tool, not Antom",
        )
        if " " in message.signature:
            repaired = message.signature.replace(" ", "+")
            yield Candidate(
                BODY_ALTERED,
                "the signature verifies once its spaces are read as '+': the signature header's value "
                "was not URL-encoded by the sender, or was decoded twice on the way",
                lambda: rsa_verify(self._antom_key, message.signed, repaired),
            )
        expected = urlsplit(request.url).path
        client_id = request.header("client-id") or ""
        moment = request.header("request-time") or ""
        for path in _other_paths(expected, request.received_path):
            content = signed_content(path, client_id, moment, request.body)
            yield Candidate(
                PATH_MISMATCH,
                f"Antom signed `POST {path}`, but the notify URL we give Antom has the path `{expected}`: "
                + (
                    "the notify URL carries a stage or base path that the URL Antom calls does not; "
                    if len(path) < len(expected)
                    else "the URL Antom calls has a prefix (a stage or a base-path mapping) ours lacks; "
                )
                + "set PublicBaseUrl to exactly the base URL Antom calls",
                lambda content=content: rsa_verify(self._antom_key, content, message.signature),  # type: ignore[misc]
            )

    def notification_from(self, message: SignedMessage) -> Statement:
        fields = message.fields
        if fields["client-id"] != self.settings.client_id:
            # Signed by Antom, but for another merchant: it must not move our orders.
            raise self.rejection(message, "client_mismatch", "the notification is for another client", 403)
        kind = fields.get("notifyType")
        if kind == "REFUND_RESULT":
            return self._refund_notification(message)
        if kind == "PAYMENT_PENDING":
            # Paid by the payer, the wallet's result still to come (its `S` is not a payment result).
            return Statement(
                order_id=message.claimed_order_id or "",
                facts=(),
                provider_status="PAYMENT_PENDING",
                verified_by=VERIFIED_BY,
                no_op_reason="PAYMENT_PENDING: the payment's result follows",
            )
        if kind != "PAYMENT_RESULT":
            logger.warning("unhandled Antom notification", extra={"notify_type": str(kind)[:40]})
            return Statement(
                order_id=message.claimed_order_id or "",
                facts=(),
                provider_status=str(kind)[:40],
                verified_by=VERIFIED_BY,
                no_op_reason="a notification type this API does not use",
            )
        order_id = fields.get("paymentRequestId")
        if not isinstance(order_id, str) or not order_id:
            raise self.rejection(message, "malformed_body", "paymentRequestId missing", 400)
        result = fields.get("result")
        if not isinstance(result, dict):
            raise self.rejection(message, "malformed_body", "result missing", 400)
        status, code = result.get("resultStatus"), str(result.get("resultCode") or "")
        target = {"S": OrderStatus.PAID, "F": _failure(code)}.get(str(status), OrderStatus.UNKNOWN)
        word = code[:64]  # SUCCESS, or why it failed (the status letter is in the payload)
        if target == OrderStatus.UNKNOWN:
            logger.warning("unmapped Antom payment result", extra={"provider_status": f"{status}:{word}"})
        try:
            amount = read_string_amount(fields.get("paymentAmount"))
        except ValueError:
            raise self.rejection(message, "malformed_body", "paymentAmount is unreadable", 400) from None
        if amount is None and target == OrderStatus.PAID:
            raise self.rejection(message, "malformed_body", "a paid notification without paymentAmount", 400)
        return Statement(
            order_id=order_id,
            facts=(PaymentFact(target, amount, stated_time(fields.get("paymentTime"), self.clock())),),
            provider_status=word,
            verified_by=VERIFIED_BY,
            provider_reference=_text(fields.get("paymentId")),
            payload=redact({k: v for k, v in fields.items() if k != "client-id"}),
        )

    def _refund_notification(self, message: SignedMessage) -> Statement:
        fields = message.fields
        key = fields.get("refundRequestId")
        order_id = _order_of(fields)
        if order_id is None:
            # Not a refund this API asked for (its id names no order of ours): nothing to attach it to.
            raise self.rejection(message, "unknown_refund", "refundRequestId is not one of ours", 400)
        word = str(fields.get("refundStatus") or "")[:40]
        status = REFUND_STATUS_TABLE.get(word, RefundStatus.UNKNOWN)
        if status == RefundStatus.UNKNOWN:
            logger.warning("unmapped Antom refund status", extra={"provider_status": word})
        try:
            amount = read_string_amount(fields.get("refundAmount"))
        except ValueError:
            amount = None
        if amount is None:
            raise self.rejection(message, "malformed_body", "refundAmount is not currency + minor units", 400)
        return Statement(
            order_id=order_id,
            facts=(
                RefundFact(
                    str(key),
                    amount,
                    status,
                    _text(fields.get("refundId")),
                    stated_time(fields.get("refundTime"), self.clock()),
                ),
            ),
            provider_status=f"refund:{word}",
            verified_by=VERIFIED_BY,
            payload=redact({k: v for k, v in fields.items() if k != "client-id"}),
        )

    def acknowledge(self, notification: Statement | None, error: Exception | None) -> RawResponse:
        """Antom's own answer, exactly, for what we took; our error shape (4xx refused, 5xx: retry
        later) otherwise."""
        if error is None:
            return RawResponse(200, ACK_BODY, "application/json")
        return super().acknowledge(notification, error)

    # -- the configuration, for the doctor --------------------------------------------------------
    def key_pair(self) -> tuple[Any, Any]:
        return self._private_key, self._antom_key

    def signing(self) -> tuple[str, str]:
        return "ok", "RSA256 (SHA256withRSA) over 'POST <path>\\n<client-id>.<time>.<body>', both ways"

    def environment(self) -> tuple[str, str]:
        host = urlsplit(self.settings.base_url).netloc
        kind = "sandbox" if self._prefix == SANDBOX_PATH else "live"
        where = f"{kind} client id: calls go to {host}{self._prefix}…"
        if host.startswith(("127.0.0.1", "localhost")) or host.endswith(".alipay.com"):
            return "ok", where
        return "warn", f"{where}; {host} is not an Antom host"

    def signed_notify_path(self, url: str) -> str | None:
        return urlsplit(url).path

    def reply_time(self, reply: HttpResponse) -> datetime | None:
        moment = {name.lower(): value for name, value in reply.headers.items()}.get("response-time")
        try:
            return datetime.fromisoformat(moment) if moment else None
        except ValueError:
            return None

    # -- status pull -------------------------------------------------------------------------------
    def query(self, order: Order) -> Statement | None:
        reply = self._call("inquiryPayment", {"paymentRequestId": order.order_id})
        result = _result(reply)
        if result.get("resultStatus") == "F" and result.get("resultCode") == PAYMENT_NOT_FOUND:
            return None
        if result.get("resultStatus") != "S":  # the query did not work; says nothing of the payment
            raise ProviderUnavailable(
                f"Antom could not return the payment ({str(result.get('resultCode'))[:40]})",
                code="provider_query_failed",
            )
        if reply.get("paymentRequestId") not in (None, order.order_id):
            raise self.bad_reply("is about another payment")
        word = reply.get("paymentStatus")
        word = word if isinstance(word, str) else ""
        status = PAYMENT_STATUS_TABLE.get(word, OrderStatus.UNKNOWN)
        if status == OrderStatus.FAILED:
            status = _failure(str(reply.get("paymentResultCode") or ""))
        try:
            amount = read_string_amount(reply.get("paymentAmount"))
        except ValueError:
            raise self.bad_reply("has an unreadable paymentAmount") from None
        if amount is None and status == OrderStatus.PAID:
            raise self.bad_reply("says paid without a paymentAmount")
        return Statement(
            order_id=order.order_id,
            facts=(PaymentFact(status, amount, stated_time(reply.get("paymentTime"), self.clock())),),
            provider_status=word[:40],
            verified_by="provider-query",
            provider_reference=_text(reply.get("paymentId")),
            payload=redact(reply),
        )

    # -- refunds and cancel ------------------------------------------------------------------------
    def refund_key(self, order_id: str, refund_id: str) -> str:
        """`<order id>_R<12 hex>` (at most 64 characters): derived, so a retry sends the same one, and
        naming the order, which Antom's refund notification does not."""
        return f"{order_id}_{provider_refund_key(order_id, refund_id)[:13]}"

    def refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement:
        """S: refunded. F: refused. U (or a timeout): unknown, resolved by inquiryRefund or the same
        request again (the same refundRequestId: Antom never refunds twice for it)."""
        body: dict[str, Any] = {
            "refundRequestId": refund.provider_key,
            "paymentId": order.provider_reference or self._payment_id(order),
            "refundAmount": string_amount(refund.amount),
            "refundReason": (refund.reason or f"refund {refund.refund_id}")[:256],
        }
        if ctx.notify_url:  # the result of a refund still in process is notified there
            body["refundNotifyUrl"] = ctx.notify_url
        reply = self._call("refund", body)
        result = _result(reply)
        status = result.get("resultStatus")
        if status == "F":
            raise ProviderRejected(
                "Antom refused the refund",
                provider_code=str(result.get("resultCode") or "F"),
                provider_message=str(result.get("resultMessage") or "")[:500],
            )
        if status != "S":
            raise ProviderUnavailable(
                f"Antom could not say whether the refund was made ({str(result.get('resultCode'))[:40]})",
                code="provider_result_unknown",
            )
        if reply.get("refundRequestId") not in (None, refund.provider_key):
            raise self.bad_reply("is about another refund")
        return self._refund_statement(order, refund, reply, RefundStatus.SUCCEEDED, "refund:S", VERIFIED_BY)

    def resolve_refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement | None:
        """inquiryRefund by refundRequestId; None when Antom never received it (sending it again,
        under the same id, is then safe)."""
        reply = self._call("inquiryRefund", {"refundRequestId": refund.provider_key})
        result = _result(reply)
        if result.get("resultStatus") == "F" and result.get("resultCode") == REFUND_NOT_FOUND:
            return None
        if result.get("resultStatus") != "S":
            raise ProviderUnavailable(
                f"Antom could not return the refund ({str(result.get('resultCode'))[:40]})",
                code="provider_query_failed",
            )
        if reply.get("refundRequestId") not in (None, refund.provider_key):
            raise self.bad_reply("is about another refund")
        word = str(reply.get("refundStatus") or "")[:40]
        status = REFUND_STATUS_TABLE.get(word, RefundStatus.UNKNOWN)
        return self._refund_statement(order, refund, reply, status, f"refund:{word}", "provider-query")

    def _refund_statement(
        self,
        order: Order,
        refund: Refund,
        reply: dict[str, Any],
        status: RefundStatus,
        word: str,
        verified_by: str,
    ) -> Statement:
        try:
            stated = read_string_amount(reply.get("refundAmount"))
        except ValueError:
            raise self.bad_reply("has an unreadable refundAmount") from None
        return Statement(
            order_id=order.order_id,
            facts=(
                RefundFact(
                    refund.provider_key,
                    stated or refund.amount,
                    status,
                    _text(reply.get("refundId")),
                    stated_time(reply.get("refundTime"), self.clock()),
                ),
            ),
            provider_status=word,
            verified_by=verified_by,
            payload=redact(reply),
        )

    def _payment_id(self, order: Order) -> str:
        """Antom refunds name the payment by its paymentId, which inquiryPayment tells."""
        found = self.query(order)
        if found is None or not found.provider_reference:
            raise self.bad_reply("did not give the payment's paymentId")
        return found.provider_reference

    def cancel(self, order: Order) -> CancelResult:
        """payments/cancel, for an unpaid payment only: asked first, because Antom's cancel of a paid
        payment refunds it (until 00:15 GMT+8 the day after), and a paid order takes a refund here.
        Whatever else Antom holds is refused, for the service to bring the order up to date."""
        found = self.query(order)
        if found is None:
            return CancelResult.NOT_AT_PROVIDER  # nothing to withdraw (the cancel would say ORDER_NOT_EXIST)
        if found.status == OrderStatus.CANCELLED:
            return CancelResult.WITHDRAWN
        if found.status == OrderStatus.UNKNOWN:
            raise self.bad_reply(f"gives a paymentStatus we do not know ({found.provider_status})")
        if found.status != OrderStatus.PENDING:
            raise ProviderRejected(
                "Antom holds the payment as no longer open",
                provider_code=f"PAYMENT_{found.provider_status}",
                provider_message="a paid payment takes a refund",
            )
        reply = self._call("cancel", {"paymentRequestId": order.order_id})
        result = _result(reply)
        status = result.get("resultStatus")
        if status == "S":
            return CancelResult.WITHDRAWN
        if status == "F":  # e.g. CANCEL_WINDOW_EXCEEDED: paid meanwhile
            raise ProviderRejected(
                "Antom refused to cancel the payment",
                provider_code=str(result.get("resultCode") or "F"),
                provider_message=str(result.get("resultMessage") or "")[:500],
            )
        raise ProviderUnavailable(
            f"Antom could not say whether the payment was cancelled ({str(result.get('resultCode'))[:40]})",
            code="provider_result_unknown",
        )

    # -- wire plumbing -----------------------------------------------------------------------------
    def _call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST one signed request; the verified reply. Raises ProviderUnavailable on anything we
        cannot trust, so an unverifiable answer never fails (or succeeds) an order."""
        path = self.path(operation)
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        moment = header_time(self.clock())
        signature = rsa_sign(self._private_key, signed_content(path, self.settings.client_id, moment, raw))
        reply = self.http.request(
            "POST",
            self.settings.base_url + path,
            headers={
                "Content-Type": JSON_UTF8,
                "client-id": self.settings.client_id,
                "request-time": moment,
                "signature": f"algorithm=RSA256,keyVersion=1,signature={quote_plus(signature)}",
            },
            body=raw,
        )
        return self._verified(self.raise_for_server_error(reply), path)

    def _verified(self, reply: HttpResponse, path: str) -> dict[str, Any]:
        try:
            value = json.loads(reply.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            value = None
        if not isinstance(value, dict):  # not an answer at all; read only once its signature holds
            raise self.bad_reply(f"(HTTP {reply.status}) is not a JSON object")
        headers = {name.lower(): text for name, text in reply.headers.items()}
        signature = signature_value(headers.get("signature"))
        moment = headers.get("response-time")
        if not signature or not moment:
            raise self.bad_reply("is not signed", "provider_bad_signature")
        if headers.get("client-id") != self.settings.client_id:
            raise self.bad_reply("is for another client", "provider_bad_signature")
        content = signed_content(path, self.settings.client_id, moment, reply.body)
        if not rsa_verify(self._antom_key, content, signature):
            raise self.reply_signature_failed()
        return value


# -- fields ------------------------------------------------------------------------------------------
def _other_paths(expected: str, received: str) -> list[str]:
    """Paths a notification may have been signed over instead of `expected`: the one the function saw,
    `expected` without its first segment (a stage Antom never saw) or with a usual stage before it,
    and with or without a trailing slash."""
    segments = expected.strip("/").split("/")
    found = [received, "/" + "/".join(segments[1:]), "/" + "/".join(segments[-2:])]
    found += [f"/{stage}{expected}" for stage in ("Prod", "prod", "Stage", "stage", "v1", "dev", "api")]
    found += [expected.rstrip("/"), expected.rstrip("/") + "/"]
    unique: list[str] = []
    for path in found:
        if path and path != "/" and path != expected and path not in unique:
            unique.append(path)
    return unique


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each given once: with a repeat, which value was meant?"""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a repeated key")
    return found


def _order_of(fields: Mapping[str, Any]) -> str | None:
    """The order a notification is about: its paymentRequestId, or the order our refundRequestId names.
    Unverified until the signature is."""
    if fields.get("notifyType") == "REFUND_RESULT":
        key = fields.get("refundRequestId")
        found = _REFUND_REQUEST_ID_RE.fullmatch(key) if isinstance(key, str) else None
        return found.group("order") if found else None
    named = fields.get("paymentRequestId")
    return named if isinstance(named, str) and named else None


def _failure(code: str) -> OrderStatus:
    """A failed payment: `expired` when Antom closed it unpaid at its expiry, `failed` otherwise."""
    return OrderStatus.EXPIRED if code == CLOSED_UNPAID else OrderStatus.FAILED


def _result(reply: dict[str, Any]) -> dict[str, Any]:
    result = reply.get("result")
    if not isinstance(result, dict):
        raise ProviderUnavailable("Antom's reply has no result", code="provider_bad_reply")
    return result


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _buyer(request: CreateOrderRequest) -> dict[str, Any]:
    """order.buyer from what the customer gave (Antom's Buyer: name, email, phone)."""
    customer = request.customer
    if customer is None:
        return {}
    buyer: dict[str, Any] = {}
    name = {"firstName": customer.first_name, "lastName": customer.last_name}
    if any(name.values()):
        buyer["buyerName"] = {key: value for key, value in name.items() if value}
    if customer.email:
        buyer["buyerEmail"] = customer.email
    if customer.phone:
        buyer["buyerPhoneNo"] = customer.phone
    return buyer


def _env(order: Order, request: CreateOrderRequest) -> dict[str, str]:
    env = {"terminalType": order.terminal_type}
    if request.os_type is not None:
        env["osType"] = request.os_type
    if request.customer is not None and request.customer.ip_address:
        env["clientIp"] = request.customer.ip_address
    return env


Adapter = Antom  # what the registry (payments.providers) loads
