"""What the reliability suite knows of each provider beyond its kit (local/providers/<name>/kit.py): how
its notifications are forged, how its side breaks on create, how our replies to it read, and the
expectations that differ from one provider to another (what its protocol does, such as how refunds
report, is not repeated here: the tests read the kit's `capabilities`). Each provider's is its folder's
tests/providers/<name>/reliability.py (its `RELIABILITY`), discovered by the provider's name; the
suite's tests are written once, over every provider (and every variant, such as a sign type).
"""

from __future__ import annotations

import importlib
import json
import random
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

import responses
from requests import PreparedRequest

from local.testing import ProviderKit, kits
from tests.support.link import ProviderLink

if TYPE_CHECKING:
    from tests.reliability.harness import Delivery, Harness

Case = tuple[str, "Delivery"]  # a forgery: (kind, what is sent)

# Faults of the link to the provider (tests/support/link.py), the same for every provider.
LINK_FAULTS = ("connect_timeout", "garbage", "http_500", "read_timeout_after_processing", "reset")


class ReliabilityKit(ABC):
    """One provider's part of the reliability suite. Subclasses fill in the abstract methods and set
    the class attributes where the provider differs from the defaults."""

    name: ClassVar[str]  # the provider's name: its folders' name
    # outcome -> the order's cumulative refunded total (of a 1000 order) its statement reports.
    refunded_totals: ClassVar[Mapping[str, int]] = {}
    # The race test's scenarios: name -> {outcome: deliveries of it} (50 deliveries in all).
    race_mixes: ClassVar[Mapping[str, Mapping[str, int]]]
    # Reconciliation: fate -> the status the order ends in, where it is not the usual one.
    reconciled_otherwise: ClassVar[Mapping[str, str]] = {}
    # The rows of the DynamoDB-fault table this provider carries, as (what the caller does, the
    # operation that fails): each row is tried with one provider (test_store_faults.py).
    store_faults: ClassVar[tuple[tuple[str, str], ...]] = ()

    @property
    def kit(self) -> ProviderKit[Any, Any]:
        return kits()[self.name]

    # -- forged notifications (test_forged_notifications.py) --------------------------------------
    @abstractmethod
    def forgeries(self, harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
        """Deterministic forgeries of `genuine` (a signed `paid` notification for `order_id`)."""

    def refusal(self, body: str) -> tuple[str | None, str | None]:
        """Our 4xx reply to a refused notification: (its error code if it has one, what is wrong with
        it as a refusal, if anything)."""
        code: str = json.loads(body)["error"]["code"]
        return code, None

    # -- our replies to notifications --------------------------------------------------------------
    @abstractmethod
    def acknowledges(self, status: int, body: str) -> bool:
        """Whether our reply tells the provider its notification was taken (no redelivery)."""

    def asks_for_redelivery(self, body: str) -> bool:
        """Whether our 503 reply to a notification reads, to the provider, as "retry later"."""
        try:
            return bool(json.loads(body)["error"]["code"] == "store_unavailable")
        except (ValueError, KeyError, TypeError):
            return False

    # -- faults on create (test_provider_faults.py) ------------------------------------------------
    @abstractmethod
    def create_faults(self, variant: str) -> list[str]:
        """The faults on create to try for `variant`: LINK_FAULTS and those of `break_create`."""

    def break_create(self, sandbox: Any, fault: str, order_id: str) -> None:
        """Arm a fault that is not the link's: "unsigned", "bad_signature" (replies that prove nothing)
        or "rejected" (a signed, readable refusal of `order_id`)."""
        raise NotImplementedError(fault)

    def repair(self, sandbox: Any, fault: str) -> None:
        """Undo `break_create` (if anything outlives the one request)."""
        return None

    # -- the provider's side -----------------------------------------------------------------------
    @abstractmethod
    def forget_orders(self, sandbox: Any) -> None:
        """The sandbox forgets every order (a fresh world; ids may come again)."""

    def before_refund_race(self, sandbox: Any, order_id: str) -> None:
        """Before many refunds of `order_id` race: keep what they reserve reserved, where the provider
        would otherwise settle refunds before the race is over."""
        return None


@cache
def reliability_kits() -> dict[str, ReliabilityKit]:
    """name -> the provider's reliability kit, for every provider kit (in the kits' order)."""
    found: dict[str, ReliabilityKit] = {}
    for name in kits():
        kit: ReliabilityKit = importlib.import_module(f"tests.providers.{name}.reliability").RELIABILITY
        if kit.name != name:
            raise ImportError(f"tests/providers/{name}/reliability.py names itself {kit.name!r}")
        found[name] = kit
    return found


def reliability_kit(name: str) -> ReliabilityKit:
    return reliability_kits()[name]


# -- variants: a provider and one of its configurations, as the tests name them ----------------------
def variant_label(name: str, variant: str = "") -> str:
    """ "<provider>-<variant>", or the provider's name for a provider of one configuration."""
    return f"{name}-{variant}" if variant else name


def split_label(label: str) -> tuple[str, str]:
    name, _, variant = label.partition("-")
    return name, variant


def default_variant(name: str) -> str:
    """The provider in its first (default) configuration."""
    return variant_label(name, kits()[name].variants[0])


# Every provider in every configuration, and every provider in its first one.
VARIANTS = [variant_label(name, variant) for name, kit in kits().items() for variant in kit.variants]
DEFAULT_VARIANTS = [default_variant(name) for name in kits()]


def sandbox_on_wire(name: str, wire: responses.RequestsMock, link: ProviderLink, variant: str = "") -> Any:
    """A sandbox knowing the run's credentials for `variant`, answering the adapter's calls to the
    provider's test URL (through `link`, for fault injection), as tests/providers/*/fixtures.py do."""
    kit = kits()[name]
    sandbox = kit.new_sandbox(kit.test_credentials(variant))

    def callback(request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return link.exchange(sandbox, request)

    pattern = re.compile(re.escape(kit.test_base_url) + kit.api_path_pattern)
    for method in kit.api_methods:
        wire.add_callback(method, pattern, callback=callback)
    return sandbox
