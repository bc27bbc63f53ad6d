"""payments/coldstart.py's deferred package init, on a package made here: its submodules and the names
its __init__ re-exports come without running the __init__; any other name runs it, once."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from payments.coldstart import defer_package_init

INIT = """
import os
from deferred_pkg.heavy import Heavy
from .light import Light as Renamed
RUNS = int(os.environ.get("DEFERRED_PKG_RUNS", "0")) + 1
os.environ["DEFERRED_PKG_RUNS"] = str(RUNS)
LOCAL = "defined by the __init__ itself"
"""


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    root = tmp_path / "deferred_pkg"
    root.mkdir()
    (root / "__init__.py").write_text(INIT)
    (root / "heavy.py").write_text("class Heavy: ...\n")
    (root / "light.py").write_text("class Light: ...\n")
    (root / "other.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("DEFERRED_PKG_RUNS", raising=False)
    yield "deferred_pkg"
    for name in [module for module in sys.modules if module.split(".")[0] == "deferred_pkg"]:
        del sys.modules[name]


def test_submodules_and_reexported_names_come_without_the_init(package: str) -> None:
    defer_package_init(package)
    from deferred_pkg import Renamed, other  # type: ignore[import-not-found]
    from deferred_pkg.light import Light  # type: ignore[import-not-found]

    assert Renamed is Light
    assert vars(sys.modules[package])["Renamed"] is Light  # kept, as the __init__ would have
    assert other.VALUE == 1
    assert "deferred_pkg.heavy" not in sys.modules  # only what was asked for
    assert "DEFERRED_PKG_RUNS" not in __import__("os").environ


def test_any_other_name_runs_the_init_once_into_the_same_module(package: str) -> None:
    defer_package_init(package)
    module = importlib.import_module(package)
    assert module.LOCAL == "defined by the __init__ itself"
    assert module.RUNS == 1
    from deferred_pkg import LOCAL, Heavy

    assert module.RUNS == 1
    assert module.LOCAL == LOCAL
    assert Heavy is sys.modules["deferred_pkg.heavy"].Heavy
    assert sys.modules[package] is module
    with pytest.raises(ImportError):
        from deferred_pkg import nothing_by_this_name  # noqa: F401


def test_an_imported_package_is_left_as_it_is(package: str) -> None:
    module = importlib.import_module(package)
    defer_package_init(package)
    assert sys.modules[package] is module
    assert module.RUNS == 1
