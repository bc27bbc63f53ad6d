"""Registry of provider adapters, discovered: every package here with an `adapter` module is a
provider, named after its folder (docs/adding-a-provider.md; the names: payments/provider_names.py).
Adapters are imported on first use, so a function only pays the import cost (e.g. `cryptography`) of
the providers it actually serves."""

from __future__ import annotations

import importlib
from typing import cast

from payments.provider_names import provider_names
from payments.providers.base import ProviderFactory

__all__ = ["provider_class", "provider_names"]


def provider_class(name: str) -> ProviderFactory:
    if name not in provider_names():
        raise KeyError(name)
    module = importlib.import_module(f"{__name__}.{name}.adapter")
    return cast(ProviderFactory, module.Adapter)
