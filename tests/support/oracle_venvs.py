"""Each provider's independent oracle (its official SDK) runs in a virtualenv of its own, as a
subprocess: tests/providers/<provider>/oracle/ holds the SDK's requirements.txt and sdk_oracle.py, and
`make` builds .venv-oracle-<provider> from them (one per requirements file found)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
PROVIDER_TESTS = ROOT / "tests" / "providers"


def oracle_folder(provider: str) -> Path:
    return PROVIDER_TESTS / provider / "oracle"


def oracle_python(provider: str) -> Path:
    """The oracle venv's python: fail when `make test` requires it (REQUIRE_ORACLES), skip when run by
    hand without it."""
    python = ROOT / f".venv-oracle-{provider}" / "bin" / "python"
    if not python.exists():
        if os.environ.get("REQUIRE_ORACLES"):
            pytest.fail(f"the {provider} SDK oracle is required but {python} does not exist")
        pytest.skip(f"{provider} SDK oracle venv not built (make test builds it)")
    return python


def run_oracle(provider: str, cases: Any) -> Any:
    """The provider's sdk_oracle.py, run in its venv: `cases` as JSON on stdin, its answer from stdout."""
    result = subprocess.run(
        [str(oracle_python(provider)), str(oracle_folder(provider) / "sdk_oracle.py")],
        input=json.dumps(cases),
        text=True,
        capture_output=True,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout)
