"""Alipay's international acquiring gateway (`alipay.intl.*` envelope API), cashier product.

Wire facts: docs/providers/alipay-intl.md. Requests are
`{"request":{"head":…,"body":…},"signature":"…"}`, signed with the merchant's RSA key over the exact
text of the `request` value; replies (`response`) and notifications (`request`) are verified with
Alipay's public key over the exact text of that value as it arrived, found by a JSON-aware scan of
the raw body (payments/providers/json_scan.py). Nothing is ever re-serialised before it is signed or
verified.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger
from pydantic import Field, SecretStr, field_validator

from payments.errors import (
    NotificationRejected,
    PaymentsError,
    ProviderRejected,
    ProviderUnavailable,
    ValidationFailed,
)
from payments.facts import CancelResult, PaymentAction, PaymentFact, RefundFact, RefundStatus, Statement
from payments.http import HttpClient, HttpResponse
from payments.ledger import Refund
from payments.money import read_string_amount, string_amount
from payments.orders import Order, OrderStatus
from payments.providers import json_scan
from payments.providers.base import (
    CallContext,
    Capabilities,
    ProviderBase,
    RawRequest,
    RawResponse,
    RefundContext,
    SignedMessage,
)
from payments.providers.capabilities import ANY_CURRENCY, TERMINAL_TYPES, RefundReporting
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

VERSION = "2.0.0"
CREATE = "alipay.intl.acquiring.cashier.prepareForRedirect"
QUERY = "alipay.intl.acquiring.cashier.payQuery"
REFUND = "alipay.intl.acquiring.common.refund"
CANCEL = "alipay.intl.acquiring.common.payCancel"
NOTIFY = "alipay.intl.acquiring.cashier.notify.pay"
JSON_UTF8 = "application/json; charset=UTF-8"

# Notifications: resultInfo is the payment's result. Anything else is `unknown` (and logged).
PAID_RESULT = ("S", "SUCCESS")
# payQuery: resultInfo is the query's result; the payment's state is in `payStatus`. Alipay's cashier
# pages do not list its words: these are the ones of the alipay.intl family (inference, see
# docs/providers/alipay-intl.md).
PAY_STATUS_TABLE: dict[str, OrderStatus] = {
    "INIT": OrderStatus.PENDING,  # order made, not paid yet
    "WAIT_BUYER_PAY": OrderStatus.PENDING,
    "PAYING": OrderStatus.PENDING,
    "PROCESSING": OrderStatus.PENDING,
    "SUCCESS": OrderStatus.PAID,
    "FAIL": OrderStatus.FAILED,
    "FAILED": OrderStatus.FAILED,
    "CANCELLED": OrderStatus.CANCELLED,  # after payCancel
    "CLOSED": OrderStatus.EXPIRED,  # closed unpaid when expireTime ran out (we never close orders)
}
# payQuery resultCodes meaning "no such transaction": the service may then create the order again.
ORDER_NOT_FOUND_CODES = frozenset({"ORDER_NOT_EXIST", "TRADE_NOT_EXIST"})

# Our acknowledgements. resultCodeIds: the global codes (docs/providers/alipay-intl.md).
SUCCESS_INFO = {
    "resultStatus": "S",
    "resultCodeId": "00000000",
    "resultCode": "SUCCESS",
    "resultMsg": "success",
}
_REJECTION_CODES: dict[str, tuple[str, str]] = {
    "missing_signature": ("00000007", "INVALID_SIGNATURE"),
    "bad_signature": ("00000007", "INVALID_SIGNATURE"),
    "client_mismatch": ("12014155", "UNKNOWN_CLIENT"),
    "unknown_order": ("00000019", "PROCESS_FAIL"),
}
_PARAM_ILLEGAL = ("00000004", "PARAM_ILLEGAL")
_UNKNOWN_EXCEPTION = {
    "resultStatus": "U",
    "resultCodeId": "00000901",
    "resultCode": "UNKNOWN_EXCEPTION",
    "resultMsg": "temporarily unable to process; retry",
}

# Our wallets -> paymentSite. The payment_site setting is the default for a request naming none.
PAYMENT_SITES = {"alipay_cn": "ALIPAY_CN", "alipay_hk": "ALIPAY_HK"}
DEFAULT_EXPIRY_S = 600  # the cashier link's validTime (docs/providers/alipay-intl.md)
MAX_REDIRECT_URL = 512  # merchantRedirectUrl: string(512)
MAX_ORDER_DETAIL = 1000  # *inference*: no documented length; keeps the envelope bounded
_MSG_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # what we echo from a notification we could not verify


class AlipayIntlSettings(ProviderSettings, frozen=True, extra="forbid"):
    client_id: str = Field(min_length=1, max_length=32)
    merchant_id: str = Field(min_length=1, max_length=64)
    product_code: str = Field(min_length=1, max_length=64)
    payment_site: Literal["ALIPAY_CN", "ALIPAY_HK"]
    sign_hash: Literal["SHA256", "SHA1"] = "SHA256"
    private_key: SecretStr  # the merchant's: signs requests and our notification replies
    alipay_public_key: SecretStr  # Alipay's: verifies replies and notifications
    base_url: str = "https://open-sea.alipay.com"
    settle_contract_id: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("sign_hash", mode="before")
    @classmethod
    def _sign_type_names(cls, value: Any) -> Any:
        # Alipay's own names for the two: RSA2 (SHA256withRSA) and RSA (SHA1withRSA).
        return {"RSA2": "SHA256", "RSA": "SHA1"}.get(value, value) if isinstance(value, str) else value

    @field_validator("private_key")
    @classmethod
    def _private_key(cls, value: SecretStr) -> SecretStr:
        check_rsa_private_key(value.get_secret_value())
        return value

    @field_validator("alipay_public_key")
    @classmethod
    def _public_key(cls, value: SecretStr) -> SecretStr:
        check_rsa_public_key(value.get_secret_value())
        return value


def function_url(base_url: str, function: str) -> str:
    """`alipay.intl.acquiring.cashier.payQuery` -> `{base}/api/alipay/intl/acquiring/cashier/payQuery.htm`."""
    return f"{base_url}/api/{function.replace('.', '/')}.htm"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AlipayIntl(ProviderBase):
    name: ClassVar[str] = "alipay_intl"
    label: ClassVar[str] = "Alipay"
    settings_model: ClassVar[type[ProviderSettings]] = AlipayIntlSettings
    documented_capabilities: ClassVar[Capabilities] = Capabilities(
        currencies=ANY_CURRENCY,  # currencies and amounts are the merchant's contract with Alipay
        max_amount=None,
        max_expiry_seconds=None,  # expireTime has no documented ceiling
        default_expiry_seconds=DEFAULT_EXPIRY_S,
        terminal_types=frozenset(TERMINAL_TYPES),
        payer_urls=frozenset({"return_url"}),  # merchantRedirectUrl, for every outcome
        cancels_unpaid_orders=True,  # payCancel closes an unpaid order for good
        # After a successful payCancel, a payment notified for the order is confirmed with payQuery.
        confirms_payment_after_cancel=True,
        # A create that timed out or answered U is cancelled with payCancel, never assumed failed.
        withdraws_unclear_creates=True,
        expiry_grace_seconds=600,
        query_gives_payment_link=False,  # payQuery answers the payment's state, not its cashier page
        refunds_reported=RefundReporting.WHEN_ASKED,  # common.refund is synchronous; no refund notification
        looks_up_a_refund=True,  # it answers a merchantRefundId once: sending it again tells
        wallets=frozenset(PAYMENT_SITES),
        set_by_settings=frozenset({"default_wallet"}),  # payment_site
    )

    def __init__(
        self, settings: AlipayIntlSettings, http: HttpClient, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        # Loaded once per settings (the directory rebuilds the adapter only when the secret changes).
        self._private_key = load_private_key(settings.private_key.get_secret_value())
        self._alipay_key = load_public_key(settings.alipay_public_key.get_secret_value())
        self._verified_by = f"rsa-{settings.sign_hash.lower()}"
        site_wallet = {site: wallet for wallet, site in PAYMENT_SITES.items()}[settings.payment_site]
        self._capabilities = replace(self.documented_capabilities, default_wallet=site_wallet)

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    # -- create ---------------------------------------------------------------------------------
    def check_order(self, request: CreateOrderRequest) -> None:
        # Alipay's documented limits only (the rest is in documented_capabilities).
        if request.return_url is not None and len(request.return_url) > MAX_REDIRECT_URL:
            raise ValidationFailed(
                f"return_url: Alipay takes at most {MAX_REDIRECT_URL} characters",
                field="return_url",
                code="invalid_field",
            )

    def create_payment(self, order: Order, ctx: CallContext) -> Statement:
        remaining = self.seconds_left(order, ctx.now)
        body: dict[str, Any] = {
            "merchantId": self.settings.merchant_id,
            "productCode": self.settings.product_code,
            "merchantTransId": order.order_id,
            "order": {
                "orderAmount": string_amount(order.amount),
                "orderTitle": order.description,
                "orderDetail": _order_detail(order, ctx.request),
            },
            "expireTime": expire_time(max(remaining, 60)),
            "paymentSite": PAYMENT_SITES[order.wallet],  # the request's wallet wins over the setting
            "terminalType": order.terminal_type,
            "merchantRedirectUrl": order.return_url,
            "urlType": "DEFAULT",
            "extendInfo": "{}",
            "riskInfo": _risk_info(order, ctx.request),
            "notifyUrl": ctx.notify_url,
        }
        if self.settings.settle_contract_id:
            body["settleContractId"] = self.settings.settle_contract_id
        reply = self._call(CREATE, body, ctx.now)
        result = _result_info(reply)
        status = result.get("resultStatus")
        if status == "S":
            url = reply.get("paymentSiteUrl")
            if not isinstance(url, str) or not self.is_web_url(url):
                raise self.bad_reply("has no paymentSiteUrl")
            return Statement(
                order_id=order.order_id,
                facts=(PaymentFact(OrderStatus.PENDING, None),),
                provider_status="S:SUCCESS",
                verified_by=self._verified_by,
                provider_reference=None,  # Alipay's acquirementId comes with the payment
                payload=redact(reply),
                payment_url=url,
                action=PaymentAction(type="redirect", url=url, method="GET"),
            )
        if status == "F":
            raise ProviderRejected(
                "Alipay refused the order",
                provider_code=str(result.get("resultCode") or "F"),
                provider_message=str(result.get("resultMsg") or "")[:500],
            )
        # `U` (or no status): Alipay may have created the order. Never assume it failed.
        raise ProviderUnavailable(
            f"Alipay could not say whether the order was created ({result.get('resultCode')})",
            code="provider_result_unknown",
        )

    # -- notifications: the steps of ProviderBase.parse_notification -----------------------------
    def notification_message(self, request: RawRequest) -> SignedMessage:
        context: dict[str, str] = {}
        try:
            members = json_scan.members(request.body)
        except ValueError:
            raise NotificationRejected(
                "malformed_body", "the body is not an Alipay request envelope", status=400
            ) from None
        unverified = json_scan.object_at(request.body, members.get("request"))
        head = unverified.get("head") if unverified else None
        body = unverified.get("body") if unverified else None
        msg_id = head.get("reqMsgId") if isinstance(head, dict) else None
        if isinstance(msg_id, str) and _MSG_ID_RE.fullmatch(msg_id):
            context["reqMsgId"] = msg_id  # echoed even in an error reply: Alipay matches replies by it
        claimed = body.get("merchantTransId") if isinstance(body, dict) else None
        message = SignedMessage(
            signed=b"",
            signature="",
            fields={"head": head, "body": body},
            claimed_order_id=claimed if isinstance(claimed, str) else None,
            reply_context=context,
        )
        if unverified is None:
            raise self.rejection(message, "malformed_body", "the body has no `request` object", 400)
        start, end = members["request"]
        return SignedMessage(
            signed=request.body[start:end],
            signature=json_scan.string_at(request.body, members.get("signature")) or "",
            fields=message.fields,
            claimed_order_id=message.claimed_order_id,
            reply_context=context,
        )

    def signature_valid(self, message: SignedMessage, request: RawRequest) -> bool:
        return rsa_verify(self._alipay_key, message.signed, message.signature, self.settings.sign_hash)

    def signature_candidates(self, message: SignedMessage, request: RawRequest) -> Iterable[Candidate]:
        from payments.providers.diagnosis import rsa_candidates  # the refusal path only

        return rsa_candidates(
            self.label,
            message.signed,
            message.signature,
            provider_key=self._alipay_key,
            hash_name=self.settings.sign_hash,
            own_private_key=self._private_key,
            fix="set `sign_hash` to RSA2 (SHA256) or RSA (SHA1), as Alipay's console shows for your account",
        )

    def notification_from(self, message: SignedMessage) -> Statement:
        # Verified: from here on, Alipay said it. reqTime's age is not checked: Alipay retries one
        # result for ~25 h, and a replayed genuine notification only repeats what Alipay said, which
        # the service applies once (a duplicate changes nothing).
        head, body = message.fields["head"], message.fields["body"]
        claimed = message.claimed_order_id

        def reject(reason: str, text: str, status: int = 400) -> NotificationRejected:
            return self.rejection(message, reason, text, status)

        if not isinstance(head, dict) or not isinstance(body, dict):
            raise reject("malformed_body", "head or body missing")
        if head.get("function") != NOTIFY:
            raise reject("wrong_function", "not a notify.pay request")
        if head.get("clientId") != self.settings.client_id:
            # Alipay's key is the same for every merchant: a genuine notification for another
            # client must not move our orders.
            raise reject("client_mismatch", "the notification is for another client", 403)
        if not claimed:
            raise reject("malformed_body", "merchantTransId missing")
        result = body.get("resultInfo")
        if not isinstance(result, dict):
            raise reject("malformed_body", "resultInfo missing")
        word = f"{result.get('resultStatus')}:{result.get('resultCode')}"
        status = _notified_status(result)
        if status == OrderStatus.UNKNOWN:
            logger.warning("unmapped Alipay notification result", extra={"provider_status": word[:80]})
        try:
            amount = read_string_amount(body.get("orderAmount"))
        except ValueError:
            raise reject("malformed_body", "orderAmount is not currency + minor units") from None
        if amount is None and status == OrderStatus.PAID:
            raise reject("malformed_body", "a paid notification without orderAmount")
        reference = body.get("acquirementId")
        return Statement(
            order_id=claimed,
            facts=(PaymentFact(status, amount, stated_time(body.get("paymentTime"), self.clock())),),
            provider_status=word,
            verified_by=self._verified_by,
            provider_reference=reference if isinstance(reference, str) and reference else None,
            payload=redact({"function": NOTIFY, "reqMsgId": message.reply_context.get("reqMsgId"), **body}),
            reply_context=dict(message.reply_context),
        )

    def acknowledge(self, notification: Statement | None, error: Exception | None) -> RawResponse:
        """Always a signed response envelope: Alipay retries until it gets a signed SUCCESS."""
        context: Mapping[str, str] = notification.reply_context if notification else {}
        if error is None:
            return self._signed_reply(200, context, SUCCESS_INFO)
        if isinstance(error, NotificationRejected):
            code_id, code = _REJECTION_CODES.get(error.reason, _PARAM_ILLEGAL)
            status = error.status if 400 <= error.status < 500 else 400
            info = {
                "resultStatus": "F",
                "resultCodeId": code_id,
                "resultCode": code,
                "resultMsg": error.message,
            }
            return self._signed_reply(status, error.reply_context or context, info)
        # We could not finish (provider or store down, or a bug): no verdict, so Alipay should retry.
        return self._signed_reply(
            503 if isinstance(error, PaymentsError) else 500, context, _UNKNOWN_EXCEPTION
        )

    def _signed_reply(self, status: int, context: Mapping[str, str], info: Mapping[str, str]) -> RawResponse:
        head = {
            "version": VERSION,
            "function": NOTIFY,
            "clientId": self.settings.client_id,
            "respTime": rfc3339(self.clock()),
        }
        if context.get("reqMsgId"):
            head["reqMsgId"] = context["reqMsgId"]
        head["reserve"] = "{}"
        text, signature = self._signed_text({"head": head, "body": {"resultInfo": dict(info)}})
        return RawResponse(status, '{"response":' + text + ',"signature":"' + signature + '"}', JSON_UTF8)

    # -- the configuration, for the doctor --------------------------------------------------------
    def key_pair(self) -> tuple[Any, Any]:
        return self._private_key, self._alipay_key

    def signing(self) -> tuple[str, str]:
        if self.settings.sign_hash == "SHA1":
            return "warn", "sign_hash RSA (SHA1withRSA): keep it only if Alipay's console says RSA for you"
        return "ok", "sign_hash RSA2 (SHA256withRSA)"

    def environment(self) -> tuple[str, str]:
        host = urlsplit(self.settings.base_url).netloc
        return self.environment_of(
            self.settings.base_url, {host: "Alipay's gateway"} if host.endswith(".alipay.com") else {}
        )

    # -- status pull -----------------------------------------------------------------------------
    def query(self, order: Order) -> Statement | None:
        body = {"merchantId": self.settings.merchant_id, "merchantTransId": order.order_id}
        reply = self._call(QUERY, body, self.clock())
        result = _result_info(reply)
        if result.get("resultStatus") == "F" and result.get("resultCode") in ORDER_NOT_FOUND_CODES:
            return None
        if result.get("resultStatus") != "S":
            raise ProviderUnavailable(
                f"Alipay could not return the order ({result.get('resultCode')})",
                code="provider_query_failed",
            )
        if reply.get("merchantTransId") not in (None, order.order_id):
            raise self.bad_reply("is about another order")
        word = reply.get("payStatus")
        word = word if isinstance(word, str) else ""
        try:
            amount = read_string_amount(reply.get("orderAmount"))
        except ValueError:
            raise self.bad_reply("has an unreadable orderAmount") from None
        reference = reply.get("acquirementId")
        return Statement(
            order_id=order.order_id,
            facts=(
                PaymentFact(
                    PAY_STATUS_TABLE.get(word, OrderStatus.UNKNOWN),
                    amount,
                    stated_time(reply.get("paymentTime"), self.clock()),
                ),
            ),
            provider_status=word,
            verified_by="provider-query",
            provider_reference=reference if isinstance(reference, str) and reference else None,
            payload=redact(reply),
        )

    # -- refunds and cancel ----------------------------------------------------------------------
    def refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement:
        """`common.refund`: synchronous. S succeeded, F refused, U (or a timeout) unknown — resolved
        by sending it again under the same merchantRefundId, which Alipay answers only once."""
        acquirement_id = order.provider_reference or self._acquirement_id(order)
        body = {
            "merchantId": self.settings.merchant_id,
            "acquirementId": acquirement_id,
            "merchantRefundId": refund.provider_key,
            "refundAmount": string_amount(refund.amount),
            "refundReason": (refund.reason or f"refund {refund.refund_id}")[:256],
        }
        reply = self._call(REFUND, body, self.clock())
        result = _result_info(reply)
        status = result.get("resultStatus")
        if status == "F":
            raise ProviderRejected(
                "Alipay refused the refund",
                provider_code=str(result.get("resultCode") or "F"),
                provider_message=str(result.get("resultMsg") or "")[:500],
            )
        if status != "S":
            raise ProviderUnavailable(
                f"Alipay could not say whether the refund was made ({result.get('resultCode')})",
                code="provider_result_unknown",
            )
        if reply.get("merchantRefundId") not in (None, refund.provider_key):
            raise self.bad_reply("is about another refund")
        try:
            stated = read_string_amount(reply.get("refundAmount"))
        except ValueError:
            raise self.bad_reply("has an unreadable refundAmount") from None
        reference = reply.get("refundId")
        return Statement(
            order_id=order.order_id,
            facts=(
                RefundFact(
                    refund.provider_key,
                    stated or refund.amount,
                    RefundStatus.SUCCEEDED,
                    reference if isinstance(reference, str) and reference else None,
                    stated_time(reply.get("refundTime"), self.clock()),
                ),
            ),
            provider_status="refund:S:SUCCESS",
            verified_by=self._verified_by,
            payload=redact(reply),
        )

    def resolve_refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement | None:
        # Alipay answers a merchantRefundId once: asking again is how an unclear refund is resolved.
        return self.refund(order, refund, ctx)

    def cancel(self, order: Order) -> CancelResult:
        """`common.payCancel`: an unpaid order (or one Alipay never saw) is closed for good."""
        body = {"merchantId": self.settings.merchant_id, "merchantTransId": order.order_id}
        reply = self._call(CANCEL, body, self.clock())
        result = _result_info(reply)
        status = result.get("resultStatus")
        if status == "S":
            return CancelResult.WITHDRAWN
        if status == "F":
            raise ProviderRejected(
                "Alipay refused to cancel the order",
                provider_code=str(result.get("resultCode") or "F"),
                provider_message=str(result.get("resultMsg") or "")[:500],
            )
        raise ProviderUnavailable(
            f"Alipay could not say whether the order was cancelled ({result.get('resultCode')})",
            code="provider_result_unknown",
        )

    def _acquirement_id(self, order: Order) -> str:
        """Alipay refunds name the payment by its acquirementId, which payQuery tells."""
        found = self.query(order)
        if found is None or not found.provider_reference:
            raise ProviderUnavailable(
                "Alipay did not give the payment's acquirementId", code="provider_bad_reply"
            )
        return found.provider_reference

    # -- wire plumbing ---------------------------------------------------------------------------
    def _signed_text(self, value: dict[str, Any]) -> tuple[str, str]:
        """(text, signature): the text is serialised once, and exactly those bytes are signed."""
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return text, rsa_sign(self._private_key, text.encode("utf-8"), self.settings.sign_hash)

    def _call(self, function: str, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        """POST one signed request; the verified reply's body. Raises ProviderUnavailable on anything
        we cannot trust, so an unverifiable answer never fails (or succeeds) an order."""
        msg_id = uuid.uuid4().hex  # fresh per HTTP request
        head = {
            "version": VERSION,
            "function": function,
            "clientId": self.settings.client_id,
            "reqTime": rfc3339(now),
            "reqMsgId": msg_id,
            "reserve": "{}",
        }
        text, signature = self._signed_text({"head": head, "body": body})
        payload = ('{"request":' + text + ',"signature":"' + signature + '"}').encode("utf-8")
        reply = self.http.request(
            "POST",
            function_url(self.settings.base_url, function),
            headers={"Content-Type": JSON_UTF8, "Accept": "application/json"},
            body=payload,
        )
        response = self._verified(self.raise_for_server_error(reply), "response")
        got = response.get("head")
        if not isinstance(got, dict) or (got.get("function"), got.get("clientId"), got.get("reqMsgId")) != (
            function,
            self.settings.client_id,
            msg_id,
        ):
            # Genuinely Alipay's, but not the answer to this request (e.g. a replayed reply).
            raise ProviderUnavailable(
                "Alipay's reply does not answer this request", code="provider_bad_reply"
            )
        reply_body = response.get("body")
        if not isinstance(reply_body, dict):
            raise ProviderUnavailable("Alipay's reply has no body", code="provider_bad_reply")
        return reply_body

    def _verified(self, reply: HttpResponse, member: str) -> dict[str, Any]:
        try:
            members = json_scan.members(reply.body)
        except ValueError:
            raise ProviderUnavailable(
                f"Alipay's reply (HTTP {reply.status}) is not an envelope", code="provider_bad_reply"
            ) from None
        span = members.get(member)
        signature = json_scan.string_at(reply.body, members.get("signature"))
        if span is None or not signature:
            raise ProviderUnavailable("Alipay's reply is not signed", code="provider_bad_signature")
        if not rsa_verify(
            self._alipay_key, reply.body[span[0] : span[1]], signature, self.settings.sign_hash
        ):
            raise self.reply_signature_failed()
        value = json_scan.object_at(reply.body, span)
        if value is None:
            raise ProviderUnavailable(f"Alipay's `{member}` is not an object", code="provider_bad_reply")
        return value


# -- fields --------------------------------------------------------------------------------------
def rfc3339(moment: datetime) -> str:
    """`2026-11-22T12:00:00+00:00`: RFC 3339 with an explicit offset, whole seconds."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def expire_time(seconds: int) -> str:
    """Alipay's duration: an integer and a unit (d/h/min/s), in the largest unit that is exact.

    Months (`m`) and years are never used: `m` is easily misread as minutes.
    """
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _notified_status(result: Mapping[str, Any]) -> OrderStatus:
    status = result.get("resultStatus")
    if (status, result.get("resultCode")) == PAID_RESULT:
        return OrderStatus.PAID
    if status == "F":
        return OrderStatus.FAILED
    return OrderStatus.UNKNOWN


def _result_info(body: Mapping[str, Any]) -> dict[str, Any]:
    result = body.get("resultInfo")
    if not isinstance(result, dict):
        raise ProviderUnavailable("Alipay's reply has no resultInfo", code="provider_bad_reply")
    return result


def _order_detail(order: Order, request: CreateOrderRequest) -> str:
    if not request.items:
        return order.description
    detail = "; ".join(f"{item.quantity} x {item.name}" for item in request.items)
    return detail if len(detail) <= MAX_ORDER_DETAIL else detail[: MAX_ORDER_DETAIL - 1] + "…"


def _risk_info(order: Order, request: CreateOrderRequest) -> dict[str, Any]:
    """What our API knows about the payer and the cart, as riskInfo (see docs/providers/alipay-intl.md)."""
    device: dict[str, str] = {"terminalType": order.terminal_type}
    customer = request.customer
    if customer is not None and customer.ip_address:
        device["clientIp"] = customer.ip_address
    if customer is not None and customer.locale:
        device["systemLanguage"] = customer.locale.split("_")[0].upper()
    info: dict[str, Any] = {"deviceInfo": device}
    if request.items:
        info["orderInfos"] = [
            {
                "productName": item.name,
                "itemPrice": {"currency": order.amount.currency, "value": str(item.unit_price)},
            }
            for item in request.items
        ]
    return info


Adapter = AlipayIntl  # what the registry (payments.providers) loads
