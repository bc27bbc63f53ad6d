"""Independent oracles (official SDKs) run in virtualenvs of their own, as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ORACLES = Path(__file__).resolve().parent.parent / "oracles"


def oracle_python(env_var: str, default: str, what: str) -> str:
    """The oracle venv's python: fail when `make test` requires it, skip when run by hand without it."""
    python = os.environ.get(env_var, default)
    if not Path(python).exists():
        if os.environ.get("REQUIRE_ORACLES"):
            pytest.fail(f"the {what} oracle is required but {python} does not exist")
        pytest.skip(f"{what} oracle venv not built (make test builds it)")
    return python


def run_oracle(python: str, script: str, cases: Any) -> Any:
    result = subprocess.run(
        [python, str(ORACLES / script)],
        input=json.dumps(cases),
        text=True,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)
