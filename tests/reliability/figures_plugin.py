"""The reliability figures across pytest-xdist workers (registered by tests/conftest.py, so the controller,
which collects no tests, has it too).

Each worker's tests add to its own `FIGURES`; at the end of its session the worker hands its counters
to the controller (xdist's `workeroutput`, no shared files), which adds them up, checks every row's
requirement, prints the table and writes reliability-report.json. Without xdist, the one process does
all of it. A requirement not met fails the run; with REQUIRE_ALL_FIGURES=1 (make test, make reliability)
so does a required row that never ran.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.reliability.report import FIGURES, REPORT_PATH, render, unmet

WORKER_OUTPUT_KEY = "reliability_figures"
UNMET = pytest.StashKey[list[str]]()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(optionalhook=True)  # an xdist hook: the controller hears that a worker finished
def pytest_testnodedown(node: Any, error: Any) -> None:
    FIGURES.merge(getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY, {}))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if _is_worker(config):
        config.workeroutput[WORKER_OUTPUT_KEY] = dict(FIGURES.counts)  # type: ignore[attr-defined]
        return
    if not FIGURES.counts:
        return
    report = FIGURES.as_json()
    REPORT_PATH.write_text(json.dumps(report, indent=2) + "\n")
    problems = unmet(report, require_all=os.environ.get("REQUIRE_ALL_FIGURES") == "1")
    config.stash[UNMET] = problems
    if problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if _is_worker(config) or not FIGURES.counts:
        return
    terminalreporter.write_sep("=", "reliability figures")
    terminalreporter.write_line(render(FIGURES.as_json()))
    terminalreporter.write_line(f"(written to {REPORT_PATH.name})")
    for problem in config.stash.get(UNMET, []):
        terminalreporter.write_line(f"reliability requirement not met: {problem}", red=True, bold=True)
