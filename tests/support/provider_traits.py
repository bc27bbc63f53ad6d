"""What the generic tests must know of a provider's protocol to say what they expect of it: each
provider's folder under tests/providers/ states its `TRAITS` (traits.py), found here by the provider's
name like its kit (local/providers/) and its adapter (the layer's payments/providers/)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ProviderTraits:
    # The provider has a call that withdraws an unpaid order: a cancel shows at the provider, and a
    # payment racing it is refused there. Without one, its checkout closes on its own and a payment
    # it reports after our cancel is applied and flagged late.
    cancels_at_the_provider: bool
    # The provider can be asked about one refund, so it shows a refund it never received and the
    # same request (or reconciliation) sends it. Without that lookup a refund whose outcome is unclear
    # stays unknown rather than risk a second one.
    looks_up_a_refund: bool
    # The provider answers a refund at once and notifies none: holding refunds makes it answer
    # "unclear" instead (a later refund notification cannot be lost).
    answers_refunds_at_once: bool
    # The provider's rule for a create whose outcome stays unclear: cancel it, so that it can never be
    # paid later. Otherwise it is left to the merchant's retry, or its expiry.
    cancels_unclear_creates: bool


def traits_of(provider: str) -> ProviderTraits:
    traits: ProviderTraits = importlib.import_module(f"tests.providers.{provider}.traits").TRAITS
    return traits
