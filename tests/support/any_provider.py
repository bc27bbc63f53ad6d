"""One provider standing in for all of them, where a test is about our API and the provider does not
matter (validation, idempotency, the store): the first kit the registry discovers, and its sandbox on
the wire, reached only through the kit (local/providers/kit.py)."""

from __future__ import annotations

import re
from typing import Any

import responses
from requests import PreparedRequest

from local.providers import kits
from local.providers.kit import ProviderKit
from tests.support.link import ProviderLink
from tests.support.secrets import PROVIDER_SECRET

ANY_KIT: ProviderKit[Any, Any] = next(iter(kits().values()))
ANY_PROVIDER: str = ANY_KIT.name


def mount_sandbox(
    kit: ProviderKit[Any, Any],
    stack: Any,
    wire: responses.RequestsMock,
    link: ProviderLink,
    variant: str = "",
) -> Any:
    """`kit`'s sandbox, knowing the test run's credentials for `variant`, answering the adapter's real
    HTTP client on `wire` (through `link`, for fault injection); the stack's secret set to match."""
    sandbox = kit.new_sandbox(kit.test_credentials(variant))
    stack.put_secret({**PROVIDER_SECRET, kit.name: kit.test_secret_entry(variant)})

    def callback(request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return link.exchange(sandbox, request)

    api_paths = re.compile(re.escape(kit.test_base_url) + kit.api_path_pattern)
    for method in kit.api_methods:
        wire.add_callback(method, api_paths, callback=callback)
    return sandbox
