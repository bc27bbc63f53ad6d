"""Registry of provider adapters. Modules are imported on first use, so a function only pays
the import cost (e.g. `cryptography`) of the providers it actually serves."""

from __future__ import annotations

import importlib
from typing import cast

from payments.providers.base import ProviderFactory

# provider name -> "module:class". The one list of providers in the code base.
REGISTRY: dict[str, str] = {
    "multisafepay": "payments.providers.multisafepay:MultiSafepay",
    "useepay": "payments.providers.useepay:UseePay",
    "alipay_intl": "payments.providers.alipay_intl:AlipayIntl",
}


def provider_names() -> list[str]:
    return sorted(REGISTRY)


def provider_class(name: str) -> ProviderFactory:
    module_name, class_name = REGISTRY[name].split(":")
    return cast(ProviderFactory, getattr(importlib.import_module(module_name), class_name))
