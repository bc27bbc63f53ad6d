"""What the end-to-end tests (tests/e2e) expect of Antom over the local stack's HTTP."""

from __future__ import annotations

from tests.e2e.provider_facts import CheckoutOutcome, EndToEndFacts

FACTS = EndToEndFacts(
    # notifyPayment reports results (S paid, F failed; a payment closed unpaid at its expiry is F
    # ORDER_IS_CLOSED: expired);
    # a payer who leaves the cashier is sent back unnotified and the payment stays payable.
    checkout_outcomes={
        "pay": CheckoutOutcome("paid", True, "SUCCESS"),
        "cancel": CheckoutOutcome("pending", False, "PROCESSING"),
        "fail": CheckoutOutcome("failed", True, "FAIL"),
        "expire": CheckoutOutcome("expired", True, "FAIL"),
    },
    cancelled_word="CANCELLED",  # payments/cancel
    lost_refund_resolved_by="query",  # inquiryRefund under the same refundRequestId
)
