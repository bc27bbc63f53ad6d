"""The bench's targets read a row's usual calls, and allow the doctor's mark beside them only."""

from __future__ import annotations

from typing import Any

from bench.report import _target

DUPLICATE = "POST /notify (duplicate) [any-provider]"  # its check is the same for every one


def row(sequence: str, others: dict[str, int], writes: float) -> dict[str, Any]:
    return {"sequence": sequence, "other_sequences": others, "dynamodb_reads": 1.0, "dynamodb_writes": writes}


def test_a_duplicate_that_also_wrote_the_doctors_mark_wrote_nothing_of_its_own() -> None:
    assert _target(DUPLICATE, row("Q", {"Q Put": 1}, 0.001)).endswith("ok")


def test_a_duplicate_that_wrote_anything_else_misses() -> None:
    assert "MISSED" in _target(DUPLICATE, row("Q", {"Q Tx": 1}, 0.001))
    assert "MISSED" in _target(DUPLICATE, row("Q", {"Q Put Put": 1}, 0.002))
    assert "MISSED" in _target(DUPLICATE, row("Q Tx", {}, 1.0))
