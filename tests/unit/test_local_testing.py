"""local/testing.py is where test code takes the local stack from: tests, bench/ and events/ import
shared `local` modules through it only (a provider's own modules, in its folder, aside)."""

from __future__ import annotations

import ast

import local.testing
from local.testing import ROOT, kits

USERS = ("tests", "bench", "events")


def imported_from_local() -> set[tuple[str, str, str]]:
    """(file, module, name) for each name imported from a shared local module."""
    own = tuple(f"local.providers.{name}" for name in kits())
    found: set[tuple[str, str, str]] = set()
    for folder in USERS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.ImportFrom) or not node.module:
                    continue
                module = node.module
                if module.startswith("local.") and not module.startswith(own) and module != "local.testing":
                    found |= {(str(path.relative_to(ROOT)), module, alias.name) for alias in node.names}
    return found


def test_tests_take_the_local_stack_from_local_testing_only() -> None:
    """Tests, bench/ and events/ import a shared `local` module's names from local/testing.py, never
    from the module itself: the modules below it can move without touching a test."""
    elsewhere = sorted(f"{file}: {module}.{name}" for file, module, name in imported_from_local())
    assert elsewhere == []


def test_local_testing_lists_what_it_offers() -> None:
    offered = {name for name in vars(local.testing) if not name.startswith("_") and name != "annotations"}
    assert sorted(offered - set(local.testing.__all__)) == []
    assert all(hasattr(local.testing, name) for name in local.testing.__all__)
