"""MultiSafepay's test kit: its secret entry and its sandbox, mounted on `responses`."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from local.providers.multisafepay.sandbox import MultiSafepaySandbox
from local.testing import kit_of
from tests.support.link import ProviderLink
from tests.support.providers import mount
from tests.support.secrets import PROVIDER_SECRET

KIT = kit_of("multisafepay")
MSP_API_KEY = KIT.test_credentials().api_key
MSP_BASE_URL = KIT.test_secret_entry()["base_url"]
PROVIDER_SECRET["multisafepay"] = KIT.test_secret_entry()


@pytest.fixture
def msp(stack: Any, wire: responses.RequestsMock, link: ProviderLink) -> MultiSafepaySandbox:
    """The adapter's real HTTP client talks to the sandbox (through `link`, for fault injection)."""
    sandbox: MultiSafepaySandbox = mount(KIT, stack, wire, link)
    return sandbox
