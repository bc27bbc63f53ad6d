"""Every provider's kit, discovered: each folder here with a `kit` module (its `KIT`) is a provider,
named like its adapter's folder in the layer (docs/adding-a-provider.md)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from local.providers.kit import ProviderKit


@cache
def kits() -> dict[str, ProviderKit[Any, Any]]:
    """name -> kit, sorted by name."""
    found: dict[str, ProviderKit[Any, Any]] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if info.ispkg:
            kit: ProviderKit[Any, Any] = importlib.import_module(f"{__name__}.{info.name}.kit").KIT
            if kit.name != info.name:
                raise ImportError(f"{info.name}/kit.py names itself {kit.name!r}")
            found[kit.name] = kit
    return found


def kit_of(name: str) -> ProviderKit[Any, Any]:
    return kits()[name]
