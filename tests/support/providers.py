"""The registered providers as generic tests reach them: by their kits (local/providers/<name>/kit.py),
never by name.

- `ANY_PROVIDER`, `ANOTHER_PROVIDER`: for tests where which provider it is makes no difference (the
  store, the engine, the gate with a stored order); where behaviour could differ, parametrise instead.
- `mount`: one provider's sandbox on the test's `wire`, the secret set to the same credentials.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
import responses
from requests import PreparedRequest

from local.testing import ProviderKit, kits
from payments.providers import provider_class
from payments.providers.capabilities import Capabilities
from tests.support.link import ProviderLink
from tests.support.secrets import PROVIDER_SECRET

type Kit = ProviderKit[Any, Any]

ANY_KIT: Kit = next(iter(kits().values()))
ANY_PROVIDER: str = ANY_KIT.name
# A second name for "an order of one provider, a statement from another": any registered one will do.
ANOTHER_PROVIDER: str = next((name for name in kits() if name != ANY_PROVIDER), f"not-{ANY_PROVIDER}")


def capabilities_with(**changes: Any) -> Capabilities:
    """A registered provider's capabilities record with `changes`: what a scripted provider in a flow's
    test says of itself."""
    return replace(provider_class(ANY_PROVIDER).documented_capabilities, **changes)


def label(name: str, variant: str) -> str:
    """A provider and one of its kit's variants, for test ids: `name` alone, or `name-variant`."""
    return f"{name}-{variant}" if variant else name


def provider_variants() -> list[Any]:
    """pytest params: every registered provider with each of its kit's variants, as (name, variant)."""
    return [
        pytest.param((name, variant), id=label(name, variant))
        for name, kit in kits().items()
        for variant in kit.variants
    ]


def mount(kit: Kit, stack: Any, wire: responses.RequestsMock, link: ProviderLink, variant: str = "") -> Any:
    """A sandbox of `kit` knowing the run's credentials for `variant`, answering the adapter's real HTTP
    client on `wire` (through `link`, for fault injection); the secret names the same credentials."""
    sandbox = kit.new_sandbox(kit.test_credentials(variant))
    if len(kit.variants) > 1:  # the stack may hold another variant's entry: set this one's
        stack.put_secret({**PROVIDER_SECRET, kit.name: kit.test_secret_entry(variant)})

    def callback(request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return link.exchange(sandbox, request)

    api = re.compile(re.escape(kit.test_base_url) + kit.api_path_pattern)
    for method in kit.api_methods:
        wire.add_callback(method, api, callback=callback)
    return sandbox
