"""A person's path through the demo shop, in headless Chromium (Debian's, no downloaded browser):
shop -> "Pay with Alipay" -> the provider's sandbox checkout -> Pay -> back at the shop, order paid."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.template import ROOT
from tests.e2e.conftest import LocalStack

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
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (apt-get install chromium) but was not found")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.mark.parametrize("provider", ["multisafepay", "useepay", "alipay_intl"])
def test_shop_checkout_pay_return_shows_paid(local_stack: LocalStack, browser: object, provider: str) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(30_000)
    page.goto(f"{local_stack.api}/")
    page.select_option("#provider", provider)
    page.fill("#amount", "12.50")
    page.click("#pay")
    page.wait_for_selector("#pay")  # the sandbox checkout page's Pay button
    assert local_stack.sandboxes[provider] in page.url
    page.click("#pay")
    page.wait_for_url(f"{local_stack.api}/shop/return*")
    status = page.text_content("#status")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"shop-paid-{provider}.png"), full_page=True)
    assert status == "paid"
    assert "notification" in (page.text_content("table") or "")
    page.close()
