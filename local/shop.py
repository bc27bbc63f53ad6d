"""The demo shop's pages: a small merchant on the orders API, as its customer sees it.

Amounts are typed and shown in major units of the currency (12.50 EUR, 1000 JPY) and converted with
the ISO 4217 exponent from the layer's money module, in integers only. A form that fails (ours or the
API's validation) comes back as typed, with the API's errors as sentences next to the fields.
The gateway (local/servers.py) routes to these and wraps them with the shared page() styling.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from payments.money import Money, MoneyError, currency_exponent

PROVIDER_NAMES = {
    "multisafepay": "MultiSafepay",
    "useepay": "UseePay",
    "alipay_intl": "Alipay (international gateway)",
}
CURRENCIES = ("EUR", "USD", "GBP", "HKD", "CNY", "JPY")
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

# The API's field paths, as the form's labels; the form's inputs carry the same ids.
FIELD_LABELS = {
    "provider": "Pay with",
    "amount": "Amount",
    "amount.value": "Amount",
    "amount.currency": "Currency",
    "description": "Description",
}
FIELD_INPUTS = {"amount.value": "amount", "amount.currency": "currency"}

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
}


@dataclass(frozen=True)
class Page:
    title: str
    body: str
    refresh: int | None = None


@dataclass
class OrderForm:
    """What the customer typed, kept as typed so a failed attempt can show it again."""

    provider: str = ""
    amount: str = DEFAULT_AMOUNT
    currency: str = "EUR"
    description: str = PRODUCT

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> OrderForm:
        return cls(
            provider=fields.get("provider", ""),
            amount=fields.get("amount", ""),
            currency=fields.get("currency", ""),
            description=fields.get("description", ""),
        )


@dataclass
class FormErrors:
    """Sentences for the customer, and the inputs they are about."""

    messages: list[str] = field(default_factory=list)
    inputs: set[str] = field(default_factory=set)

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


def api_errors(status: int, body: str) -> FormErrors:
    """The API's error reply as sentences: every invalid field, its label, and the provider's words."""
    errors = FormErrors()
    try:
        reply = json.loads(body)
    except ValueError:
        reply = None
    error = reply.get("error") if isinstance(reply, dict) else None
    if not isinstance(error, dict):
        # API Gateway's own replies ({"message": "Forbidden"}) and a function that crashed.
        errors.add(f"The payment service answered HTTP {status}; see .local-logs/ and the make dev output.")
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
        errors.add(_sentence(sentence), FIELD_INPUTS.get(path, path) if path in FIELD_LABELS else None)
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
        '<span class="muted">a demo merchant on the local stack</span></header>'
    )


def _options(choices: Sequence[tuple[str, str]], selected: str) -> str:
    return "".join(
        f'<option value="{_escape(value)}"{" selected" if value == selected else ""}>{_escape(text)}</option>'
        for value, text in choices
    )


def shop_page(
    providers: Sequence[str], form: OrderForm | None = None, errors: FormErrors | None = None
) -> Page:
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
    provider_choices = [(name, PROVIDER_NAMES.get(name, name)) for name in providers]
    body = (
        f"{_header()}<h1>{_escape(PRODUCT)}</h1>"
        '<p class="muted">Hand-picked spring leaves from Hangzhou. Pay with Alipay through the provider '
        "of your choice: every provider here is a local sandbox, no money moves.</p>"
        f"{alert}"
        '<form method="post" action="/shop/pay" novalidate>'
        f'<label for="provider">Pay with</label><select id="provider" name="provider"{invalid("provider")}>'
        f"{_options(provider_choices, form.provider)}</select>"
        '<div class="row"><div><label for="amount">Amount</label>'
        '<input id="amount" name="amount" inputmode="decimal" autocomplete="off" '
        f'value="{_escape(form.amount)}"{invalid("amount")}></div>'
        '<div><label for="currency">Currency</label>'
        f'<select id="currency" name="currency"{invalid("currency")}>'
        f"{_options([(code, code) for code in CURRENCIES], form.currency)}</select></div></div>"
        f'<label for="description">Description</label><input id="description" name="description" '
        f'value="{_escape(form.description)}"{invalid("description")}>'
        '<p><button id="pay" class="primary" type="submit">Pay with Alipay</button></p></form>'
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


def order_page(order: Mapping[str, Any], left_checkout: bool) -> Page:
    """The order as stored, in the customer's words; `left_checkout`: the payer came back by the
    provider's cancel link (MultiSafepay's cancel_url)."""
    status = str(order.get("status", "unknown"))
    label, sentence = STATUS_TEXT.get(status, (status.replace("_", " ").title(), ""))
    amount = order.get("amount") or {}
    total = money_text(int(amount.get("value", 0)), str(amount.get("currency", "")))
    provider = str(order.get("provider", ""))
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
        f"<td>{_escape(_time(event.get('at')))}</td>"
        f"<td>{_escape(EVENT_NAMES.get(str(event.get('type')), event.get('type', '')))}</td>"
        f"<td>{_escape(_transition(event))}</td>"
        f"<td>{_escape(event.get('provider_status') or '')}</td>"
        f"<td>{_escape(', '.join(event.get('flags') or []))}</td>"
        "</tr>"
        for event in order.get("events") or []
        if isinstance(event, dict)
    )
    order_id = str(order.get("order_id", ""))
    body = (
        f'{_header()}<p class="muted">Order {_escape(order_id)}</p>'
        f'<h1><span id="status" class="pill {_escape(status)}" data-status="{_escape(status)}">'
        f"{_escape(label)}</span>"
        f' <span class="price">{_escape(total)}</span></h1>'
        f"<p>{_escape(sentence)}</p>{notice}"
        '<dl class="facts">'
        f"<dt>Description</dt><dd>{_escape(order.get('description', ''))}</dd>"
        f"<dt>Payment</dt><dd>{_escape(payment_method(provider))}</dd>"
        f"<dt>Ordered</dt><dd>{_escape(_when(order.get('created_at')))}</dd>"
        "</dl>"
        "<h2>History</h2><table><thead><tr><th>Time</th><th>Event</th><th>Status</th>"
        f"<th>Provider said</th><th>Flags</th></tr></thead><tbody>{rows}</tbody></table>"
        '<p><a href="/">Back to the shop</a></p>'
    )
    return Page(f"Order {order_id}", body, refresh=3 if status in WAITING else None)


def payment_method(provider: str) -> str:
    if provider == "alipay_intl":
        return "Alipay, international gateway"
    return f"Alipay via {PROVIDER_NAMES.get(provider, provider)}"


def _transition(event: Mapping[str, Any]) -> str:
    before, after = event.get("from_status"), event.get("to_status")
    if before and after:
        return f"{before} → {after}"
    return str(after or before or "")


def order_path(order_id: str, left_checkout: bool = False) -> str:
    return f"/shop/return?order_id={quote(order_id, safe='')}" + ("&cancelled=1" if left_checkout else "")
