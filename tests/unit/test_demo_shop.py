"""The demo shop's money and error wording (local/shop.py): exact, integer, readable. Where a provider
is named, for every provider (its kit); how the shop names each one is tested in its folder."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from local.testing import (
    AmountError,
    FormErrors,
    ProviderKit,
    RefundForm,
    api_errors,
    cancel_errors,
    form_after_error,
    kits,
    minor_units,
    money_text,
    next_refund_id,
    order_page,
    refund_errors,
    shop_page,
)

PROVIDERS = sorted(kits())
ANY_PROVIDER = PROVIDERS[0]  # where the provider plays no part in what is tested


@pytest.fixture(params=PROVIDERS)
def kit(request: pytest.FixtureRequest) -> ProviderKit[Any, Any]:
    return kits()[request.param]


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12.5", "EUR", 1250),
        ("12", "EUR", 1200),
        ("12.", "EUR", 1200),
        (" 0.01 ", "USD", 1),
        ("1000", "JPY", 1000),
        ("1.250", "KWD", 1250),
        ("999999999999999.99", "EUR", 99999999999999999),  # beyond a float's exact integers
    ],
)
def test_major_units_become_exact_minor_units(text: str, currency: str, minor: int) -> None:
    value = minor_units(text, currency)
    assert type(value) is int
    assert value == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("12.50", "JPY", "JPY has no smaller unit: enter whole JPY, like 1000."),
        ("12.505", "EUR", "EUR has 2 decimals at most, like 12.50."),
        ("0", "EUR", "Enter an amount above zero."),
        ("0.00", "EUR", "Enter an amount above zero."),
        ("12,50", "EUR", "Enter the amount in EUR as digits, like 12.50."),
        ("-5", "EUR", "Enter the amount in EUR as digits, like 12.50."),
        ("1e3", "EUR", "Enter the amount in EUR as digits, like 12.50."),
        ("", "EUR", "Enter the amount in EUR as digits, like 12.50."),
        ("١٢", "EUR", "Enter the amount in EUR as digits, like 12.50."),  # other scripts' digits
        ("10", "XXX", "Choose a currency"),
    ],
)
def test_amounts_that_are_not_money_say_why(text: str, currency: str, message: str) -> None:
    with pytest.raises(AmountError, match=message.replace(".", r"\.").replace("(", r"\(")):
        minor_units(text, currency)


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (1250, "EUR", "12.50 EUR"),
        (1000, "JPY", "1000 JPY"),
        (5, "USD", "0.05 USD"),
        (1250, "KWD", "1.250 KWD"),
    ],
)
def test_amounts_are_shown_in_major_units_with_the_currency(value: int, currency: str, shown: str) -> None:
    assert money_text(value, currency) == shown


def test_api_errors_become_sentences_per_field() -> None:
    body = json.dumps(
        {
            "error": {
                "code": "invalid_amount",
                "message": "amount.value: must be greater than 0",
                "field": "amount.value",
                "details": [
                    {"field": "amount.value", "message": "must be greater than 0"},
                    {"field": "description", "message": "must be plain text: '<' and '>' are not allowed"},
                ],
            }
        }
    )
    errors = api_errors(422, body)
    assert errors.messages == [
        "Amount: must be greater than 0.",
        "Description: must be plain text: '<' and '>' are not allowed.",
    ]
    assert errors.inputs == {"amount", "description"}


def test_provider_refusals_and_gateway_errors_are_readable() -> None:
    refused = {
        "error": {
            "code": "provider_rejected",
            "message": "the payment provider refused the order",
            "provider_code": "1032",
            "provider_message": "Invalid API key",
        }
    }
    assert api_errors(502, json.dumps(refused)).messages == [
        "The payment provider refused the order (the provider said 1032 “Invalid API key”)"
    ]
    assert "HTTP 502" in api_errors(502, '{"message": "Internal server error"}').messages[0]
    assert "HTTP 500" in api_errors(500, "<html>").messages[0]
    # A failed function (the template's gateway response): where to look, not the gateway's words.
    failed = '{"error": {"code": "internal_error", "message": "the function failed; retry later"}}'
    assert api_errors(502, failed).messages == [
        "The payment service failed (HTTP 502); see .local-logs/ and the make dev output."
    ]


def test_what_was_typed_is_escaped_when_shown_again(kit: ProviderKit[Any, Any]) -> None:
    from local.testing import OrderForm

    form = OrderForm(provider=kit.name, amount='"><script>', currency="JPY", description="<b>tea</b>")
    body = shop_page(PROVIDERS, form, FormErrors(["x"], {"amount"})).body
    assert "<script>" not in body
    assert 'value="&quot;&gt;&lt;script&gt;"' in body
    assert f'<option value="{kit.name}" selected>{html.escape(kit.shop_label)}</option>' in body
    assert '<option value="JPY" selected>JPY</option>' in body


def test_order_page_shows_money_names_and_a_way_back_while_unpaid(kit: ProviderKit[Any, Any]) -> None:
    order = {
        "order_id": "o-1",
        "provider": kit.name,
        "status": "pending",
        "amount": {"value": 1250, "currency": "EUR"},
        "description": "Tea",
        "payment_url": "http://127.0.0.1:1/checkout/x",
        "created_at": "2026-11-22T10:00:00.000000Z",
        "expires_at": "2026-11-22T10:10:00.000000Z",
        "events": [{"type": "order_created", "at": "2026-11-22T10:00:00.000000Z", "to_status": "created"}],
    }
    page = order_page(order, left_checkout=True)
    assert "12.50 EUR" in page.body
    assert html.escape(kit.payment_method) in page.body
    assert "You left the payment page without paying." in page.body
    assert "until 2026-11-22 10:10 UTC" in page.body
    assert 'href="http://127.0.0.1:1/checkout/x"' in page.body
    assert page.refresh == 3
    assert order_page({**order, "status": "paid"}, left_checkout=False).refresh is None


# -- refunds and cancel on the order page -----------------------------------------------------------
def paid_order(**overrides: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "order_id": "o-2",
        "provider": ANY_PROVIDER,
        "status": "paid",
        "amount": {"value": 1000, "currency": "EUR"},
        "refunded_amount": {"value": 0, "currency": "EUR"},
        "refundable_amount": {"value": 1000, "currency": "EUR"},
        "description": "Tea",
        "flags": [],
        "refunds": [],
        "events": [],
        "events_before": None,
        "created_at": "2026-11-22T10:00:00.000000Z",
    }
    order.update(overrides)
    return order


def refund(refund_id: str, value: int, status: str, **overrides: Any) -> dict[str, Any]:
    return {
        "refund_id": refund_id,
        "order_id": "o-2",
        "status": status,
        "amount": {"value": value, "currency": "EUR"},
        "reason": None,
        "origin": "merchant",
        "created_at": "2026-11-22T10:05:00.000000Z",
        **overrides,
    }


def hidden(body: str, name: str, within: str = 'id="refund-form"') -> str:
    """The value of the hidden input `name` in the form whose tag contains `within`."""
    form = body[body.index(within) :]
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', form)
    assert found, f"no hidden {name}"
    return found.group(1)


@pytest.mark.parametrize(
    ("fields", "currency", "request_body"),
    [
        (
            {"refund_id": "shop-refund-1", "how": "amount", "amount": "4.50", "reason": " one cup broken "},
            "EUR",
            {
                "refund_id": "shop-refund-1",
                "amount": {"value": 450, "currency": "EUR"},
                "reason": "one cup broken",
            },
        ),
        (
            {"refund_id": "shop-refund-2", "how": "amount", "amount": "300", "reason": "  "},
            "JPY",
            {"refund_id": "shop-refund-2", "amount": {"value": 300, "currency": "JPY"}},
        ),
        (  # everything: the amount the page showed, not whatever is left when the request arrives
            {"refund_id": "shop-refund-3", "how": "everything", "amount": "1.00", "value": "600"},
            "EUR",
            {"refund_id": "shop-refund-3", "amount": {"value": 600, "currency": "EUR"}},
        ),
        (
            {"refund_id": "shop-refund-4", "how": "again", "value": "1250", "reason": "late"},
            "KWD",
            {"refund_id": "shop-refund-4", "amount": {"value": 1250, "currency": "KWD"}, "reason": "late"},
        ),
    ],
)
def test_a_refund_form_becomes_a_request_in_integer_minor_units(
    fields: dict[str, str], currency: str, request_body: dict[str, Any]
) -> None:
    form = RefundForm.from_fields({"order_id": "o-2", **fields})
    sent = form.request(currency)
    assert sent == request_body
    assert type(sent["amount"]["value"]) is int
    # The same form sent twice (a double click, a reload) is the same request: one refund.
    assert RefundForm.from_fields({"order_id": "o-2", **fields}).request(currency) == sent


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"how": "amount", "amount": "4.505"}, "EUR has 2 decimals at most"),
        ({"how": "amount", "amount": ""}, "Enter the amount in EUR as digits"),
        ({"how": "everything", "value": "6.00"}, "This form is out of date"),
        ({"how": "everything", "value": "-600"}, "This form is out of date"),
        ({"how": "again", "value": ""}, "This form is out of date"),
        ({"how": "twice", "value": "600"}, "This form is out of date"),
    ],
)
def test_a_refund_form_that_is_not_money_says_why(fields: dict[str, str], message: str) -> None:
    with pytest.raises(AmountError, match=message):
        RefundForm.from_fields({"refund_id": "shop-refund-1", **fields}).request("EUR")


def test_refund_ids_count_up_past_the_shops_own() -> None:
    assert next_refund_id([]) == "shop-refund-1"
    refunds = [
        refund("shop-refund-1", 100, "succeeded"),
        refund("shop-refund-7", 100, "failed"),
        refund("api-made-99", 100, "succeeded"),  # made through the API by someone else
        refund("provider:R123", 100, "succeeded", origin="provider"),
    ]
    assert next_refund_id(refunds) == "shop-refund-8"


def test_a_paid_order_offers_a_refund_in_full_or_in_part() -> None:
    page = order_page(paid_order(), left_checkout=False)
    assert hidden(page.body, "refund_id") == "shop-refund-1"
    assert hidden(page.body, "value") == "1000"
    assert "Refund in full: 10.00 EUR" in page.body
    assert 'id="refund-part"' in page.body
    assert 'id="cancel-order"' not in page.body  # paid: refunds only
    assert page.refresh is None


def test_a_partly_refunded_order_shows_its_refunds_and_offers_the_rest() -> None:
    order = paid_order(
        status="partially_refunded",
        refunded_amount={"value": 400, "currency": "EUR"},
        refundable_amount={"value": 300, "currency": "EUR"},
        refunds=[
            refund("shop-refund-1", 400, "succeeded", reason="one cup broken"),
            refund("shop-refund-2", 300, "pending"),
            refund("provider:R9", 0, "failed", origin="provider"),
        ],
    )
    page = order_page(order, left_checkout=False, refund_done="shop-refund-2")
    body = page.body
    assert hidden(body, "refund_id") == "shop-refund-3"
    assert "Refund the rest: 3.00 EUR" in body
    assert '<dd id="refunded">4.00 EUR</dd>' in body
    assert '<dd id="refunding">3.00 EUR</dd>' in body  # in flight: neither refunded nor refundable
    assert '<dd id="refundable">3.00 EUR</dd>' in body
    assert '<tr data-refund-id="shop-refund-1" data-status="succeeded">' in body
    assert "one cup broken" in body
    assert "by the provider (e.g. its dashboard)" in body
    assert "Refund shop-refund-2 of 3.00 EUR was accepted by the provider" in body
    assert "minor units" not in body
    # A refund's result is on its way: the page reloads itself, to its own address.
    assert page.refresh == 3
    assert page.refresh_url == "/shop/return?order_id=o-2&refund=shop-refund-2"


def test_a_refund_not_confirmed_is_asked_again_with_exactly_its_request() -> None:
    order = paid_order(
        refundable_amount={"value": 700, "currency": "EUR"},
        refunds=[refund("shop-refund-1", 300, "unknown", reason="broken")],
    )
    body = order_page(order, left_checkout=False).body
    ask = 'id="ask-shop-refund-1"'
    assert ask in body
    form = body[: body.index(ask)]
    form = form[form.rindex("<form") :]
    assert hidden(form, "refund_id", "<form") == "shop-refund-1"
    assert hidden(form, "value", "<form") == "300"
    assert hidden(form, "reason", "<form") == "broken"
    # Refunds made through the API without the shop may have sent no amount: no button for them.
    other = paid_order(refunds=[refund("api-1", 300, "unknown")])
    assert "ask-api-1" not in order_page(other, left_checkout=False).body


@pytest.mark.parametrize(
    ("status", "cancellable", "refundable"),
    [
        ("created", True, False),
        ("pending", True, False),
        ("unknown", True, False),
        ("paid", False, True),
        ("partially_refunded", False, True),
        ("refunded", False, False),
        ("cancelled", False, False),
        ("expired", False, False),
        ("failed", False, False),
    ],
)
def test_cancel_and_refund_are_offered_where_the_api_takes_them(
    status: str, cancellable: bool, refundable: bool
) -> None:
    order = paid_order(status=status)
    if status == "refunded":
        order["refundable_amount"] = {"value": 0, "currency": "EUR"}
    body = order_page(order, left_checkout=False).body
    assert ('id="cancel-order"' in body) is cancellable
    assert ('id="refund-form"' in body) is refundable


def test_flags_are_explained_and_named() -> None:
    body = order_page(paid_order(flags=["late_payment", "new_flag"]), left_checkout=False).body
    assert "Paid after the order was closed" in body
    assert '<code class="muted">late_payment</code>' in body
    assert "New flag" in body  # one this shop does not know yet is still shown


def test_older_events_are_a_link_away() -> None:
    order = paid_order(events_before="51")
    body = order_page(order, left_checkout=False).body
    assert 'href="/shop/return?order_id=o-2&amp;events_before=51"' in body
    older = order_page(paid_order(), left_checkout=False, events_before="51").body
    assert 'id="newer-events"' in older


def test_refund_errors_say_what_to_do_next(kit: ProviderKit[Any, Any]) -> None:
    lost = json.dumps({"error": {"code": "provider_unavailable", "message": "could not reach"}})
    errors = refund_errors(502, lost, "shop-refund-1")
    assert errors.title == "The refund is not confirmed yet."
    assert "refund shop-refund-1 was made" in errors.messages[0]
    assert "never refunds twice" in errors.messages[0]
    too_much = json.dumps(
        {
            "error": {
                "code": "refund_exceeds_refundable",
                "message": "amount.value: more than is refundable (6.00 EUR: ...)",
                "field": "amount.value",
            }
        }
    )
    errors = refund_errors(422, too_much, "shop-refund-2")
    assert errors.messages == ["Amount: more than is refundable (6.00 EUR: ...)"]
    assert errors.inputs == {"refund-amount"}
    refused = json.dumps(
        {
            "error": {
                "code": "provider_rejected",
                "message": f"{kit.display_name} refused the refund",
                "provider_code": "1034",
                "provider_message": "Cannot refund",
            }
        }
    )
    assert refund_errors(502, refused, "shop-refund-2").messages == [
        f"{kit.display_name} refused the refund (the provider said 1034 “Cannot refund”)"
    ]
    conflict = json.dumps({"error": {"code": "refund_id_conflict", "message": "x", "field": "refund_id"}})
    assert "already made with another amount" in refund_errors(409, conflict, "shop-refund-2").messages[0]


def test_cancel_errors_say_what_became_of_the_order() -> None:
    refused = json.dumps({"error": {"code": "order_not_cancellable", "message": "x", "field": "order_id"}})
    assert cancel_errors(409, refused, "paid").messages == ["It is paid now: refund it instead."]
    assert cancel_errors(409, refused, "expired").messages == ["It is expired now."]
    lost = json.dumps({"error": {"code": "provider_timeout", "message": "x"}})
    assert "still open" in cancel_errors(504, lost, "pending").messages[0]


@pytest.mark.parametrize(
    ("how", "made", "keeps_id"),
    [
        ("amount", None, True),  # the API refused the input: nothing was made, the id is unused
        ("amount", "unknown", True),  # sent again, the same request asks the provider
        ("amount", "failed", False),  # refused by the provider: a new attempt is a new refund
        ("everything", "unknown", False),  # "everything" now means less: another request
        ("everything", None, True),
    ],
)
def test_after_an_error_the_form_keeps_what_was_typed_and_its_id_only_while_safe(
    how: str, made: str | None, keeps_id: bool
) -> None:
    form = RefundForm("o-2", "shop-refund-2", how, "4.50", "1000", "broken")
    refunds = [refund("shop-refund-1", 100, "succeeded")]
    if made:
        refunds.append(refund("shop-refund-2", 450, made))
    again = form_after_error(form, refunds)
    assert (again.amount, again.reason, again.how) == ("4.50", "broken", how)
    assert again.refund_id == ("shop-refund-2" if keeps_id else "shop-refund-3")


def test_a_refused_form_comes_back_as_typed_and_escaped_without_reloading() -> None:
    errors = FormErrors()
    errors.add("Amount: more than is refundable.", "refund-amount")
    form = RefundForm("o-2", "shop-refund-1", "amount", '"><script>', "1000", "<b>why</b>")
    page = order_page(
        paid_order(status="pending"), left_checkout=False, refund_form=form, refund_errors=errors
    )
    assert page.refresh is None  # a reload would throw away what was typed and the reasons
    page = order_page(paid_order(), left_checkout=False, refund_form=form, refund_errors=errors)
    assert "<script>" not in page.body
    assert 'value="&quot;&gt;&lt;script&gt;"' in page.body
    assert 'value="&lt;b&gt;why&lt;/b&gt;"' in page.body
    assert 'id="refund-amount" name="amount"' in page.body
    assert 'aria-invalid="true"' in page.body
    assert "Amount: more than is refundable." in page.body


def test_the_storefront_lists_recent_orders_with_links() -> None:
    body = shop_page([ANY_PROVIDER], recent=[paid_order(status="pending", order_id="o/3")]).body
    assert 'href="/shop/return?order_id=o%2F3"' in body
    assert "Awaiting payment" in body
    assert "10.00 EUR" in body


def test_why_a_refund_or_cancel_was_refused_shows_whatever_the_order_became() -> None:
    """A form from a page shown before the order changed: the reasons show even where the page no
    longer offers that form."""
    refused = FormErrors(["Order: an order that is cancelled cannot be refunded."])
    body = order_page(paid_order(status="cancelled"), left_checkout=False, refund_errors=refused).body
    assert "an order that is cancelled cannot be refunded" in body
    assert 'id="refund-form"' not in body
    not_cancelled = FormErrors(["It is paid now: refund it instead."])
    body = order_page(paid_order(), left_checkout=False, cancel_errors=not_cancelled).body
    assert "It is paid now: refund it instead." in body
    assert 'id="cancel-order"' not in body


def test_what_reconciliation_found_is_said_in_words() -> None:
    at = "2026-11-22T10:00:00.000000Z"
    events = [
        {"type": "reconcile", "at": at, "source": "reconcile", "from_status": "pending", "to_status": "paid"},
        {"type": "reconcile_expired", "at": at, "source": "reconcile", "to_status": "expired"},
        {"type": "sync", "at": at, "source": "sync", "from_status": "pending", "to_status": "paid"},
        {"type": "needs_attention", "at": at, "source": "reconcile", "flags": ["needs_attention"]},
    ]
    body = order_page(paid_order(events=events, flags=["needs_attention"]), left_checkout=False).body
    assert "Found by reconciliation (asked the provider)" in body
    assert "Expired: reconciliation found it never paid" in body
    assert "Found by asking the provider now (sync)" in body
    assert "Needs a person: reconciliation gave up" in body
    assert "Still unresolved after seven days of checks with the provider" in body
