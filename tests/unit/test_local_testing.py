"""local/testing.py offers everything test code takes from the local stack: whatever tests, bench/ or
events/ import from a shared `local` module is in its `__all__` (a provider's own modules aside)."""

from __future__ import annotations

import ast

import local.testing
from local.providers import kits
from local.template import ROOT

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


def test_local_testing_offers_every_name_tests_import_from_local() -> None:
    missing = sorted(
        f"{file}: {module}.{name}"
        for file, module, name in imported_from_local()
        if name not in local.testing.__all__
    )
    assert missing == []
