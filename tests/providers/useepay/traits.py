"""UseePay's protocol as the generic tests need to know it (tests/support/provider_traits.py)."""

from tests.support.provider_traits import ProviderTraits

TRAITS = ProviderTraits(
    # UseePay has no cancel call for unpaid Alipay orders: its checkout closes on its own.
    cancels_at_the_provider=False,
    looks_up_a_refund=True,  # `query` on the refund's own transactionId
    answers_refunds_at_once=False,  # a refund is accepted `pending`; its result comes as a notification
    cancels_unclear_creates=False,
)
