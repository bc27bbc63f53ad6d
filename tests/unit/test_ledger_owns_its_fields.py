"""The refund ledger owns its arithmetic: only its verbs (payments/ledger.py) change an order's
refunded and reserved totals, only the plan (payments/engine.py) counts reconciliation's checks, and
only the store package reads them from or writes them to the table. Read from the source, so that a new
`order.refunded_value += …` anywhere else fails here."""

from __future__ import annotations

import ast
from pathlib import Path

LAYER = Path(__file__).resolve().parents[2] / "layers" / "payments" / "payments"
FIELDS = {"refunded_value": "ledger.py", "reserved_value": "ledger.py", "checks": "engine.py"}
STORE = "store"  # the package whose items carry Order and Refund to and from the table


def assignments(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, field) of every assignment to one of FIELDS: `x.field = …`, `x.field += …`, and
    `replace(x, field=…)`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            attributes = [t for t in targets if isinstance(t, ast.Attribute)]
            found += [(node.lineno, t.attr) for t in attributes if t.attr in FIELDS]
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "replace":
            found += [(node.lineno, k.arg) for k in node.keywords if k.arg in FIELDS]
    return found


def misplaced(root: Path) -> list[str]:
    wrong = []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root)
        for line, field in assignments(ast.parse(path.read_text())):
            if where.as_posix() != FIELDS[field] and where.parts[0] != STORE:
                wrong.append(f"{where}:{line}: assigns {field}")
    return wrong


def test_only_the_ledger_changes_the_totals_and_only_the_plan_counts_checks() -> None:
    assert misplaced(LAYER) == []


def test_the_check_finds_an_assignment_outside_the_ledger(tmp_path: Path) -> None:
    (tmp_path / "gate.py").write_text(
        "def f(order, r):\n"
        "    order.refunded_value += 1\n"
        "    order.checks = 2\n"
        "    replace(r, reserved_value=0)\n"
    )
    (tmp_path / "ledger.py").write_text("def g(order):\n    order.reserved_value -= 1\n")
    (tmp_path / "store").mkdir()  # the store package carries the fields to and from the table
    (tmp_path / "store" / "orders.py").write_text("def h(order):\n    replace(order, checks=1)\n")
    assert misplaced(tmp_path) == [
        "gate.py:2: assigns refunded_value",
        "gate.py:3: assigns checks",
        "gate.py:4: assigns reserved_value",
    ]
