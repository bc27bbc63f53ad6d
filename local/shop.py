"""The demo shop's pages: a small merchant on the orders API, as its customer sees it.

Amounts are typed and shown in major units of the currency (12.50 EUR, 1000 JPY) and converted with
the ISO 4217 exponent from the layer's money module, in integers only. A form that fails (ours or the
API's validation) comes back as typed, with the API's errors as sentences next to the fields.
The order page also refunds (in full, or part of it) and cancels; each refund form carries the refund
id it will use, so sending the same form twice asks for one refund, not two.
local/shop_server.py answers the shop's requests with these, in the shared page() styling.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from local.providers import kits
from payments.money import Money, MoneyError, currency_exponent

CURRENCIES = ("EUR", "USD", "GBP", "HKD", "CNY", "JPY")
# How the storefront names each wallet of the API (payments.orders.WALLETS).
WALLET_NAMES = {
    "alipay_cn": "Alipay",
    "alipay_hk": "AlipayHK",
    "alipay_plus": "Alipay+ (pick your wallet on the provider's page)",
    "gcash": "GCash",
    "dana": "DANA",
    "kakaopay": "Kakao Pay",
    "truemoney": "TrueMoney",
    "tng": "Touch 'n Go eWallet",
    "bkash": "bKash",
    "easypaisa": "Easypaisa",
}
PRODUCT = "Longjing green tea, 100 g"
DEFAULT_AMOUNT = "12.50"

# What the customer is told for each order status.
STATUS_TEXT: dict[str, tuple[str, str]] = {
    "created": ("Starting", "Your payment is being set up."),
    "pending": ("Awaiting payment", "Waiting for the payment to be confirmed. This page updates itself."),
    "unknown": ("Checking", "We are checking the payment with the provider. This page updates itself."),
    "paid": ("Paid", "Thank you: your payment was received."),
    "failed": ("Failed", "The payment did not go through. You have not been charged."),
    "cancelled": ("Cancelled", "The payment was cancelled. You have not been charged."),
    "expired": ("Expired", "The payment window closed before a payment was made."),
    "refunded": ("Refunded", "Your payment was refunded."),
    "partially_refunded": ("Partly refunded", "Part of your payment was refunded."),
    "charged_back": ("Charged back", "The payment was charged back."),
}
WAITING = frozenset({"created", "pending", "unknown"})
CANCELLABLE = WAITING  # what POST /orders/{order_id}/cancel withdraws
REFUNDABLE = frozenset({"paid", "partially_refunded"})  # what POST /orders/{order_id}/refunds takes
REFUND_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})  # money was taken at some point

# The API's field paths, as the forms' labels; each form maps them to its own inputs.
FIELD_LABELS = {
    "provider": "Pay with",
    "amount": "Amount",
    "amount.value": "Amount",
    "amount.currency": "Currency",
    "description": "Description",
    "reason": "Reason",
    "refund_id": "Refund",
    "order_id": "Order",
}
ORDER_FORM_INPUTS = {
    "provider": "provider",
    "wallet": "wallet",
    "amount": "amount",
    "amount.value": "amount",
    "amount.currency": "currency",
    "description": "description",
}
REFUND_FORM_INPUTS = {"amount": "refund-amount", "amount.value": "refund-amount", "reason": "refund-reason"}

EVENT_NAMES = {
    "order_created": "Order created",
    "provider_accepted": "Provider accepted",
    "provider_rejected": "Provider refused",
    "provider_outcome_unknown": "Provider did not answer",
    "provider_query": "Asked the provider",
    "notification": "Notification",
    "notification_ignored": "Notification ignored",
    "notification_rejected": "Notification rejected",
    "notification_amount_mismatch": "Notification with another amount",
    "refund_reported": "Refund reported",
    "refund_requested": "Refund requested",
    "refund_reply": "Provider answered the refund",
    "refund_pending": "Refund accepted",
    "refund_succeeded": "Refund made",
    "refund_failed": "Refund refused",
    "merchant_cancelled": "Cancelled by the shop",
    "payment_inferred": "Payment inferred",
    "chargeback": "Charged back",
    "amount_mismatch": "Another amount reported",
    "amount_missing": "Payment without an amount",
    "currency_mismatch": "Another currency reported",
    "refund_amount_mismatch": "Refund with another amount",
    "refund_conflict": "Refund reported differently",
    "refund_exceeds_amount": "Refunds beyond the amount",
    "refund_total_mismatch": "Refunded total went down",
    "refund_outcome_unknown": "Refund not confirmed",
    # Reconciliation (payments/flows/reconcile.py): what asking the provider found, and when it gave up.
    "reconcile": "Found by reconciliation (asked the provider)",
    "reconcile_ignored": "Reconciliation: the provider's answer was not applied",
    "reconcile_expired": "Expired: reconciliation found it never paid",
    "reconcile_withdrawn": "Withdrawn at the provider by reconciliation",
    "sync": "Found by asking the provider now (sync)",
    "sync_ignored": "Sync: the provider's answer was not applied",
    "sync_expired": "Expired: the sync found it never paid",
    "sync_withdrawn": "Withdrawn at the provider by the sync",
    "needs_attention": "Needs a person: reconciliation gave up",
}

REFUND_STATUS_TEXT = {
    "pending": "In progress",  # the provider accepted it; its result follows
    "succeeded": "Refunded",
    "failed": "Refused",
    "unknown": "Not confirmed",  # the provider's answer never came: ask it again
}
# What became of the refund just asked for, said once above the refunds.
REFUND_OUTCOMES = {
    "pending": "Refund {refund_id} of {amount} was accepted by the provider; its result follows.",
    "succeeded": "Refund {refund_id} of {amount} is done: the money is on its way back to the payer.",
    "failed": "Refund {refund_id} of {amount} was refused by the provider.",
    "unknown": "Refund {refund_id} of {amount} is not confirmed yet: press “Ask again” next to it.",
}
REFUND_ORIGINS = {"merchant": "by this shop", "provider": "by the provider (e.g. its dashboard)"}

# The order's flags: things a person should look at (the API's words in brackets).
FLAG_TEXT = {
    "late_payment": "Paid after the order was closed: the money is real, refund it if nothing ships",
    "amount_mismatch": "The provider reported another amount: not applied",
    "amount_missing": "A payment was reported without its amount: not applied",
    "refund_before_payment": "A refund was reported before the payment",
    "chargeback_before_payment": "A chargeback was reported before the payment",
    "currency_mismatch": "The provider reported money in another currency: not applied",
    "refund_exceeds_amount": "The provider reported refunds beyond the order's amount: not applied",
    "refund_conflict": "The provider reported a finished refund differently",
    "refund_amount_mismatch": "The provider reported a refund with another amount",
    "refund_total_decreased": "The provider's refunded total went down",
    "needs_attention": "Still unresolved after seven days of checks with the provider: look it up there",
}

# Refund ids the shop makes: `shop-refund-<n>`, unique within an order (the API's idempotency key is
# the order and refund id together), so any order id fits the API's 50 characters.
SHOP_REFUND_ID = re.compile(r"shop-refund-([0-9]{1,9})")
# Error codes after which nobody knows whether the provider made the refund: the refund is kept
# `unknown`, its amount reserved, until the same request asks again.
OUTCOME_UNKNOWN_CODES = frozenset({"provider_timeout", "provider_unavailable", "provider_error"})


@dataclass(frozen=True)
class Page:
    title: str
    body: str
    refresh: int | None = None  # reload after this many seconds (unless the person starts typing)
    refresh_url: str | None = None  # where to reload: the order's own page, not a form's POST


@dataclass
class OrderForm:
    """What the customer typed, kept as typed so a failed attempt can show it again."""

    provider: str = ""
    amount: str = DEFAULT_AMOUNT
    currency: str = "EUR"
    description: str = PRODUCT
    wallet: str = ""  # "": the provider's default

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> OrderForm:
        return cls(
            provider=fields.get("provider", ""),
            wallet=fields.get("wallet", ""),
            amount=fields.get("amount", ""),
            currency=fields.get("currency", ""),
            description=fields.get("description", ""),
        )


@dataclass
class RefundForm:
    """The order page's refund form as sent: `how` is the button pressed — `amount` (the typed
    amount), `everything` (all still refundable when the page was shown, carried in `value` so that
    the same form sent again is the same request) or `again` (a refund not confirmed yet, asked again
    with its own `value` and `reason`)."""

    order_id: str = ""
    refund_id: str = ""
    how: str = "amount"
    amount: str = ""  # major units, as typed
    value: str = ""  # minor units, written by the shop into the page
    reason: str = ""

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> RefundForm:
        return cls(
            order_id=fields.get("order_id", ""),
            refund_id=fields.get("refund_id", ""),
            how=fields.get("how", "amount"),
            amount=fields.get("amount", ""),
            value=fields.get("value", ""),
            reason=fields.get("reason", ""),
        )

    def request(self, currency: str) -> dict[str, Any]:
        """The POST /orders/{order_id}/refunds body. Always with an explicit amount: the one the person
        saw, never "whatever is left by the time it arrives". AmountError: say what to type instead."""
        if self.how == "amount":
            value = minor_units(self.amount, currency)
        elif self.how in ("everything", "again") and self.value.isascii() and self.value.isdigit():
            value = int(self.value)
        else:
            raise AmountError("This form is out of date: reload the page and refund again.")
        body: dict[str, Any] = {"refund_id": self.refund_id, "amount": {"value": value, "currency": currency}}
        if self.reason.strip():
            body["reason"] = self.reason.strip()
        return body


@dataclass
class FormErrors:
    """Sentences for the customer, and the inputs they are about."""

    messages: list[str] = field(default_factory=list)
    inputs: set[str] = field(default_factory=set)
    title: str = ""  # what the box says above the sentences; each form has its default

    def add(self, message: str, input_id: str | None = None) -> None:
        self.messages.append(message)
        if input_id:
            self.inputs.add(input_id)


class AmountError(ValueError):
    pass


def money_text(value: int, currency: str) -> str:
    """12.50 EUR, 1000 JPY, 1.250 KWD: major units, exact, with the ISO code."""
    try:
        return str(Money(value, currency))
    except MoneyError:
        return f"{value} (minor units) {currency}"


def _example(currency: str) -> str:
    exponent = currency_exponent(currency)
    return Money(1000 if exponent == 0 else 1250 * 10 ** (exponent - 2), currency).major_units_text()


_AMOUNT = re.compile(r"([0-9]{1,15})(?:\.([0-9]*))?")


def minor_units(text: str, currency: str) -> int:
    """'12.50' EUR -> 1250; '1000' JPY -> 1000. Digits and one point only: no floats, no rounding."""
    try:
        exponent = currency_exponent(currency)
    except MoneyError:
        raise AmountError(f"Choose a currency ({', '.join(CURRENCIES)}).") from None
    found = _AMOUNT.fullmatch(text.strip())
    if not found:
        raise AmountError(f"Enter the amount in {currency} as digits, like {_example(currency)}.")
    whole, fraction = found.group(1), found.group(2) or ""
    if len(fraction) > exponent:
        if exponent == 0:
            raise AmountError(
                f"{currency} has no smaller unit: enter whole {currency}, like {_example(currency)}."
            )
        raise AmountError(f"{currency} has {exponent} decimals at most, like {_example(currency)}.")
    value: int = int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
    if value <= 0:
        raise AmountError("Enter an amount above zero.")
    return value


def _error_of(body: str) -> dict[str, Any] | None:
    try:
        reply = json.loads(body)
    except ValueError:
        return None
    error = reply.get("error") if isinstance(reply, dict) else None
    return error if isinstance(error, dict) else None


def api_errors(status: int, body: str, inputs: Mapping[str, str] = ORDER_FORM_INPUTS) -> FormErrors:
    """The API's error reply as sentences: every invalid field, its label, and the provider's words.
    `inputs`: the form's input id for each API field path (those get marked invalid)."""
    errors = FormErrors()
    error = _error_of(body)
    if error is None:
        # Not the API's shape (nothing local answers so; a proxy in front of a deployed API might).
        errors.add(f"The payment service answered HTTP {status}; see .local-logs/ and the make dev output.")
        return errors
    if error.get("code") == "internal_error":  # the function failed: its log says why
        errors.add(f"The payment service failed (HTTP {status}); see .local-logs/ and the make dev output.")
        return errors
    details = error.get("details") if isinstance(error.get("details"), list) else None
    for item in details or [error]:
        if not isinstance(item, dict):
            continue
        path = str(item.get("field") or "")
        message = str(item.get("message") or error.get("code") or "invalid")
        if path and message.startswith(f"{path}: "):
            message = message[len(path) + 2 :]  # the label says which field
        label = FIELD_LABELS.get(path) or path
        sentence = f"{label}: {message}" if label else message
        if error.get("provider_message"):
            sentence += f" (the provider said {error.get('provider_code', '')} “{error['provider_message']}”)"
        errors.add(_sentence(sentence), inputs.get(path))
    return errors


def refund_errors(status: int, body: str, refund_id: str) -> FormErrors:
    """A refund the API did not make (or could not confirm), in words that say what to do next."""
    error = _error_of(body) or {}
    code = error.get("code")
    errors = FormErrors()
    if code in OUTCOME_UNKNOWN_CODES:
        errors.title = "The refund is not confirmed yet."
        errors.add(
            f"The provider did not answer, so nobody knows yet whether refund {refund_id} was made: its "
            "amount stays reserved. Press “Ask again” next to it: that asks the provider, and never "
            "refunds twice."
        )
    elif code == "request_in_progress":
        errors.title = "The refund is not confirmed yet."
        errors.add(f"Refund {refund_id} is still being sent to the provider: look again in a moment.")
    elif code == "refund_id_conflict":
        errors.add(
            f"Refund {refund_id} was already made with another amount or reason (in another tab?). "
            "Check the refunds above, then refund again if you still want to."
        )
    else:
        return api_errors(status, body, REFUND_FORM_INPUTS)
    return errors


def cancel_errors(status: int, body: str, order_status: str) -> FormErrors:
    """A cancel the API refused; `order_status`: the order's status as read after it."""
    error = _error_of(body) or {}
    errors = FormErrors()
    if error.get("code") == "order_not_cancellable":
        label = STATUS_TEXT.get(order_status, (order_status.replace("_", " "), ""))[0].lower()
        hint = ": refund it instead" if order_status in REFUNDABLE else ""
        errors.add(f"It is {label} now{hint}.")
    elif error.get("code") in OUTCOME_UNKNOWN_CODES:
        errors.add("The provider did not answer, so the order is still open: try cancelling again.")
    elif error.get("code") == "request_in_progress":
        errors.add("The provider is being asked about this order right now: try again in a moment.")
    else:
        return api_errors(status, body, {})
    return errors


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def _escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def _header() -> str:
    return (
        '<header class="brand"><a href="/">Tea shop</a>'
        '<span class="muted">a demo merchant on the local stack</span>'
        f' <a href="{REFUSED_PATH}" id="refused-link">Notifications refused</a>'
        ' <a href="/console">Operator console</a></header>'
    )


REFUSED_PATH = "/shop/refused"
REPLAY_RESULTS = {
    "applied": "Applied: the order moved as the notification says.",
    "duplicate": "Nothing new: the notification had already been applied (or says nothing to apply).",
    "refused": "Refused again: the cause is not fixed yet.",
}


def refused_page(entries: Sequence[Mapping[str, Any]], verdict: Mapping[str, Any] | None = None) -> Page:
    """The provider notifications the API refused lately, each with why and a Replay button
    (GET /notifications/rejected, POST /notifications/rejected/{id}/replay)."""
    banner = ""
    if verdict is not None:
        text = REPLAY_RESULTS.get(str(verdict.get("result")), str(verdict.get("result")))
        why = f" {verdict['code']}: {verdict['explanation']}" if verdict.get("code") else ""
        kind = "error" if verdict.get("result") == "refused" else "ok"
        banner = f'<div class="{kind}" id="replayed" role="status"><b>{_escape(text)}</b>{_escape(why)}</div>'
    rows = "".join(
        f"<tr><td>{_escape(_when(entry.get('received_at')))}</td>"
        f"<td>{_escape(provider_label(str(entry.get('provider', ''))))}</td>"
        f"<td><code>{_escape(entry.get('code', ''))}</code></td>"
        f"<td>{_escape(entry.get('explanation', ''))}</td>"
        f"<td>{_escape(entry.get('order_id') or '')}</td>"
        f'<td><form method="post" action="{REFUSED_PATH}/replay">'
        f'<input type="hidden" name="id" value="{_escape(entry.get("id", ""))}">'
        '<button type="submit">Replay</button></form></td></tr>'
        for entry in entries
    )
    table = (
        '<table id="refused"><thead><tr><th>Received</th><th>Provider</th><th>Code</th>'
        f"<th>Why, and the fix</th><th>Order</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
        if entries
        else '<p id="none-refused">No notification was refused in the last 7 days.</p>'
    )
    body = (
        f"{_header()}<h1>Notifications refused</h1>{banner}"
        '<p class="muted">What providers sent that the API would not apply, newest first, with why. Fix the '
        "cause (a key, the hash, the public URL), then replay: it goes through the same checks again.</p>"
        f"{table}"
    )
    return Page("Notifications refused", body)


def _options(choices: Sequence[tuple[str, str]], selected: str) -> str:
    return "".join(
        f'<option value="{_escape(value)}"{" selected" if value == selected else ""}>{_escape(text)}</option>'
        for value, text in choices
    )


def _recent_orders(orders: Sequence[Mapping[str, Any]]) -> str:
    """The shop's latest orders, each a link to its page (where it is refunded or cancelled)."""
    if not orders:
        return ""
    rows = "".join(
        f'<tr><td><a href="{_escape(order_path(str(order.get("order_id", ""))))}">'
        f"{_escape(order.get('order_id', ''))}</a></td>"
        f'<td class="num">{_escape(_money_field(order.get("amount")))}</td>'
        f'<td><span class="pill {_escape(order.get("status", ""))}">'
        f"{_escape(STATUS_TEXT.get(str(order.get('status')), (order.get('status', ''), ''))[0])}</span></td>"
        f"<td>{_escape(provider_label(str(order.get('provider', ''))))}</td></tr>"
        for order in orders
    )
    return (
        '<h2>Recent orders</h2><table id="recent-orders"><thead><tr><th>Order</th><th class="num">Amount</th>'
        f"<th>Status</th><th>Provider</th></tr></thead><tbody>{rows}</tbody></table>"
        '<p class="muted">Open an order to refund it, or to cancel it while it is unpaid.</p>'
    )


def shop_page(
    providers: Sequence[str],
    form: OrderForm | None = None,
    errors: FormErrors | None = None,
    recent: Sequence[Mapping[str, Any]] = (),
) -> Page:
    """The storefront: the payment form and, under it, the orders this shop made lately (`recent`)."""
    form = form or OrderForm(provider=providers[0] if providers else "")
    errors = errors or FormErrors()

    def invalid(input_id: str) -> str:
        return ' class="invalid" aria-invalid="true"' if input_id in errors.inputs else ""

    alert = ""
    if errors.messages:
        items = "".join(f"<li>{_escape(message)}</li>" for message in errors.messages)
        alert = (
            '<div class="error" id="errors" role="alert"><b>The payment could not start.</b>'
            f"<ul>{items}</ul></div>"
        )
    provider_choices = [(name, provider_label(name)) for name in providers]
    wallet_groups = "".join(
        f'<optgroup label="{_escape(provider_label(name))}" data-provider="{_escape(name)}">'
        f"{_options([(wallet, wallet_name(wallet)) for wallet in offered_wallets(name)], form.wallet)}"
        "</optgroup>"
        for name in providers
    )
    body = (
        f"{_header()}<h1>{_escape(PRODUCT)}</h1>"
        '<p class="muted">Hand-picked spring leaves from Hangzhou. Pay with Alipay through the provider '
        "of your choice: every provider here is a local sandbox, no money moves.</p>"
        f"{alert}"
        '<form method="post" action="/shop/pay" novalidate>'
        f'<label for="provider">Pay with</label><select id="provider" name="provider"{invalid("provider")}>'
        f"{_options(provider_choices, form.provider)}</select>"
        f'<label for="wallet">Wallet</label><select id="wallet" name="wallet"{invalid("wallet")}>'
        f"{_options([('', 'the provider default')], form.wallet)}{wallet_groups}</select>"
        '<div class="row"><div><label for="amount">Amount</label>'
        '<input id="amount" name="amount" inputmode="decimal" autocomplete="off" '
        f'value="{_escape(form.amount)}"{invalid("amount")}></div>'
        '<div><label for="currency">Currency</label>'
        f'<select id="currency" name="currency"{invalid("currency")}>'
        f"{_options([(code, code) for code in CURRENCIES], form.currency)}</select></div></div>"
        f'<label for="description">Description</label><input id="description" name="description" '
        f'value="{_escape(form.description)}"{invalid("description")}>'
        '<p><button id="pay" class="primary" type="submit">Pay with Alipay</button></p></form>'
        f"{_recent_orders(recent)}"
    )
    return Page("Tea shop", body)


def redirect_page(url: str, form_fields: Mapping[str, Any]) -> Page:
    """The provider wants a POST: an auto-submitting form, with a button if scripts are off."""
    fields = "".join(
        f'<input type="hidden" name="{_escape(name)}" value="{_escape(value)}">'
        for name, value in form_fields.items()
    )
    body = (
        f"{_header()}<h1>Taking you to Alipay…</h1>"
        f'<form id="go" method="post" action="{_escape(url)}">{fields}'
        '<button class="primary" type="submit">Continue to Alipay</button></form>'
        "<script>document.getElementById('go').submit()</script>"
    )
    return Page("Redirecting to Alipay", body)


def qr_page(code: str, order_url: str) -> Page:
    body = (
        f"{_header()}<h1>Scan with Alipay</h1>"
        '<p class="muted">Open Alipay on your phone and scan this code.</p>'
        f'<pre class="code">{_escape(code)}</pre>'
        f'<p><a href="{_escape(order_url)}">I have paid: show my order</a></p>'
    )
    return Page("Scan to pay", body)


def missing_order_page(order_id: str) -> Page:
    body = (
        f"{_header()}<h1>Order not found</h1>"
        f"<p>There is no order <code>{_escape(order_id or '(none)')}</code>. The local stack keeps orders in "
        "memory only: they are gone once <code>make dev</code> stops.</p>"
        '<p><a href="/">Back to the shop</a></p>'
    )
    return Page("Order not found", body)


def _time(stamp: object) -> str:
    """'2026-11-22T10:53:10.123456Z' -> '10:53:10 UTC' (the date is shown once, with the order)."""
    text = str(stamp or "")
    return f"{text[11:19]} UTC" if len(text) >= 19 and text[10] == "T" else text


def _when(stamp: object) -> str:
    text = str(stamp or "")
    return f"{text[:10]} {text[11:16]} UTC" if len(text) >= 16 and text[10] == "T" else text


def _money_of(amount: object) -> tuple[int, str] | None:
    if not isinstance(amount, dict):
        return None
    value, currency = amount.get("value"), amount.get("currency")
    return (value, currency) if type(value) is int and isinstance(currency, str) else None


def _money_field(amount: object) -> str:
    money = _money_of(amount)
    return money_text(*money) if money else ""


def next_refund_id(refunds: Sequence[Mapping[str, Any]]) -> str:
    """The id the next refund form uses: one past the highest `shop-refund-<n>` the order holds."""
    numbers = [
        int(found.group(1))
        for refund in refunds
        if (found := SHOP_REFUND_ID.fullmatch(str(refund.get("refund_id", ""))))
    ]
    return f"shop-refund-{max(numbers, default=0) + 1}"


def form_after_error(form: RefundForm, refunds: Sequence[Mapping[str, Any]]) -> RefundForm:
    """The refund form to show again after the API did not make the refund, as typed. Its refund id
    stays unless the API recorded a refund under it (refused, or not confirmed): what is sent next
    is then another refund. Except a typed amount whose refund is not confirmed: sent again it is the
    same request, which asks the provider instead of refunding twice."""
    if form.how == "again":
        return RefundForm(order_id=form.order_id)  # nothing was typed: a fresh form
    made = next((r for r in refunds if r.get("refund_id") == form.refund_id), None)
    if made is None or (made.get("status") == "unknown" and form.how == "amount"):
        return form
    return replace(form, refund_id=next_refund_id(refunds))


def _alert(errors: FormErrors, title: str) -> str:
    if not errors.messages:
        return ""
    items = "".join(f"<li>{_escape(message)}</li>" for message in errors.messages)
    title = errors.title or title
    return f'<div class="error" id="errors" role="alert"><b>{_escape(title)}</b><ul>{items}</ul></div>'


def _flags(order: Mapping[str, Any]) -> str:
    flags = [str(flag) for flag in order.get("flags") or []]
    if not flags:
        return ""
    items = "".join(
        f"<li>{_escape(FLAG_TEXT.get(flag, flag.replace('_', ' ').capitalize()))} "
        f'<code class="muted">{_escape(flag)}</code></li>'
        for flag in flags
    )
    return f'<dt>Flags</dt><dd><ul id="flags" class="flags">{items}</ul></dd>'


def _refund_rows(order_id: str, refunds: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for refund in refunds:
        refund_id = str(refund.get("refund_id", ""))
        status = str(refund.get("status", ""))
        money = _money_of(refund.get("amount"))
        action = ""
        if status == "unknown" and money and SHOP_REFUND_ID.fullmatch(refund_id):
            # The same request again: the API asks the provider and never makes a second refund.
            fields = {
                "order_id": order_id,
                "refund_id": refund_id,
                "value": str(money[0]),
                "reason": str(refund.get("reason") or ""),
            }
            hidden = "".join(
                f'<input type="hidden" name="{name}" value="{_escape(value)}">'
                for name, value in fields.items()
            )
            action = (
                f'<form method="post" action="/shop/refund" class="inline">{hidden}'
                f'<button class="small" name="how" value="again" id="ask-{_escape(refund_id)}">'
                "Ask again</button></form>"
            )
        made_by = REFUND_ORIGINS.get(str(refund.get("origin")), str(refund.get("origin") or ""))
        rows.append(
            f'<tr data-refund-id="{_escape(refund_id)}" data-status="{_escape(status)}">'
            f'<td>{_escape(refund_id)}<br><span class="muted">{_escape(_when(refund.get("created_at")))} · '
            f"{_escape(made_by)}</span></td>"
            f'<td class="num">{_escape(money_text(*money) if money else "")}</td>'
            f'<td><span class="pill {_escape(status)}">{_escape(REFUND_STATUS_TEXT.get(status, status))}'
            f"</span>{action}</td>"
            f"<td>{_escape(refund.get('reason') or '')}</td>"
            "</tr>"
        )
    return "".join(rows)


def _refund_form(order: Mapping[str, Any], form: RefundForm | None, errors: FormErrors) -> str:
    order_id = str(order.get("order_id", ""))
    refundable = _money_of(order.get("refundable_amount"))
    if str(order.get("status")) not in REFUNDABLE or not refundable or refundable[0] <= 0:
        return ""
    value, currency = refundable
    refunded = _money_of(order.get("refunded_amount"))
    form = form or RefundForm(order_id=order_id)
    refund_id = form.refund_id or next_refund_id(order.get("refunds") or [])

    def invalid(input_id: str) -> str:
        return ' class="invalid" aria-invalid="true"' if input_id in errors.inputs else ""

    everything = "Refund the rest" if refunded and refunded[0] > 0 else "Refund in full"
    return (
        '<form id="refund-form" method="post" action="/shop/refund" novalidate>'
        f'<input type="hidden" name="order_id" value="{_escape(order_id)}">'
        f'<input type="hidden" name="refund_id" value="{_escape(refund_id)}">'
        f'<input type="hidden" name="value" value="{value}">'
        '<div class="row"><div><label for="refund-amount">Amount to refund</label>'
        '<div class="money"><input id="refund-amount" name="amount" inputmode="decimal" autocomplete="off" '
        f'placeholder="e.g. {_escape(_example(currency))}" value="{_escape(form.amount)}"'
        f"{invalid('refund-amount')}><span>{_escape(currency)}</span></div></div>"
        '<div><label for="refund-reason">Reason <span class="muted">(optional)</span></label>'
        f'<input id="refund-reason" name="reason" maxlength="200" value="{_escape(form.reason)}"'
        f"{invalid('refund-reason')}></div></div>"
        '<p><button id="refund-part" class="primary" name="how" value="amount">Refund this amount</button>'
        f'<button id="refund-all" name="how" value="everything">{everything}: '
        f"{_escape(money_text(value, currency))}</button></p></form>"
    )


def _refund_outcome(refunds: Sequence[Mapping[str, Any]], refund_id: str | None) -> str:
    refund = next((r for r in refunds if refund_id and r.get("refund_id") == refund_id), None)
    if refund is None or str(refund.get("status")) not in REFUND_OUTCOMES:
        return ""
    text = REFUND_OUTCOMES[str(refund["status"])].format(
        refund_id=refund_id, amount=_money_field(refund.get("amount"))
    )
    return f'<p class="notice" id="refund-outcome" role="status">{_escape(text)}</p>'


def _refunds_section(
    order: Mapping[str, Any], form: RefundForm | None, errors: FormErrors, refund_done: str | None
) -> str:
    refunds = [r for r in order.get("refunds") or [] if isinstance(r, dict)]
    if str(order.get("status")) not in REFUND_STATUSES and not refunds:
        return _alert(errors, "The refund was not made.")  # a form from before the order changed
    order_id = str(order.get("order_id", ""))
    table = (
        '<table id="refunds"><thead><tr><th>Refund</th><th class="num">Amount</th><th>Status</th>'
        f"<th>Reason</th></tr></thead><tbody>{_refund_rows(order_id, refunds)}</tbody>"
        "</table>"
        if refunds
        else '<p class="muted" id="refunds">No refunds yet.</p>'
    )
    amount, refunded = _money_of(order.get("amount")), _money_of(order.get("refunded_amount"))
    refundable = _money_of(order.get("refundable_amount"))
    totals = f'<dt>Refunded</dt><dd id="refunded">{_escape(_money_field(order.get("refunded_amount")))}</dd>'
    if amount and refunded and refundable and amount[0] - refunded[0] - refundable[0] > 0:
        in_progress = money_text(amount[0] - refunded[0] - refundable[0], amount[1])
        totals += f'<dt>In progress</dt><dd id="refunding">{_escape(in_progress)}</dd>'
    totals += (
        f'<dt>Refundable</dt><dd id="refundable">{_escape(_money_field(order.get("refundable_amount")))}</dd>'
    )
    return (
        f'<section id="refund"><h2>Refunds</h2>{_refund_outcome(refunds, refund_done)}'
        f'<dl class="facts">{totals}</dl>{table}'
        f"{_alert(errors, 'The refund was not made.')}{_refund_form(order, form, errors)}</section>"
    )


def _cancel_section(order: Mapping[str, Any], errors: FormErrors) -> str:
    """The Cancel button while the order is unpaid; a refused cancel's reasons even once it is not
    (the provider may have said "paid" meanwhile)."""
    alert = _alert(errors, "The order was not cancelled.")
    if str(order.get("status")) not in CANCELLABLE:
        return alert
    order_id = str(order.get("order_id", ""))
    return (
        f'<section id="cancel"><h2>Changed your mind?</h2>{alert}'
        '<form method="post" action="/shop/cancel">'
        f'<input type="hidden" name="order_id" value="{_escape(order_id)}">'
        "<p>Cancelling closes the order; where the provider can, its payment page stops taking payment. "
        "A payment that arrives anyway is kept and flagged for a refund.</p>"
        '<button id="cancel-order" class="danger" type="submit">Cancel this order</button></form></section>'
    )


def _event_detail(event: Mapping[str, Any]) -> str:
    refund = event.get("refund")
    if isinstance(refund, dict):
        return f"{_money_field(refund.get('amount'))} · {refund.get('refund_id', '')}"
    return str(event.get("reason") or "")


def order_page(
    order: Mapping[str, Any],
    left_checkout: bool,
    *,
    refund_form: RefundForm | None = None,
    refund_errors: FormErrors | None = None,
    cancel_errors: FormErrors | None = None,
    events_before: str | None = None,
    refund_done: str | None = None,
    webhooks: Sequence[Mapping[str, Any]] = (),
) -> Page:
    """The order as stored, in the customer's words; `left_checkout`: the payer came back by the
    provider's cancel link (the order's cancel_url, where a provider has one). A refund or cancel that
    failed comes back with its errors (and the refund form as typed); such a page does not reload
    itself. `events_before`: the page of history shown is an older one; `refund_done`: the refund just
    asked for, whose outcome the page reports."""
    status = str(order.get("status", "unknown"))
    label, sentence = STATUS_TEXT.get(status, (status.replace("_", " ").title(), ""))
    amount = order.get("amount") or {}
    total = money_text(int(amount.get("value", 0)), str(amount.get("currency", "")))
    provider = str(order.get("provider", ""))
    order_id = str(order.get("order_id", ""))
    notice = ""
    payment_url = order.get("payment_url")
    if status in WAITING and left_checkout:
        sentence = "You left the payment page without paying."
    if status in WAITING and payment_url:
        until = f" until {_when(order.get('expires_at'))}" if order.get("expires_at") else ""
        notice = (
            f'<p class="notice">Not paid yet? The payment page stays open{_escape(until)}: '
            f'<a id="resume" href="{_escape(payment_url)}">return to the payment page</a>.</p>'
        )
    rows = "".join(
        "<tr>"
        f'<td class="nowrap">{_escape(_time(event.get("at")))}</td>'
        f"<td>{_escape(EVENT_NAMES.get(str(event.get('type')), event.get('type', '')))}"
        + (f'<br><span class="muted">{_escape(detail)}</span>' if (detail := _event_detail(event)) else "")
        + "</td>"
        f"<td>{_escape(_transition(event))}</td>"
        f"<td>{_escape(event.get('provider_status') or '')}</td>"
        f"<td>{_escape(', '.join(event.get('flags') or []))}</td>"
        "</tr>"
        for event in order.get("events") or []
        if isinstance(event, dict)
    )
    older = order.get("events_before")
    pages = []
    if events_before:
        pages.append(f'<a id="newer-events" href="{_escape(order_path(order_id))}">Newest events</a>')
    if older:
        older_url = order_path(order_id, events_before=str(older))
        pages.append(f'<a id="older-events" href="{_escape(older_url)}">Earlier events</a>')
    refunds = [r for r in order.get("refunds") or [] if isinstance(r, dict)]
    in_flight = any(r.get("status") in ("pending", "unknown") for r in refunds)
    failed_form = any(errors and errors.messages for errors in (refund_errors, cancel_errors))
    body = (
        f'{_header()}<p class="muted">Order {_escape(order_id)}</p>'
        f'<h1><span id="status" class="pill {_escape(status)}" data-status="{_escape(status)}">'
        f"{_escape(label)}</span>"
        f' <span class="price">{_escape(total)}</span></h1>'
        f"<p>{_escape(sentence)}</p>{notice}"
        '<dl class="facts">'
        f"<dt>Description</dt><dd>{_escape(order.get('description', ''))}</dd>"
        f"<dt>Payment</dt><dd>{_escape(payment_method(provider))}</dd>"
        f'<dt>Wallet</dt><dd id="wallet">{_escape(wallet_name(str(order.get("wallet", ""))))}</dd>'
        f"<dt>Ordered</dt><dd>{_escape(_when(order.get('created_at')))}</dd>"
        f"{_flags(order)}"
        "</dl>"
        f"{_cancel_section(order, cancel_errors or FormErrors())}"
        f"{_refunds_section(order, refund_form, refund_errors or FormErrors(), refund_done)}"
        '<h2>History</h2><table id="history"><thead><tr><th>Time</th><th>Event</th><th>Status</th>'
        f"<th>Provider said</th><th>Flags</th></tr></thead><tbody>{rows}</tbody></table>"
        f"{_webhooks_section(webhooks)}"
        + (f'<p class="muted">{" · ".join(pages)}</p>' if pages else "")
        + '<p><a href="/">Back to the shop</a></p>'
    )
    # Reload while something is on its way (a payment, a refund's result), never over a failed form.
    waiting = (status in WAITING or in_flight) and not failed_form and not events_before
    return Page(
        f"Order {order_id}",
        body,
        refresh=3 if waiting else None,
        refresh_url=order_path(order_id, left_checkout, refund_id=refund_done) if waiting else None,
    )


def _webhooks_section(webhooks: Sequence[Mapping[str, Any]]) -> str:
    """What this shop's webhook received for the order (signatures checked), in sequence."""
    if not webhooks:
        return ""
    rows = "".join(
        "<tr>"
        f'<td class="nowrap">{_escape(_time(event.get("created_at")))}</td>'
        f"<td>{_escape(event.get('type', ''))}</td>"
        f"<td>{_escape(event.get('sequence', ''))}</td>"
        f'<td class="muted id">{_escape(event.get("id", ""))}</td>'
        "</tr>"
        for event in sorted(webhooks, key=lambda e: (e.get("sequence", 0), str(e.get("id"))))
    )
    return (
        '<h2>Webhooks received</h2><p class="muted">Merchant events this shop received, each signature '
        "checked (HMAC-SHA256, 300 s tolerance).</p>"
        '<table id="webhooks"><thead><tr><th>Time</th><th>Event</th><th>Sequence</th><th>Id</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )


def webhook_signature_valid(
    secret: str, header: str, body: bytes, now: float, tolerance_s: int = 300
) -> bool:
    """`Payments-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`: checked the
    way docs/api.md tells a merchant to, with the standard library."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp, received = parts.get("t", ""), parts.get("v1", "")
    if not secret or not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received)


def offered_wallets(provider: str) -> list[str]:
    """The wallets a provider's adapter documents (its capabilities), in the API's order."""
    from payments.providers import provider_class
    from payments.providers.capabilities import wallet_order

    return wallet_order(provider_class(provider).documented_capabilities.wallets)


def wallet_name(wallet: str) -> str:
    return WALLET_NAMES.get(wallet, wallet)


def provider_label(provider: str) -> str:
    """How the storefront names a provider (its kit's `shop_label`); a name it has no kit for, as is."""
    kit = kits().get(provider)
    return kit.shop_label if kit else provider


def payment_method(provider: str) -> str:
    """How the order page names the payment (its kit's `payment_method`)."""
    kit = kits().get(provider)
    return kit.payment_method if kit else f"Alipay via {provider}"


def _transition(event: Mapping[str, Any]) -> str:
    before, after = event.get("from_status"), event.get("to_status")
    if before and after:
        return f"{before} → {after}"
    return str(after or before or "")


def order_path(
    order_id: str,
    left_checkout: bool = False,
    *,
    events_before: str | None = None,
    refund_id: str | None = None,
) -> str:
    """The order's page; `refund_id`: the refund just asked for, reported at the top of the refunds."""
    path = f"/shop/return?order_id={quote(order_id, safe='')}"
    if left_checkout:
        path += "&cancelled=1"
    if events_before:
        path += f"&events_before={quote(events_before, safe='')}"
    if refund_id:
        path += f"&refund={quote(refund_id, safe='')}"
    return path


def refresh_script(seconds: int, url: str) -> str:
    """Reload `url` in `seconds`, unless the person has started typing into a form meanwhile."""
    target = json.dumps(url).replace("<", "\\u003c")
    return (
        f"<script>(()=>{{const t=setTimeout(()=>location.replace({target}),{seconds * 1000});"
        "addEventListener('input',()=>clearTimeout(t),{once:true})})()</script>"
    )
