"""A person's path through the demo shop, in headless Chromium (Debian's, no downloaded browser):
shop -> "Pay with Alipay" -> the provider's sandbox checkout -> Pay -> back at the shop, order paid ->
refund part of it -> refund the rest; another order cancelled from the shop's recent orders; and forms
that fail, shown again as typed with readable errors.

Screenshots of every page go to tests/e2e/screenshots/ (gitignored): look at them after a change.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests

from local.testing import ROOT, kit_of
from tests.e2e.conftest import LocalStack
from tests.e2e.provider_facts import example_provider, facts_of, providers, providers_where

SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless flags that keep Chromium off the network it cannot reach here.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (apt-get install chromium) but was not found")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    tab = browser.new_page(viewport={"width": 1000, "height": 760})
    tab.set_default_timeout(30_000)
    yield tab
    tab.close()


def screenshot(tab: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def order_id_of(tab: Any) -> str:
    return str(parse_qs(urlsplit(tab.url).query)["order_id"][0])


def click_checkout(tab: Any, label: str) -> None:
    """A checkout page's button, found by its label as a person finds it: the English word, which
    every sandbox page shows (the provider's own words beside it), so it is there in a Chromium
    without the fonts for Chinese too."""
    button = tab.locator("form[action*='/_checkout/']").get_by_role("button", name=label)
    assert str(button.inner_text()).startswith(label)
    button.click()


def checkout_order_id(tab: Any) -> str:
    """The order a sandbox checkout page is for: its Pay button posts to /_checkout/{order_id}/pay."""
    action = str(tab.locator("form", has=tab.locator("#pay")).get_attribute("action"))
    return unquote(action.split("/")[2])


@pytest.mark.parametrize("provider", providers())
def test_pay_refund_partly_refund_the_rest_and_cancel_another_order(
    local_stack: LocalStack, page: Any, provider: str
) -> None:
    kit = kit_of(provider)
    shown_once = provider == example_provider()  # pages that look alike for every provider
    page.goto(f"{local_stack.api}/")
    assert kit.shop_label in page.inner_text("#provider")
    if shown_once:
        screenshot(page, "1-shop")
    page.select_option("#provider", provider)
    page.fill("#amount", "12.50")
    page.select_option("#currency", "EUR")
    page.fill("#description", "Longjing green tea, 100 g")
    page.click("#pay")
    page.wait_for_selector("#pay")  # the sandbox checkout page's Pay button
    assert local_stack.sandboxes[provider] in page.url
    assert page.inner_text("h1") == kit.checkout(kit.new_sandbox(kit.test_credentials())).title
    screenshot(page, f"2-checkout-{provider}")
    click_checkout(page, "Pay")
    page.wait_for_url(f"{local_stack.api}/shop/return*")
    screenshot(page, f"3-order-paid-{provider}")
    assert page.get_attribute("#status", "data-status") == "paid"
    assert page.inner_text("#status") == "Paid"
    text = page.inner_text("main")
    assert "12.50 EUR" in text
    assert kit.display_name in text
    assert "minor units" not in text
    assert "Notification" in page.inner_text("#history")
    order_id = order_id_of(page)

    # Part of it back, with a reason. A provider that reports refunds later does so within moments:
    # the page reloads itself until then.
    assert page.inner_text("#refund-all") == "Refund in full: 12.50 EUR"
    page.fill("#refund-amount", "4.50")
    page.fill("#refund-reason", "One cup arrived broken")
    page.click("#refund-part")
    page.wait_for_selector('#status[data-status="partially_refunded"]')
    page.wait_for_selector('#refunds tr[data-refund-id="shop-refund-1"][data-status="succeeded"]')
    assert page.inner_text("#refunded") == "4.50 EUR"
    assert page.inner_text("#refundable") == "8.00 EUR"
    row = page.inner_text('#refunds tr[data-refund-id="shop-refund-1"]')
    assert "4.50 EUR" in row
    assert "Refunded" in row
    assert "by this shop" in row
    assert "One cup arrived broken" in row
    assert "Refund shop-refund-1 of 4.50 EUR is done" in page.inner_text("#refund-outcome")
    screenshot(page, f"7-refunded-part-{provider}")

    # More than is left: refused by the API, shown as a sentence, the amount kept as typed.
    page.fill("#refund-amount", "9.00")
    page.click("#refund-part")
    assert "Amount: more than is refundable (8.00 EUR" in page.inner_text("#errors")
    assert page.input_value("#refund-amount") == "9.00"
    assert page.get_attribute("#refund-amount", "aria-invalid") == "true"
    if shown_once:
        screenshot(page, "8-refund-error")

    # The rest, with the button that names it.
    assert page.inner_text("#refund-all") == "Refund the rest: 8.00 EUR"
    page.click("#refund-all")
    page.wait_for_selector('#status[data-status="refunded"]')
    page.wait_for_selector('#refunds tr[data-refund-id="shop-refund-2"][data-status="succeeded"]')
    assert page.inner_text("#refunded") == "12.50 EUR"
    assert page.inner_text("#refundable") == "0.00 EUR"
    assert page.query_selector("#refund-form") is None  # nothing left to refund
    # The merchant events the shop received, their long ids within the card (they once overflowed it).
    for _ in range(40):
        if page.query_selector("#webhooks") is not None:
            break
        page.wait_for_timeout(250)
        page.reload()
    assert page.evaluate(
        "document.querySelector('#webhooks').scrollWidth <= document.querySelector('main').clientWidth"
    )
    screenshot(page, f"9-refunded-{provider}")
    view = requests.get(f"{local_stack.sandboxes[provider]}/_control/{order_id}", timeout=30).json()
    assert sorted(refund["amount"] for refund in view["refunds"]) == [450, 800]

    # Another order, left unpaid at the checkout, found among the shop's recent orders and cancelled.
    page.goto(f"{local_stack.api}/")
    page.select_option("#provider", provider)
    page.fill("#amount", "3.20")
    page.click("#pay")
    page.wait_for_selector("#pay")
    page.goto(f"{local_stack.api}/")
    newest = page.locator("#recent-orders tbody tr").first
    assert "3.20 EUR" in newest.inner_text()
    assert "Awaiting payment" in newest.inner_text()
    newest.locator("a").click()
    page.wait_for_selector('#status[data-status="pending"]')
    unpaid_id = order_id_of(page)
    page.click("#cancel-order")
    page.wait_for_selector('#status[data-status="cancelled"]')
    assert page.query_selector("#cancel-order") is None
    screenshot(page, f"10-cancelled-{provider}")
    view = requests.get(f"{local_stack.sandboxes[provider]}/_control/{unpaid_id}", timeout=30).json()
    # (A provider whose cancel would refund a paid payment is asked about it first.)
    calls = [call["operation"] for call in view["calls"] if call["operation"] != "query"]
    assert calls == (["create", "cancel"] if kit.capabilities.cancels_unpaid_orders else ["create"])


@pytest.mark.parametrize("refusing", providers_where(lambda facts: facts.currency_refusal is not None))
def test_a_failed_form_comes_back_as_typed_with_readable_errors(
    local_stack: LocalStack, page: Any, refusing: str
) -> None:
    """`refusing`: a provider that does not take some currency. The form is first sent for another
    provider (any: the shop's own checks are the same for all), then for `refusing`."""
    refusal = facts_of(refusing).currency_refusal
    assert refusal is not None
    first = next((name for name in providers() if name != refusing), refusing)
    page.goto(f"{local_stack.api}/")
    # Ours: JPY has no decimals.
    page.select_option("#provider", first)
    page.fill("#amount", "12.50")
    page.select_option("#currency", "JPY")
    page.click("#pay")
    assert "JPY has no smaller unit" in page.inner_text("#errors")
    assert page.input_value("#amount") == "12.50"
    assert page.input_value("#currency") == "JPY"
    assert page.input_value("#provider") == first
    assert page.get_attribute("#amount", "aria-invalid") == "true"
    # The API's: a currency the provider does not take; and HTML in the description, at the same time.
    page.select_option("#provider", refusing)
    page.select_option("#currency", refusal.currency)
    page.fill("#amount", "1000")
    page.fill("#description", "Tea <b>set</b>")
    page.click("#pay")
    errors = page.inner_text("#errors")
    screenshot(page, "4-shop-error")
    assert "Description: must be plain text" in errors
    assert page.input_value("#description") == "Tea <b>set</b>"
    assert page.input_value("#currency") == refusal.currency
    assert '{"error"' not in page.content()  # sentences, not the API's JSON
    page.fill("#description", "Tea set")
    page.click("#pay")
    assert refusal.sentence in page.inner_text("#errors")
    assert page.get_attribute("#currency", "aria-invalid") == "true"


@pytest.mark.parametrize(
    "provider", [name for name in providers() if "cancel_url" in kit_of(name).capabilities.payer_urls]
)
def test_a_payer_who_cancels_at_the_checkout_comes_back_to_the_cancel_page(
    local_stack: LocalStack, page: Any, provider: str
) -> None:
    """At a provider that sends a payer who cancels to the merchant's cancel_url (its capabilities'
    payer_urls): its checkout's Cancel goes there."""
    page.goto(f"{local_stack.api}/")
    page.select_option("#provider", provider)
    page.fill("#amount", "1000")
    page.select_option("#currency", "USD")
    page.click("#pay")
    page.wait_for_selector("#cancel")
    click_checkout(page, "Cancel")
    page.wait_for_url(f"{local_stack.api}/shop/return*cancelled=1*")
    screenshot(page, f"5-order-cancelled-{provider}")
    assert page.get_attribute("#status", "data-status") == "cancelled"
    assert "1000.00 USD" in page.inner_text("main")


@pytest.mark.parametrize(
    "provider", providers_where(lambda facts: not facts.checkout_outcomes["cancel"].notified)
)
def test_an_unpaid_order_offers_the_way_back_to_the_payment_page(
    local_stack: LocalStack, page: Any, provider: str
) -> None:
    """What a payer sees who leaves a checkout that reports nothing (a provider whose Cancel is not
    notified): the order is still payable, and the page says until when and links back to it."""
    page.goto(f"{local_stack.api}/")
    page.select_option("#provider", provider)
    page.fill("#amount", "1000")
    page.select_option("#currency", "JPY")
    page.click("#pay")
    page.wait_for_selector("#pay")
    checkout = page.url
    order_id = checkout_order_id(page)
    page.goto(f"{local_stack.api}/shop/return?order_id={order_id}")
    screenshot(page, f"6-order-pending-{provider}")
    assert page.get_attribute("#status", "data-status") == "pending"
    assert "1000 JPY" in page.inner_text("main")
    assert page.get_attribute("#resume", "href") == checkout
    page.click("#resume")
    page.wait_for_selector("#pay")
    click_checkout(page, "Pay")
    page.wait_for_url(f"{local_stack.api}/shop/return*")
    assert page.get_attribute("#status", "data-status") == "paid"
