"""The demo shop's "Notifications refused" page (local/shop.py, local/shop_server.py): the API's
refusals with their code and explanation, and a Replay button whose verdict the page shows."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import responses

from local.testing import DemoShop, Reply, kit_of
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.providers import ANY_KIT, mount
from tests.support.shop_kit import Shop


def test_the_refused_page_lists_refusals_and_replays_one(
    stack: Stack, wire: responses.RequestsMock, link: ProviderLink, api: Api
) -> None:
    kit = kit_of(ANY_KIT.name)
    shop = Shop(kit.name, mount(kit, stack, wire, link), api)

    def call(method: str, target: str, headers: list[tuple[str, str]], body: bytes | None) -> Reply:
        parts = urlsplit(target)
        return api.router.answer(method, parts.path, parse_qsl(parts.query), headers, body)

    demo = DemoShop(call, api.api_key, "http://127.0.0.1:3000", lambda _: None)
    status, _, page = demo.route("GET", "/shop/refused", [], b"") or (0, {}, b"")
    assert status == 200
    assert b'id="none-refused"' in page
    shop.create("sr-1")
    credentials = kit.test_credentials()
    sent = kit.broken(credentials, shop.sandbox, "sr-1", "unsigned")
    api.request(sent.method, sent.url, body=sent.body, headers=sent.headers, api_key=None)
    status, _, page = demo.route("GET", "/shop/refused", [], b"") or (0, {}, b"")
    assert b"<code>unsigned</code>" in page
    assert b"Replay</button>" in page
    [attempt] = [entry["id"] for entry in api.request("GET", "/notifications/rejected").json()["rejected"]]
    form = urlencode({"id": attempt}).encode()
    status, _, page = demo.route("POST", "/shop/refused/replay", [], form) or (0, {}, b"")
    assert status == 200
    assert b'id="replayed"' in page
    assert b"Refused again" in page
    assert shop.read("sr-1")["status"] == "pending"
