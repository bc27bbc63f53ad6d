"""The operator's console in headless Chromium (Debian's), against the local stack over HTTP: a wrong key
refused in the API's words; signed in, the orders filtered; an order opened and refunded in part, the
refund seen, its webhook delivered in the order's Webhooks table and at the shop, and redelivered; a
refund above what is refundable refused in the API's words with nothing changed; the day's report
shown and downloaded, its totals the sum of its lines; the Today view's charts, refused notifications
per day among them.

Screenshots go to tests/e2e/screenshots/ (gitignored).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from tests.e2e.conftest import LocalStack
from tests.e2e.provider_facts import example_provider, provider_facts
from tests.e2e.test_browser import browser, screenshot

__all__ = ["browser"]  # the module's Chromium fixture, shared


def test_an_operator_finds_refunds_and_reports(local_stack: LocalStack, browser: Any, tmp_path: Path) -> None:
    provider = example_provider()
    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    paid_id, open_id = f"con-paid-{stamp}", f"con-open-{stamp}"
    for order_id in (paid_id, open_id):
        assert (
            local_stack.create(order_id, provider, amount={"value": 1250, "currency": "EUR"}).status_code
            == 201
        )
    local_stack.control(provider, paid_id, "pay")
    # A notification nobody signed: refused, and counted in the Today view's refusals.
    forger, forgery = next(
        (name, f.forged_notification) for name, f in provider_facts().items() if f.forged_notification
    )
    refused = requests.post(
        f"{local_stack.api}/notify/{forger}?{forgery.query}",
        data=forgery.body,
        headers=forgery.headers,
        timeout=30,
    )
    assert refused.status_code == 401, refused.text

    context = browser.new_context(viewport={"width": 420, "height": 900}, accept_downloads=True)  # a phone
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("dialog", lambda dialog: dialog.accept())  # every confirmation: yes
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        # A wrong key: the API's refusal, and the sign-in form again.
        page.goto(f"{local_stack.api}/console")
        page.fill("#api-key", "not-the-key")
        page.click("#login-form button")
        page.wait_for_selector("#alert:has-text('a valid x-api-key header is required')")
        assert page.is_visible("#login")
        screenshot(page, "console-1-wrong-key")

        page.fill("#api-key", local_stack.api_key)
        page.click("#login-form button")
        page.wait_for_selector(f'#order-list tr[data-order-id="{open_id}"]')
        page.wait_for_selector(f'#order-list tr[data-order-id="{paid_id}"] .chip[data-status="paid"]')
        assert "12.50 EUR" in page.inner_text(f'#order-list tr[data-order-id="{paid_id}"]')
        screenshot(page, "console-2-orders")

        # Filtered to paid orders: the open one is gone.
        page.select_option("#f-status", "paid")
        page.click("#apply")
        page.wait_for_selector(f'#order-list tr[data-order-id="{open_id}"]', state="detached")
        assert page.is_visible(f'#order-list tr[data-order-id="{paid_id}"]')

        # The order, and part of it refunded.
        page.click(f'#order-list a:text-is("{paid_id}")')
        page.wait_for_selector(f'#order-title:has-text("{paid_id}")')
        assert page.inner_text("#order-refundable") == "12.50 EUR"
        page.fill("#refund-amount", "4.50")
        page.fill("#refund-reason", "One cup arrived broken")
        page.click("#refund")
        page.wait_for_selector("#status:has-text('Refund console-')")
        refund_row = "#refunds tr[data-refund-id^='console-']"
        for _ in range(60):  # a provider that reports refunds later does so within moments
            if page.get_attribute(refund_row, "data-status") == "succeeded":
                break
            page.click("#sync")
            page.wait_for_timeout(500)
        assert page.get_attribute(refund_row, "data-status") == "succeeded"
        assert "4.50 EUR" in page.inner_text(refund_row)
        assert page.inner_text("#order-refundable") == "8.00 EUR"
        assert "refund" in page.inner_text("#history").lower()
        screenshot(page, "console-3-refunded")

        # More than is refundable: the API's words, the amount marked, nothing changed.
        page.fill("#refund-amount", "9.00")
        page.click("#refund")
        page.wait_for_selector("#alert:has-text('more than is refundable')")
        assert page.get_attribute("#refund-amount", "aria-invalid") == "true"
        assert page.inner_text("#order-refundable") == "8.00 EUR"
        assert page.locator("#refunds tbody tr").count() == 1
        screenshot(page, "console-4-refund-refused")

        # The refund's webhook, delivered to the demo shop (the local stack's webhook receiver), as the
        # order's Webhooks table shows it; then sent again.
        refund_webhook = "#webhooks tr[data-type='refund.succeeded']"
        for _ in range(60):
            if page.locator(f"{refund_webhook}[data-delivery='delivered']").count():
                break
            page.click("#refresh-webhooks")
            page.wait_for_timeout(500)
        delivered = page.inner_text(refund_webhook)
        assert "Delivered" in delivered, delivered
        types = [row.get_attribute("data-type") for row in page.locator("#webhooks tbody tr").all()]
        assert types[:2] == ["order.pending", "order.paid"]
        assert "order.partially_refunded" in types
        page.click(f"{refund_webhook} button")
        page.wait_for_selector("#status:has-text('The refund.succeeded event was sent again.')")
        screenshot(page, "console-4b-webhooks")

        # The refund's webhook reached the merchant (the demo shop is the webhook receiver).
        shop = context.new_page()
        for _ in range(60):
            shop.goto(f"{local_stack.api}/shop/return?order_id={paid_id}")
            if shop.locator("#webhooks").count() and "refund" in shop.inner_text("#webhooks").lower():
                break
            shop.wait_for_timeout(500)
        assert "refund" in shop.inner_text("#webhooks").lower()
        shop.close()

        # Today's report: its lines add up to its totals, and the CSV downloads.
        page.click("#nav a[data-view='reports']")
        page.fill("#r-date", datetime.now(UTC).date().isoformat())
        page.fill("#r-zone", "UTC")
        page.click("#show-report")
        page.wait_for_selector("#totals tbody tr[data-currency='EUR']")
        with page.expect_download() as download_info:
            page.click("#download")
        saved = tmp_path / "report.csv"
        download_info.value.save_as(saved)
        rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
        mine = [(row["order_id"], row["type"], row["amount"]) for row in rows if row["order_id"] == paid_id]
        assert mine == [(paid_id, "payment", "12.50"), (paid_id, "refund", "4.50")]
        # Other tests' orders share the stack: this provider's EUR line against its CSV rows.
        eur = page.inner_text(f"#totals tbody tr[data-currency='EUR'][data-provider='{provider}']")
        paid = [r for r in rows if r["provider"] == provider and r["currency"] == "EUR"]
        paid_total = sum(_cents(r["amount"]) for r in paid if r["type"] in ("payment", "late_payment"))
        assert f"{paid_total // 100}.{paid_total % 100:02d} EUR" in eur
        screenshot(page, "console-5-report")

        # Needs attention and the 14 days render without errors.
        page.click("#nav a[data-view='attention']")
        page.wait_for_selector("#attention-list li")
        page.click("#nav a[data-view='today']")
        # 14 days: two reads a day (the report, the orders created), each 32 small queries: on a busy
        # machine's in-process stack, which answers one request at a time, that takes a while.
        page.wait_for_selector(
            "#charts figure[data-currency='EUR'] svg rect", state="attached", timeout=180_000
        )
        today = page.locator("#charts figure[data-currency='EUR'] rect.bar-paid").last
        assert float(today.get_attribute("height") or 0) > 0  # today's payments drawn
        assert page.inner_text(f"#days tr[data-day='{datetime.now(UTC).date().isoformat()}']")
        # Refused notifications per day: today's bar drawn, the forgery's code listed with what it means.
        page.wait_for_selector("#refusals-chart figure svg rect.bar-refused", state="attached")
        refused_today = page.locator("#refusals-chart rect.bar-refused").last
        assert float(refused_today.get_attribute("height") or 0) > 0
        assert int(page.get_attribute("#refusals-chart figure", "data-refused") or 0) >= 1
        codes = page.locator("#refusal-codes tbody tr[data-code]")
        assert codes.count() >= 1
        assert forger in page.inner_text("#refusal-codes tbody")
        screenshot(page, "console-6-today")
        assert not [error for error in errors if "Content Security Policy" in error], errors
    finally:
        context.close()


def _cents(text: str) -> int:
    whole, _, fraction = text.partition(".")
    return int(whole) * 100 + int(fraction or 0)
