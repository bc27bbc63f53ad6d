"""What `make dev` prints once ready: a create request a newcomer can paste as it is (only the fields
that provider asks for), and when merchant events show where."""

from __future__ import annotations

import json
import re

import pytest

from local.testing import Ready, banner, kits
from payments.api import parse_create_order
from payments.providers import provider_class
from payments.providers.capabilities import check_capabilities


@pytest.mark.parametrize("provider", sorted(kits()))
def test_the_example_create_asks_only_for_what_its_provider_uses(provider: str) -> None:
    ready = Ready("http://127.0.0.1:3000", "local-key", "in-process", {provider: "http://127.0.0.1:1"}, "")
    text = banner(ready, key_is_fixed=False)
    body = json.loads(re.search(r"-d '(\{.*\})'", text).group(1))  # type: ignore[union-attr]
    request = parse_create_order(json.dumps(body))
    factory = provider_class(provider)
    check_capabilities(request, factory.documented_capabilities, factory.label)
    assert {"return_url", "cancel_url"} & body.keys() == factory.documented_capabilities.payer_urls


def test_it_says_when_get_events_lists_an_event() -> None:
    ready = Ready("http://127.0.0.1:3000", "local-key", "emulator", {sorted(kits())[0]: "http://x"}, "")
    assert "GET /events lists an event once it is two minutes old" in " ".join(
        banner(ready, key_is_fixed=True).split()
    )


def test_it_opens_the_console_with_the_local_key_set() -> None:
    ready = Ready("http://127.0.0.1:3000", "local-key", "in-process", {sorted(kits())[0]: "http://x"}, "")
    assert "http://127.0.0.1:3000/console#key=local-key" in banner(ready, key_is_fixed=False)
