"""The table's key map (the docstring of payments/store/table.py) names every key the stores write:
each key constant of the store package (a key prefix, a partition or sort key, an index) appears in
it. Read from the source, so that a store with a new kind of item and no line in the map fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "layers" / "payments" / "payments" / "store"
KEY_NAME = re.compile(r"_(PREFIX|PK|SK|INDEX)$")


def key_constants(root: Path) -> list[tuple[str, str, str]]:
    """(file, name, value) of every module-level string constant named like a key."""
    found = []
    for path in sorted(root.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and KEY_NAME.search(node.targets[0].id)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found.append((path.name, node.targets[0].id, node.value.value))
    return found


def unmapped(root: Path) -> list[str]:
    key_map = ast.get_docstring(ast.parse((root / "table.py").read_text())) or ""
    constants = key_constants(root)
    return [f"{file}: {name} = {value!r}" for file, name, value in constants if value not in key_map]


def sharded_prefixes(paths: list[Path]) -> list[tuple[str, str]]:
    """(file, prefix) of every key spread over shards: the constant passed to sharded()/every_shard()."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text())
        constants = {
            node.targets[0].id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("sharded", "every_shard")
                and node.args
                and isinstance(node.args[0], ast.Name)
                # a prefix passed on as a parameter is checked where it is named
                and node.args[0].id in constants
            ):
                found.append((path.name, str(constants[node.args[0].id])))
    return found


def test_the_key_map_names_every_key_the_stores_write() -> None:
    assert len(key_constants(STORE)) >= 10  # the rejected attempts and their kept requests included
    assert unmapped(STORE) == []


def test_the_check_finds_a_key_missing_from_the_map(tmp_path: Path) -> None:
    (tmp_path / "table.py").write_text('"""pk = ORDER#<order_id>"""\n')
    (tmp_path / "orders.py").write_text('ORDER_PREFIX = "ORDER#"\nLIMIT = 5\n')
    (tmp_path / "audit.py").write_text('AUDIT_PK = "AUDIT"\n')
    assert unmapped(tmp_path) == ["audit.py: AUDIT_PK = 'AUDIT'"]


def test_the_key_map_shows_every_sharded_key_with_its_shard() -> None:
    key_map = ast.get_docstring(ast.parse((STORE / "table.py").read_text())) or ""
    writers = [*sorted(STORE.glob("*.py")), STORE.parent / "schedule.py"]
    prefixes = sharded_prefixes(writers)
    assert {prefix for _, prefix in prefixes} >= {"DUE", "MERCHANT_EVENTS"}
    assert [(file, prefix) for file, prefix in prefixes if f"{prefix}#<shard" not in key_map] == []
