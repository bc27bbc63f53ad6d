"""UseePay in the reliability suite (tests/reliability/kits.py): its forgeries (per sign type), its
faults on create, our acknowledgement, its refunds reported by events of their own."""

from __future__ import annotations

import random

from local.providers.useepay.sandbox import UseePaySandbox
from tests.providers.useepay import reliability_forgeries
from tests.reliability.harness import Delivery, Harness
from tests.reliability.kits import LINK_FAULTS, Case, ReliabilityKit


class UseePayReliability(ReliabilityKit):
    name = "useepay"
    store_faults = (("refund", "transact_write_items"),)
    race_mixes = {
        "paid vs failed vs duplicates": {"paid": 15, "failed": 15, "expired": 10, "pending": 10},
        "unpaid outcomes contest": {"failed": 17, "cancelled": 17, "expired": 16},
    }

    def forgeries(self, harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
        return reliability_forgeries.forgeries(harness, order_id, genuine, rng)

    def acknowledges(self, status: int, body: str) -> bool:
        return (status, body) == (200, "ok")

    def create_faults(self, variant: str) -> list[str]:
        if variant == "RSA":  # the link's faults and a refusal do not depend on the sign type: MD5 has them
            return ["unsigned", "bad_signature"]
        return [*LINK_FAULTS, "unsigned", "bad_signature", "rejected"]

    def break_create(self, sandbox: UseePaySandbox, fault: str, order_id: str) -> None:
        if fault == "unsigned":
            sandbox.sign_replies = False
        elif fault == "bad_signature" and sandbox.sign_type == "RSA":
            sandbox.useepay_private_key = self.kit.test_credentials("RSA").merchant_key  # not UseePay's
        elif fault == "bad_signature":
            sandbox.md5_key = "not-the-merchants-key"
        else:
            sandbox.transactions[order_id] = {"reference": "taken"}  # UseePay refuses the id

    def repair(self, sandbox: UseePaySandbox, fault: str) -> None:
        credentials = self.kit.test_credentials(sandbox.sign_type)
        sandbox.sign_replies = True
        sandbox.md5_key = credentials.md5_key if sandbox.sign_type == "MD5" else ""
        sandbox.useepay_private_key = credentials.useepay_key if sandbox.sign_type == "RSA" else None

    def forget_orders(self, sandbox: UseePaySandbox) -> None:
        sandbox.transactions.clear()


RELIABILITY = UseePayReliability()
