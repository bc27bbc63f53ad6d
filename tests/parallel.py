"""How pytest-xdist shares the tests between workers (make test: `-n 2`; registered by tests/conftest.py).

Each end-to-end file goes whole to one worker: its module-scoped fixtures (the emulated functions, a
browser) and the session's local stack start once there. Every other test goes on its own, so no big
file (one provider's integration tests alone are a quarter of the suite) keeps one worker busy while
the others wait. Of xdist's own modes, `load` restarts the end-to-end fixtures on every worker and
`loadfile` waits on the biggest file; `loadgroup` would do this, but it renames node ids, which pytest 9
no longer reads.

Tests marked `long_running` (a minute or more alone) are handed out before the other single tests:
started last, one would keep a worker busy after the others had finished.
"""

from __future__ import annotations

from typing import Any

import pytest

WHOLE_FILES_UNDER = "tests/e2e/"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "long_running: a minute or more alone; scheduled first (tests/parallel.py)"
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("long_running") is None)  # stable: order kept


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "load":
        return None  # an explicit --dist other than load is honoured
    from xdist.scheduler import LoadScopeScheduling

    class EndToEndFilesWhole(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.startswith(WHOLE_FILES_UNDER) else nodeid

    return EndToEndFilesWhole(config, log)
