"""Alipay in the reliability suite (tests/reliability/kits.py): its forgeries, its faults on create,
our signed S/F/U envelopes, and where its rules end an order otherwise."""

from __future__ import annotations

import json
import random

from local.providers.alipay_intl.sandbox import AlipayIntlSandbox, raw_members, verify
from tests.providers.alipay_intl import reliability_forgeries
from tests.reliability.harness import Delivery, Harness
from tests.reliability.kits import LINK_FAULTS, Case, ReliabilityKit


class AlipayIntlReliability(ReliabilityKit):
    name = "alipay_intl"
    store_faults = (("paid notification", "transact_write_items"),)
    race_mixes = {"paid vs failed vs duplicates": {"paid": 20, "failed": 20, "unmapped": 10}}
    reconciled_otherwise = {
        # Alipay reports no payer cancel: the cashier stays open to expiry.
        "cancelled by the payer, notification lost": "expired",
        # Alipay's rule for an unclear create: payCancel.
        "create never reached the provider": "cancelled",
    }

    def forgeries(self, harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
        return reliability_forgeries.forgeries(harness, order_id, genuine, rng)

    def refusal(self, body: str) -> tuple[str | None, str | None]:
        """A signed F envelope (no error code of ours in it)."""
        members = raw_members(body)
        merchant_key = self.kit.test_credentials().merchant_key
        assert verify(
            merchant_key.public_key(), members["response"], json.loads(members["signature"]), "SHA256"
        )
        result = json.loads(members["response"])["body"]["resultInfo"]
        return None, None if result["resultStatus"] == "F" else f"acknowledged with {result}"

    def acknowledges(self, status: int, body: str) -> bool:
        return status == 200 and '"resultStatus":"S"' in body

    def asks_for_redelivery(self, body: str) -> bool:
        # Alipay's own "retry later": a signed U envelope (a JSON error would not be read as one).
        return '"resultStatus":"U"' in body

    def create_faults(self, variant: str) -> list[str]:
        return [*LINK_FAULTS, "unsigned", "bad_signature", "rejected"]

    def break_create(self, sandbox: AlipayIntlSandbox, fault: str, order_id: str) -> None:
        if fault == "rejected":
            sandbox.force("PROCESS_FAIL", processed=False)
        else:
            sandbox.reply_faults.append(fault)

    def forget_orders(self, sandbox: AlipayIntlSandbox) -> None:
        sandbox.orders.clear()


RELIABILITY = AlipayIntlReliability()
