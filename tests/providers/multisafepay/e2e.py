"""What the end-to-end tests (tests/e2e) expect of MultiSafepay over the local stack's HTTP."""

from __future__ import annotations

from tests.e2e.provider_facts import CheckoutOutcome, CurrencyRefusal, EndToEndFacts, ForgedNotification

FACTS = EndToEndFacts(
    # MultiSafepay notifies every outcome, with its own word for each.
    checkout_outcomes={
        "pay": CheckoutOutcome("paid", True, "completed"),
        "cancel": CheckoutOutcome("cancelled", True, "void"),
        "fail": CheckoutOutcome("failed", True, "declined"),
        "expire": CheckoutOutcome("expired", True, "expired"),
    },
    cancelled_word="cancelled",  # PATCH /orders/{id} status=cancelled
    lost_refund_resolved_by="get",  # it reads the order's refunded total
    currency_refusal=CurrencyRefusal("JPY", "Currency: MultiSafepay takes Alipay payments in EUR, USD."),
    forged_notification=ForgedNotification(
        query="transactionid=x&timestamp=1", body=b"{}", headers={"Auth": "Zm9yZ2Vk"}
    ),
)
