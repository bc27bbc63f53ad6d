"""Antom in the reliability suite (tests/reliability/kits.py): its forgeries, its faults on create, our
acknowledgement, and where its rules end an order otherwise."""

from __future__ import annotations

import random

from local.providers.antom.sandbox import ACK, AntomSandbox
from tests.providers.antom import reliability_forgeries
from tests.reliability.harness import Delivery, Harness
from tests.reliability.kits import LINK_FAULTS, Case, ReliabilityKit


class AntomReliability(ReliabilityKit):
    name = "antom"
    race_mixes = {"paid vs failed vs duplicates": {"paid": 20, "failed": 20, "unmapped": 10}}
    reconciled_otherwise = {
        # Antom reports no payer who leaves the cashier: the payment stays payable until it expires.
        "cancelled by the payer, notification lost": "expired",
    }

    def forgeries(self, harness: Harness, order_id: str, genuine: Delivery, rng: random.Random) -> list[Case]:
        return reliability_forgeries.forgeries(harness, order_id, genuine, rng)

    def acknowledges(self, status: int, body: str) -> bool:
        return status == 200 and body.encode() == ACK

    def create_faults(self, variant: str) -> list[str]:
        return [*LINK_FAULTS, "unsigned", "bad_signature", "rejected"]

    def break_create(self, sandbox: AntomSandbox, fault: str, order_id: str) -> None:
        if fault == "rejected":
            sandbox.force("F:RISK_REJECT")
        else:
            sandbox.reply_faults.append(fault)

    def forget_orders(self, sandbox: AntomSandbox) -> None:
        sandbox.payments.clear()
        sandbox.refund_records.clear()


RELIABILITY = AntomReliability()
