"""Registry of provider adapters, discovered: every package here with an `adapter` module is a
provider, named after its folder (docs/adding-a-provider.md). Adapters are imported on first use,
so a function only pays the import cost (e.g. `cryptography`) of the providers it actually serves."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import cast

from payments.providers.base import ProviderFactory


@cache
def provider_names() -> list[str]:
    """Every provider folder's name, sorted: the one list of providers in the code base."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if info.ispkg)


def provider_class(name: str) -> ProviderFactory:
    if name not in provider_names():
        raise KeyError(name)
    module = importlib.import_module(f"{__name__}.{name}.adapter")
    return cast(ProviderFactory, module.Adapter)
