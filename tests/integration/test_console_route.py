"""GET /console through the template's routes: public, a strict Content-Security-Policy, nothing inline,
fingerprinted assets cached for a year and the page revalidated; the console's words come from the code."""

from __future__ import annotations

import re

from payments.money import CURRENCY_EXPONENTS
from payments.order_search import FLAG_NOTES
from tests.conftest import Stack
from tests.support.lambdas import Api


def header(reply: object, name: str) -> str:
    headers = {key.lower(): value for key, value in reply.headers.items()}  # type: ignore[attr-defined]
    return str(headers[name.lower()])


def test_the_page_is_public_and_its_policy_allows_nothing_inline_or_foreign(api: Api, stack: Stack) -> None:
    page = api.request("GET", "/console", api_key=None)
    assert page.status == 200
    assert header(page, "Content-Type") == "text/html; charset=utf-8"
    assert header(page, "Cache-Control") == "no-cache"
    policy = header(page, "Content-Security-Policy")
    assert "script-src 'self';" in policy
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "http" not in policy  # no other origin
    assert "frame-ancestors 'none'" in policy
    assert header(page, "X-Content-Type-Options") == "nosniff"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.body), "an inline script"
    assert " style=" not in page.body
    assert not re.search(r"<[^>]+\son[a-z]+=", page.body), "an inline event handler"
    assets = re.findall(r'(?:src|href)="(console/[^"]+)"', page.body)
    assert len(assets) == 3
    for path in assets:
        version = path.partition("?v=")[2]
        assert len(version) == 16
        reply = api.request("GET", f"/{path.split('?')[0]}", api_key=None)
        assert reply.status == 200, path
        assert header(reply, "Cache-Control") == "public, max-age=31536000, immutable"
        assert "script-src 'self'" in header(reply, "Content-Security-Policy")


def test_the_console_takes_its_words_from_the_code(api: Api, stack: Stack) -> None:
    words = api.request("GET", "/console/words.js", api_key=None).body
    assert all(flag in words for flag in FLAG_NOTES)
    assert '"JPY": 0' in words
    assert len(CURRENCY_EXPONENTS) > 100


def test_no_other_file_is_served(api: Api, stack: Stack) -> None:
    for name in ("app.py", "..%2Fapp.py", "index.html", "requirements.txt"):
        reply = api.request("GET", f"/console/{name}", api_key=None)
        assert reply.status == 404, name
        assert reply.json()["error"]["code"] == "not_found"
