"""Which providers there are: every package in payments/providers/ is one, named after its folder
(docs/adding-a-provider.md). Read from the folder, not imported: the request model (payments/api.py)
names the providers, and the providers' code imports the request model."""

from __future__ import annotations

import pkgutil
from functools import cache
from pathlib import Path

PROVIDERS = Path(__file__).resolve().parent / "providers"


@cache
def provider_names() -> list[str]:
    """Every provider folder's name, sorted: the one list of providers in the code base."""
    return sorted(info.name for info in pkgutil.iter_modules([str(PROVIDERS)]) if info.ispkg)
