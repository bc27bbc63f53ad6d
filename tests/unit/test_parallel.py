"""pytest-xdist's work units (tests/parallel.py): each end-to-end file whole, every other test alone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.parallel import pytest_xdist_make_scheduler


class Config:
    """The run's configuration, as it would be with `-n 3` (and with another --dist)."""

    def __init__(self, real: pytest.Config, dist: str) -> None:
        self.real, self.dist = real, dist

    def getvalue(self, name: str) -> Any:
        return {"dist": self.dist, "tx": ["3*popen"]}.get(name) or self.real.getvalue(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_end_to_end_files_go_whole_and_other_tests_alone(pytestconfig: pytest.Config) -> None:
    scheduler = pytest_xdist_make_scheduler(Config(pytestconfig, "load"), None)  # type: ignore[arg-type]
    scope = scheduler._split_scope
    assert scope("tests/e2e/test_emulator.py::test_built_functions_take_a_payment[provider]") == (
        "tests/e2e/test_emulator.py"
    )
    assert scope("tests/e2e/test_browser.py::test_shop[x]") == scope(
        "tests/e2e/test_browser.py::test_shop[y]"
    )
    one = "tests/integration/test_provider.py::test_create_web[variant]"
    assert scope(one) == one


def test_another_dist_mode_is_left_to_xdist(pytestconfig: pytest.Config) -> None:
    assert pytest_xdist_make_scheduler(Config(pytestconfig, "loadfile"), None) is None  # type: ignore[arg-type]
