"""GET /orders' query checks, below the handler: the flags it knows are the flags the code sets, and
times with an offset are compared as the store writes them (UTC)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from payments.errors import ValidationFailed
from payments.order_search import FLAG_NOTES, parse_filters

LAYER = Path(__file__).resolve().parents[2] / "layers" / "payments" / "payments"


def flags_set_in(root: Path) -> set[str]:
    """String flags the code sets: `plan.flag("x", …)`, `_ensure_paid(plan, "x", …)`, `flags=("x",)`."""
    found: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            strings = [
                arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ]
            if name == "flag" and strings:
                found.add(strings[0])
            if name == "_ensure_paid" and strings:
                found.add(strings[0])
            for keyword in node.keywords:
                if keyword.arg == "flags" and isinstance(keyword.value, ast.Tuple):
                    found |= {
                        item.value
                        for item in keyword.value.elts
                        if isinstance(item, ast.Constant) and isinstance(item.value, str)
                    }
    return found


def test_every_flag_the_code_sets_is_explained_and_filterable() -> None:
    flags = flags_set_in(LAYER)
    assert {"needs_attention", "late_payment", "amount_mismatch"} <= flags
    assert flags - set(FLAG_NOTES) == set()


def test_the_check_finds_a_flag_without_a_note(tmp_path: Path) -> None:
    (tmp_path / "gate.py").write_text('plan.flag("brand_new", event_type="x", reason="y")\n')
    assert flags_set_in(tmp_path) - set(FLAG_NOTES) == {"brand_new"}


def test_times_with_an_offset_are_compared_in_utc() -> None:
    filters, _, _, _ = parse_filters(
        {"created_from": "2026-11-01T10:04:00+01:00", "created_to": "2026-11-02T00:00:00Z"}
    )
    assert filters.created_from == "2026-11-01T09:04:00.000000Z"
    assert filters.created_to == "2026-11-02T00:00:00.000000Z"


@pytest.mark.parametrize("text", ["2026-11-01T10:00:00.000000Z#", "2026-11-01T10:00:00Z#o-1", "#o-1", "o-1"])
def test_a_cursor_must_be_one_the_list_gave(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_filters({"after": text})
    assert refused.value.field == "after"


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-10:00", "0999-01-01T00:00:00Z"]
)
def test_a_time_out_of_range_is_a_422_not_a_crash(text: str) -> None:
    # Found by the fuzzer: 0001-01-01T00:00:00+14:00 in UTC is before year 1 (OverflowError, a 500).
    with pytest.raises(ValidationFailed) as refused:
        parse_filters({"created_from": text})
    assert refused.value.field == "created_from"
