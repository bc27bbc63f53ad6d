"""MultiSafepay's protocol as the generic tests need to know it (tests/support/provider_traits.py)."""

from tests.support.provider_traits import ProviderTraits

TRAITS = ProviderTraits(
    cancels_at_the_provider=True,  # PATCH orders/{id}: the order's status becomes void
    # MultiSafepay has no lookup by refund: until its order shows it, a refund stays unknown.
    looks_up_a_refund=False,
    answers_refunds_at_once=False,  # its order's notification reports the grown amount_refunded
    cancels_unclear_creates=False,
)
