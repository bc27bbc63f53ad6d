"""The providers as the benchmarks see them: each kit (local/providers/<name>/kit.py) in each of its
variants, and, in bench/providers/<name>/, what is particular to one provider (its official SDK's
timing, compared with ours: sdk_comparison.py, and sdk_timing.py, run in its oracle's virtualenv)."""

from __future__ import annotations

import importlib
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.testing import ProviderKit, kits


@dataclass(frozen=True)
class ProviderCase:
    """A provider in one of its configurations (its kit's variants, e.g. a sign type): a set of rows."""

    kit: ProviderKit[Any, Any]
    variant: str

    @property
    def label(self) -> str:
        """The rows' label: the provider's name, with the variant when it has several."""
        return f"{self.kit.name}-{self.variant}" if len(self.kit.variants) > 1 else self.kit.name

    @property
    def notify_cpu_target_ms(self) -> float | None:
        return self.kit.notify_cpu_target_ms.get(self.variant)


def provider_cases() -> list[ProviderCase]:
    """Every provider (discovered: its kit) in each of its variants."""
    return [ProviderCase(kit, variant) for kit in kits().values() for variant in kit.variants]


def first_variants() -> list[ProviderCase]:
    """Every provider, in its first variant only."""
    return [ProviderCase(kit, kit.variants[0]) for kit in kits().values()]


# -- side by side with the official SDKs ------------------------------------------------------------
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def sdk_comparisons(n: int) -> dict[str, Any]:
    """Every bench/providers/<name>/sdk_comparison.py's rows: {row: {ours_us, sdk_us, sdk_over_ours,
    note}}, each measuring `n` calls."""
    rows: dict[str, Any] = {}
    for name in kits():
        if (HERE / name / "sdk_comparison.py").exists():
            rows.update(importlib.import_module(f"{__name__}.{name}.sdk_comparison").compare(n))
    return rows


def sdk_timing(provider: str, case: dict[str, Any]) -> float | None:
    """µs per call of the provider's official SDK, by bench/providers/<provider>/sdk_timing.py in the
    provider's oracle virtualenv (make: .venv-oracle-<provider>); None when that is not built."""
    python = ROOT / f".venv-oracle-{provider}" / "bin" / "python"
    if not python.exists():
        return None
    out = subprocess.run(
        [str(python), str(HERE / provider / "sdk_timing.py")],
        input=json.dumps(case),
        text=True,
        capture_output=True,
        check=True,
        timeout=300,
    )
    return float(json.loads(out.stdout)["us_per_call"])


def ratio(theirs: float | None, ours: float) -> float | None:
    return None if theirs is None else theirs / ours
