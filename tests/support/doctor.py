"""A provider (a variant of its kit) behind the real handlers, for the doctor's tests: deliver what the
provider sends, read the refused notifications, replay one, read the diagnostics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import responses

from local.testing import SignedNotification, kit_of
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.providers import Kit, mount, provider_variants
from tests.support.shop_kit import Shop

STAGE_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"  # the in-process API's (local/apigw.py)


@dataclass
class Party:
    kit: Kit
    variant: str
    shop: Shop
    stack: Stack

    @property
    def api(self) -> Api:
        return self.shop.api

    def deliver(self, sent: SignedNotification) -> Any:
        return self.api.request(sent.method, sent.url, body=sent.body, headers=sent.headers, api_key=None)

    def listed(self, **query: str) -> dict[str, Any]:
        text = "&".join(f"{name}={value}" for name, value in {"provider": self.kit.name, **query}.items())
        reply = self.api.request("GET", f"/notifications/rejected?{text}")
        assert reply.status == 200, reply.body
        return reply.json()  # type: ignore[no-any-return]

    def replay(self, attempt_id: str) -> dict[str, Any]:
        reply = self.api.request("POST", f"/notifications/rejected/{attempt_id}/replay")
        assert reply.status == 200, reply.body
        return reply.json()  # type: ignore[no-any-return]

    def diagnostics(self) -> dict[str, Any]:
        """This provider's checks in GET /diagnostics, by check name."""
        reply = self.api.request("GET", "/diagnostics")
        assert reply.status == 200, reply.body
        return {check["check"]: check for check in reply.json()["providers"][self.kit.name]}


@pytest.fixture(params=provider_variants())
def party(
    request: pytest.FixtureRequest, stack: Stack, wire: responses.RequestsMock, link: ProviderLink, api: Api
) -> Party:
    name, variant = request.param
    kit = kit_of(name)
    return Party(kit, variant, Shop(name, mount(kit, stack, wire, link, variant), api), stack)
