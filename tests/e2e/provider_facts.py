"""What the end-to-end tests expect of each provider, discovered: every provider's folder under
tests/providers holds an `e2e` module with its `FACTS` (docs/adding-a-provider.md).

The end-to-end tests name no provider: they run over `kits()` and ask these facts wherever the
providers differ. A fact here is what the provider's documentation says its side shows (its words,
its checkout's outcomes, the call its sandbox records), written down independently of the adapter.
What the protocol does (a cancel call, how refunds report, the pages the payer is sent to) and the
provider's name are not repeated here: the tests read them from the kit (`capabilities`,
`display_name`, `shop_label`), which reads the adapter's one record.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from local.testing import kit_of, kits
from payments.providers.capabilities import RefundReporting


@dataclass(frozen=True, slots=True)
class CheckoutOutcome:
    """What a payer's button on the provider's checkout page leads to."""

    status: str  # our unified status for the order afterwards
    notified: bool  # whether the provider sends a notification about it
    provider_word: str  # the provider's own word for the order then (the sandbox's GET /_control)


@dataclass(frozen=True, slots=True)
class ForgedNotification:
    """A notification nobody signed with the provider's credentials, as it would reach POST /notify."""

    query: str  # the query string after /notify/{provider}?
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CurrencyRefusal:
    """A currency the provider does not take, and the sentence the demo shop shows for it."""

    currency: str
    sentence: str


@dataclass(frozen=True, slots=True)
class EndToEndFacts:
    # For each checkout button (local/checkout.py's OUTCOMES: pay, cancel, fail, expire):
    checkout_outcomes: Mapping[str, CheckoutOutcome]
    # The call that settles a refund whose reply was lost (the sandbox's CallRecord.operation).
    lost_refund_resolved_by: str
    # Its word for an order its cancel call withdrew: given exactly when it has one
    # (capabilities.cancels_unpaid_orders).
    cancelled_word: str | None = None
    currency_refusal: CurrencyRefusal | None = None
    forged_notification: ForgedNotification | None = None


@cache
def provider_facts() -> dict[str, EndToEndFacts]:
    """name -> facts, for every provider that has a kit, in the kits' order."""
    found: dict[str, EndToEndFacts] = {}
    for name in kits():
        module = f"tests.providers.{name}.e2e"
        try:
            facts = importlib.import_module(module).FACTS
        except ModuleNotFoundError as missing:
            if missing.name != module:
                raise
            raise ModuleNotFoundError(
                f"provider {name!r} has a kit but no tests/providers/{name}/e2e.py (its FACTS)", name=module
            ) from None
        if not isinstance(facts, EndToEndFacts):
            raise TypeError(f"tests/providers/{name}/e2e.py: FACTS is not an EndToEndFacts")
        if (facts.cancelled_word is not None) != kit_of(name).capabilities.cancels_unpaid_orders:
            raise ValueError(
                f"tests/providers/{name}/e2e.py: cancelled_word is the word of a cancel call,"
                " given exactly when the adapter's capabilities have one"
            )
        found[name] = facts
    return found


def facts_of(name: str) -> EndToEndFacts:
    return provider_facts()[name]


def providers() -> list[str]:
    """Every provider, for tests run once per provider."""
    return list(kits())


def example_provider() -> str:
    """The provider a test of behaviour common to all of them runs with, where running it for each
    would only multiply a slow test: the first kit."""
    return providers()[0]


def providers_where(holds: Callable[[EndToEndFacts], object]) -> list[str]:
    """The providers whose facts `holds` is true of, in the kits' order."""
    return [name for name, facts in provider_facts().items() if holds(facts)]


def notifies_refunds(name: str) -> bool:
    """It reports a refund's result by notification (else in the refund's reply): its capabilities."""
    return kit_of(name).capabilities.refunds_reported is not RefundReporting.WHEN_ASKED
