"""The transition table, exhaustively: every (current, reported) pair has exactly one right answer."""

from __future__ import annotations

import itertools

import pytest

from payments.orders import OrderStatus as S
from payments.orders import Outcome, decide

OPEN = {S.CREATED, S.PENDING, S.UNKNOWN}
UNPAID_FINAL = {S.FAILED, S.CANCELLED, S.EXPIRED}

APPLIED: set[tuple[S, S]] = {
    (S.CREATED, S.PENDING),
    (S.UNKNOWN, S.PENDING),
    (S.CREATED, S.UNKNOWN),
    *((s, S.PAID) for s in OPEN | UNPAID_FINAL),
    *((s, t) for s in OPEN for t in UNPAID_FINAL),
    # Refund statuses follow the refund ledger of a paid order; a refund or chargeback reported for
    # an unpaid order first moves it to paid (tests/unit/test_gate.py), never straight across.
    (S.PAID, S.PARTIALLY_REFUNDED),
    (S.PAID, S.REFUNDED),
    (S.PARTIALLY_REFUNDED, S.REFUNDED),
    (S.PAID, S.CHARGED_BACK),
    (S.PARTIALLY_REFUNDED, S.CHARGED_BACK),
    (S.REFUNDED, S.CHARGED_BACK),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_pair(current: S, target: S) -> None:
    decision = decide(current, target)
    if current == target:
        assert decision.outcome == Outcome.DUPLICATE
    elif (current, target) in APPLIED:
        assert decision.outcome == Outcome.APPLY
    else:
        assert decision.outcome == Outcome.IGNORE
        assert decision.reason


@pytest.mark.parametrize("current", sorted(UNPAID_FINAL))
def test_late_payment_is_applied_and_flagged(current: S) -> None:
    decision = decide(current, S.PAID)
    assert decision.outcome == Outcome.APPLY
    assert decision.flags == ("late_payment",)


def test_paid_never_moves_backwards() -> None:
    for target in (S.PENDING, S.EXPIRED, S.FAILED, S.CANCELLED, S.CREATED, S.UNKNOWN):
        assert decide(S.PAID, target).outcome == Outcome.IGNORE


def test_unknown_report_never_changes_an_order() -> None:
    for current in S:
        assert decide(current, S.UNKNOWN).outcome != Outcome.APPLY or current == S.CREATED
