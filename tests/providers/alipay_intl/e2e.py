"""What the end-to-end tests (tests/e2e) expect of Alipay's international gateway over the local
stack's HTTP."""

from __future__ import annotations

from tests.e2e.provider_facts import CheckoutOutcome, EndToEndFacts

FACTS = EndToEndFacts(
    # Alipay's notify.pay reports payment results only (S paid, F failed): a payer who cancels on the
    # cashier is sent back unnotified and the order stays payable (INIT); an expired order is closed
    # (CLOSED) unnotified. Our order stays pending until it is asked (payQuery) or expires on our side.
    checkout_outcomes={
        "pay": CheckoutOutcome("paid", True, "SUCCESS"),
        "cancel": CheckoutOutcome("pending", False, "INIT"),
        "fail": CheckoutOutcome("failed", True, "FAIL"),
        "expire": CheckoutOutcome("pending", False, "CLOSED"),
    },
    cancelled_word="CANCELLED",  # payCancel
    # It sends the refund again under the same merchantRefundId, which Alipay answers without
    # refunding twice.
    lost_refund_resolved_by="refund",
)
