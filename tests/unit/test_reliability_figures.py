"""The reliability table adds up the counters of every pytest-xdist worker and fails the run when a row's
requirement is not met (tests/reliability/figures_plugin.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.testing import ROOT
from tests.reliability.report import PROVIDERS, Figures, unmet

# Four tests of 600 fuzz cases each: no single worker reaches the 2,000 the row requires, the sum does.
SUITE = """
import pytest
from tests.reliability.report import FIGURES

@pytest.mark.parametrize("batch", range(4))
def test_batch(batch):
    FIGURES.add("fuzz.cases", {cases})
    FIGURES.add("fuzz.5xx", 0)
"""


def run_suite(tmp_path: Path, cases_per_test: int) -> tuple[int, str, dict[str, object]]:
    (tmp_path / "test_suite.py").write_text(SUITE.format(cases=cases_per_test))
    report = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RELIABILITY_REPORT": str(report)}
    env.pop("REQUIRE_ALL_FIGURES", None)
    command = [sys.executable, "-m", "pytest", "-c", os.devnull, "--rootdir", str(tmp_path)]
    command += ["-p", "no:cacheprovider", "-p", "tests.reliability.figures_plugin"]
    done = subprocess.run(
        [*command, "-n", "2", "--dist", "load", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    figures = json.loads(report.read_text())["counters"] if report.exists() else {}
    return done.returncode, done.stdout, figures


def test_workers_counters_are_added_up_and_the_requirement_checked_on_the_sum(tmp_path: Path) -> None:
    code, out, figures = run_suite(tmp_path, 600)
    assert "2 workers" in out
    assert figures["fuzz.cases"] == 2400
    assert "reliability figures" in out
    assert code == 0, out


def test_a_requirement_not_met_fails_the_run(tmp_path: Path) -> None:
    code, out, figures = run_suite(tmp_path, 400)
    assert figures["fuzz.cases"] == 1600
    assert "4 passed" in out
    assert "reliability requirement not met: fuzz.cases = 1600, required >=2000" in out
    assert code == pytest.ExitCode.TESTS_FAILED


def test_rows_that_never_ran_fail_only_when_all_are_required() -> None:
    figures = Figures()
    figures.merge({"fuzz.cases": 2100, "fuzz.5xx": 0, "fuzz.bad_error_shape": 0})
    assert unmet(figures.as_json(), require_all=False) == []
    missing = unmet(figures.as_json(), require_all=True)
    assert PROVIDERS
    for provider in PROVIDERS:
        assert f"forged.{provider}.tried = not run, required >=200" in missing
    figures.merge({"fuzz.5xx": 1})
    assert unmet(figures.as_json(), require_all=False) == ["fuzz.5xx = 1, required ==0"]
