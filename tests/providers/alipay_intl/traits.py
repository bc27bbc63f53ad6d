"""Alipay's protocol as the generic tests need to know it (tests/support/provider_traits.py)."""

from tests.support.provider_traits import ProviderTraits

TRAITS = ProviderTraits(
    cancels_at_the_provider=True,  # payCancel closes an unpaid order for good
    looks_up_a_refund=True,  # it answers a merchantRefundId once: sending it again tells
    answers_refunds_at_once=True,  # common.refund is synchronous, and no refund is notified
    cancels_unclear_creates=True,  # payCancel: Alipay's rule for an unclear create
)
