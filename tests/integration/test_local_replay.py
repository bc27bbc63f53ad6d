"""`make replay FILE=…` (local/replay.py): a captured notification sent to the API as the provider
would, and the doctor's verdict printed: accepted, or refused with the code the listing gives."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses
from requests import PreparedRequest

from local.testing import kit_of, replay_verdict
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.providers import ANY_KIT, mount
from tests.support.shop_kit import Shop

API_URL = "http://127.0.0.1:3999"


def test_a_captured_notification_gets_the_doctors_verdict(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink, api: Api
) -> None:
    kit = kit_of(ANY_KIT.name)
    shop = Shop(kit.name, mount(kit, stack, wire, link), api)

    def through_the_api(request: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        reply = api.request(
            request.method or "GET",
            str(request.url).removeprefix(API_URL),
            body=request.body if isinstance(request.body, bytes) else None,
            headers={name: value for name, value in request.headers.items() if name.lower() != "x-api-key"},
            api_key=request.headers.get("x-api-key"),
        )
        return reply.status, dict(reply.headers), reply.body.encode()

    for method in ("GET", "POST"):
        wire.add_callback(method, re.compile(re.escape(API_URL) + ".*"), callback=through_the_api)
    shop.create("rp-1")
    genuine = kit.statement(shop.sandbox, "rp-1", "paid")
    captured: dict[str, Any] = {
        "method": genuine.method,
        "path": f"/notify/{kit.name}",
        "headers": genuine.headers,
        "body": genuine.body.decode(),
        "query": parse_qs(urlsplit(genuine.url).query),
    }
    tampered = {**captured, "body": captured["body"].replace("EUR", "USD", 1)}
    session = requests.Session()
    status, text = replay_verdict(API_URL, api.api_key, tampered, session)
    assert status == 1
    assert "signature_invalid" in text
    status, text = replay_verdict(API_URL, api.api_key, captured, session)
    assert (status, text.split(":")[0]) == (0, "accepted")
    assert shop.read("rp-1")["status"] == "paid"
