"""What the end-to-end tests (tests/e2e) expect of UseePay over the local stack's HTTP."""

from __future__ import annotations

from tests.e2e.provider_facts import CheckoutOutcome, EndToEndFacts

FACTS = EndToEndFacts(
    checkout_outcomes={
        "pay": CheckoutOutcome("paid", True, "succeed"),
        "cancel": CheckoutOutcome("cancelled", True, "cancelled"),
        "fail": CheckoutOutcome("failed", True, "failed"),
        "expire": CheckoutOutcome("expired", True, "closed"),
    },
    lost_refund_resolved_by="query",  # it queries the refund's transactionId
)
