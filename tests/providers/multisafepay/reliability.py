"""MultiSafepay in the reliability suite (tests/reliability/kits.py): its forgeries, its faults on
create, our acknowledgement, its refunds reported as the order's cumulative refunded total."""

from __future__ import annotations

import random
from typing import Any

from local.providers.multisafepay.kit import REFUNDED_TOTALS
from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from tests.providers.multisafepay import reliability_forgeries
from tests.reliability.harness import Delivery, Harness
from tests.reliability.kits import LINK_FAULTS, Case, ReliabilityKit


class MultiSafepayReliability(ReliabilityKit):
    name = "multisafepay"
    refunded_totals = REFUNDED_TOTALS
    store_faults = (("create", "transact_write_items"), ("paid notification", "query"))
    race_mixes = {"paid vs failed vs duplicates": {"paid": 15, "failed": 15, "cancelled": 10, "pending": 10}}

    def forgeries(self, harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
        return reliability_forgeries.forgeries(harness, order_id, genuine, rng)

    def acknowledges(self, status: int, body: str) -> bool:
        return (status, body) == (200, "OK")

    def create_faults(self, variant: str) -> list[str]:
        # Its replies carry no signature (TLS is its authenticity): nothing to forge there.
        return [*LINK_FAULTS, "rejected"]

    def break_create(self, sandbox: MultiSafepaySandbox, fault: str, order_id: str) -> None:
        sandbox.api_key = "rotated-key"  # MultiSafepay answers 1032 Invalid API key

    def repair(self, sandbox: MultiSafepaySandbox, fault: str) -> None:
        sandbox.api_key = self.kit.test_credentials().api_key

    def forget_orders(self, sandbox: MultiSafepaySandbox) -> None:
        sandbox.orders.clear()

    def before_refund_race(self, sandbox: Any, order_id: str) -> None:
        sandbox.hold_refunds(order_id)  # its refunds stay pending: what they reserve stays reserved


RELIABILITY = MultiSafepayReliability()
