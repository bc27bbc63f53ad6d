"""6. Bad merchant input: docs/openapi.json is generated from the code (and fails here when stale); the
merchant API is fuzzed through the real handlers with requests generated from that document and
mutated (wrong types, missing and unknown fields, boundary numbers, markup and control characters,
non-JSON, non-UTF-8, repeated keys, nesting bombs, a body over 1 MB). Zero 5xx; every 4xx in the
documented error shape, every 422's messages in the project's words (none of pydantic's); every 2xx in
the documented order shape; a refused request stores nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import boto3
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docs.openapi import DOC_PATH, ROOT, render
from local.testing import Reply, kits
from payments.orders import ORDER_ID_RE
from payments.store.order_items import order_key
from tests.conftest import Stack
from tests.reliability.harness import use_fresh_table
from tests.reliability.kits import reliability_kit
from tests.reliability.report import FIGURES
from tests.support.lambdas import Api
from tests.support.messages import pydantic_phrases_in
from tests.support.orders import order_body

DOC: dict[str, Any] = json.loads(DOC_PATH.read_text())
PROVIDERS = list(kits())
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]
FUZZ_CASES = 2050
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=30),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "<script>alert(1)</script>",
        "a\x00b",
        "\u202e",
        "\U0001d518\U0001d52b\U0001d526",
        "x" * 5000,
        "'; DROP TABLE",
        "\ud7ff",
        "\n",
    ]
)
URLS = st.sampled_from(
    [
        "https://shop.example.com/return",
        "http://localhost:8000/done",
        "http://shop.example.com/insecure",
        "javascript:alert(1)",
        "https://",
        "https://exa mple.com",
        "ftp://example.com/x",
        "https://[::1]:99999/",
    ]
)
HINTS: dict[str, st.SearchStrategy[Any]] = {
    # Steer part of the traffic to requests that pass validation and reach the providers.
    "currency": st.sampled_from(["EUR", "USD"])
    | st.sampled_from(SCHEMAS["AmountIn"]["properties"]["currency"]["enum"]),
    "return_url": URLS,
    "cancel_url": URLS,
    "ip_address": st.sampled_from(["203.0.113.7", "2001:db8::1", "999.1.1.1", "localhost"])
    | st.text(max_size=15),
    "value": st.sampled_from([1, 1000, 2**31, 2**53 - 1]) | st.integers(min_value=1, max_value=2**53 - 1),
}


def from_schema(schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
    """Values for a JSON schema of the document (the subset pydantic and we emit)."""
    if name in HINTS:
        return HINTS[name] | _plain(schema, name)
    return _plain(schema, name)


def _plain(schema: dict[str, Any], name: str) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        target = schema["$ref"].rsplit("/", 1)[-1]
        return st.deferred(lambda: from_schema(SCHEMAS[target], name))
    if "anyOf" in schema:
        return st.one_of([from_schema(option, name) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low = schema.get(
            "minimum", schema.get("exclusiveMinimum", -(2**60)) + (1 if "exclusiveMinimum" in schema else 0)
        )
        return st.integers(min_value=low, max_value=schema.get("maximum", 2**60))
    if kind == "string":
        low, high = schema.get("minLength", 0), min(schema.get("maxLength", 60), 300)
        if "pattern" in schema:
            return _pattern(schema["pattern"], low, high)
        return st.text(min_size=low, max_size=high)
    if kind == "array":
        return st.lists(from_schema(schema["items"]), max_size=min(schema.get("maxItems", 4), 4))
    if kind == "object":
        properties = schema.get("properties", {})
        if not properties and isinstance(schema.get("additionalProperties"), dict):
            return st.dictionaries(
                st.from_regex(r"[A-Za-z0-9_.:-]{1,40}", fullmatch=True) | st.text(max_size=45),
                from_schema(schema["additionalProperties"]),
                max_size=min(schema.get("maxProperties", 5), 5) + 1,
            )
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {key: from_schema(value, key) for key, value in properties.items() if key in required},
            optional={
                key: from_schema(value, key) for key, value in properties.items() if key not in required
            },
        )
    return JSON_VALUES


_SIMPLE_PATTERN = re.compile(r"\^\[([^\]]+)\]\{(\d+),(\d+)\}\$")


def _pattern(pattern: str, low: int, high: int) -> st.SearchStrategy[str]:
    """`^[class]{m,n}$` as plain text of that alphabet (much faster than from_regex); else from_regex."""
    simple = _SIMPLE_PATTERN.fullmatch(pattern)
    if simple:
        chars = simple.group(1)
        alphabet = "".join(chr(code) for code in range(32, 127) if re.fullmatch(f"[{chars}]", chr(code)))
        return st.text(
            alphabet=alphabet,
            min_size=max(low, int(simple.group(2))),
            max_size=min(high, int(simple.group(3))),
        )
    return st.from_regex(pattern, fullmatch=True).filter(lambda text: low <= len(text) <= high)


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any]) -> Any:
    """One change to a document-shaped body, somewhere in it."""
    target: Any = body
    path: list[Any] = []
    while isinstance(target, dict | list) and target and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(target) if isinstance(target, dict) else range(len(target))))
        path.append(key)
        target = target[key]
    parent: Any = body
    for key in path[:-1]:
        parent = parent[key]
    how = draw(st.sampled_from(["drop", "unknown", "wrong type", "nasty text", "boundary", "null"]))
    if not path or how == "unknown":
        container = parent if isinstance(parent, dict) else body
        container[draw(st.text(min_size=1, max_size=12))] = draw(JSON_VALUES)
        return body
    key = path[-1]
    if how == "drop" and isinstance(parent, dict):
        del parent[key]
    elif how == "nasty text":
        parent[key] = draw(NASTY_TEXT)
    elif how == "boundary":
        parent[key] = draw(
            st.sampled_from([0, -1, 2**53, 2**63, 10**400 // 10**300, 1.5, 1e308, True, "1000"])
        )
    elif how == "null":
        parent[key] = None
    else:
        parent[key] = draw(JSON_VALUES)
    return body


RAW_BODIES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.sampled_from(
        [
            b"",
            b"null",
            b"[]",
            b'"order"',
            b"{",
            b'{"order_id": "a", "order_id": "b"}',
            b'{"amount": {"value": 1, "value": 100000, "currency": "EUR"}}',
            b"\xff\xfe{}",
            b"[" * 100_000,
            b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
            b'{"metadata": ' + b"[" * 3_000 + b"]" * 3_000 + b"}",
            b'{"order_id": "' + b"x" * (1024 * 1024) + b'"}',
            b'{"amount": {"value": 1e999, "currency": "EUR"}}',
            b'{"amount": {"value": ' + b"9" * 5000 + b', "currency": "EUR"}}',
        ]
    ),
)
CREATE_BODIES = from_schema(SCHEMAS["CreateOrderRequest"])
ORDER_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
PLAIN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,-茶具", min_size=1, max_size=60
)


@st.composite
def well_formed(draw: st.DrawFn) -> dict[str, Any]:
    """A request a careful merchant would send: most of these pass, and reach a provider sandbox."""
    provider = draw(st.sampled_from(PROVIDERS))
    body: dict[str, Any] = {
        "order_id": draw(st.text(alphabet=ORDER_ID_CHARS, min_size=8, max_size=50)),
        "provider": provider,
        "amount": {"value": draw(st.integers(1, 10**7)), "currency": draw(st.sampled_from(["EUR", "USD"]))},
        "description": draw(PLAIN.map(lambda text: text.strip() or "Tea")),
        "return_url": "https://shop.example.com/return",
        "cancel_url": "https://shop.example.com/cancel",
        "customer": {"ip_address": draw(st.sampled_from(["203.0.113.7", "2001:db8::1"]))},
    }
    if draw(st.booleans()):
        body["customer"].update({"email": "mei.wang@example.com", "phone": "+31208500500", "locale": "zh_CN"})
    if draw(st.booleans()):
        quantity, price = draw(st.integers(1, 5)), draw(st.integers(1, 10**5))
        body["items"] = [
            {"name": draw(PLAIN.map(lambda t: t.strip() or "Cup")), "quantity": quantity, "unit_price": price}
        ]
        body["amount"]["value"] = quantity * price
    if draw(st.booleans()):
        body["expires_in_seconds"] = draw(st.integers(60, 600))
    if draw(st.booleans()):
        body["metadata"] = draw(
            st.dictionaries(st.text("abcdefgh_", min_size=1, max_size=10), PLAIN, max_size=3)
        )
    if draw(st.booleans()):
        body["terminal_type"], body["os_type"] = "WAP", draw(st.sampled_from(["IOS", "ANDROID"]))
    return body


WELL_FORMED = well_formed()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None

    def __repr__(self) -> str:  # a 1 MB body makes an unreadable failure report
        body = self.body if self.body is None or len(self.body) < 300 else self.body[:300] + b"..."
        return f"Request({self.method} {self.path[:120]} {body!r})"


def post(body: Any) -> Request:
    return Request("POST", "/orders", json.dumps(body).encode())


GETS = st.one_of(
    st.text(alphabet=ORDER_ID_CHARS, min_size=1, max_size=50), st.text(min_size=1, max_size=80)
).map(lambda order_id: Request("GET", "/orders/" + quote(order_id, safe="")))
# About one request in twelve is well-formed (and reaches a provider); the rest are refused early.
REQUESTS = st.one_of(
    WELL_FORMED.map(post),
    *[WELL_FORMED.flatmap(mutated).map(post)] * 3,
    *[WELL_FORMED.flatmap(mutated).flatmap(mutated).map(post)] * 2,
    *[CREATE_BODIES.map(post)] * 2,
    *[CREATE_BODIES.flatmap(mutated).map(post)] * 2,
    RAW_BODIES.map(lambda raw: Request("POST", "/orders", raw)),
    GETS,
)


def validator(model: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{model}", "components": DOC["components"]}
    )


ERROR_SHAPE = validator("Error")
SUCCESS_SHAPE = {"POST": validator("Order"), "GET": validator("OrderWithEvents")}
DOCUMENTED = {
    "POST": set(DOC["paths"]["/orders"]["post"]["responses"]),
    "GET": set(DOC["paths"]["/orders/{order_id}"]["get"]["responses"]),
}


def test_the_committed_openapi_document_is_current() -> None:
    assert DOC_PATH.read_text() == render(), (
        f"{DOC_PATH.relative_to(ROOT)} is stale: run `make openapi` and commit it"
    )


@dataclass
class Tables:
    """The handlers' orders table, replaced by an empty one every TABLE_ROTATION creates."""

    api: Api
    stack: Stack
    sandboxes: dict[str, Any]
    client: Any
    name: str
    created: int = 0

    def stored(self, order_id: str) -> bool:
        found = self.client.get_item(TableName=self.name, Key=order_key(order_id), ConsistentRead=True)
        return "Item" in found

    def count_create(self) -> None:
        self.created += 1
        if self.created % TABLE_ROTATION == 0:
            self.name = f"fuzz-{self.created}"
            use_fresh_table(self.api, self.stack.template.resources["OrdersTable"]["Properties"], self.name)
            # A fresh world: the providers forget the orders too (ids may come again).
            for name, sandbox in self.sandboxes.items():
                reliability_kit(name).forget_orders(sandbox)
            CREATED.clear()


TABLE_ROTATION = 15  # moto copies the whole table on every transaction: keep it small


@pytest.fixture
def tables(api: Api, stack: Stack, all_providers: dict[str, Any]) -> Tables:
    return Tables(api, stack, all_providers, boto3.client("dynamodb"), stack.table_name)


@settings(
    max_examples=FUZZ_CASES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@pytest.mark.long_running
@given(request=REQUESTS)
def test_fuzzed_merchant_requests_get_documented_answers(api: Api, tables: Tables, request: Request) -> None:
    check(api, tables, request)


def check(api: Api, tables: Tables, request: Request) -> None:
    method, path, body = request.method, request.path, request.body
    reply: Reply = api.request(method, path, body=body, headers={"Content-Type": "application/json"})
    FIGURES.add("fuzz.cases")
    FIGURES.add("fuzz.5xx", int(reply.status >= 500))
    assert reply.status < 500, (reply.status, reply.body[:300], (body or b"")[:300])
    assert str(reply.status) in DOCUMENTED[method], reply.status
    answer = json.loads(reply.body)
    if reply.status >= 400:
        FIGURES.add("fuzz.4xx")
        errors = list(ERROR_SHAPE.iter_errors(answer))
        FIGURES.add("fuzz.bad_error_shape", int(bool(errors)))
        assert not errors, (reply.status, answer)
        if reply.status == 422:  # every message in the project's words, none of pydantic's
            said = [answer["error"]["message"], *(d["message"] for d in answer["error"].get("details", []))]
            assert not [phrase for message in said for phrase in pydantic_phrases_in(message)], said
        order_id = _order_id_of(body) if method == "POST" else None
        if order_id and reply.status in (400, 422):
            assert order_id in CREATED or not tables.stored(order_id), "refused, yet stored"
    else:
        errors = list(SUCCESS_SHAPE[method].iter_errors(answer))
        assert not errors, (reply.status, [error.message for error in errors][:3])
        if method == "POST":
            CREATED.add(answer["order_id"])
            FIGURES.add("fuzz.created")
            check(api, tables, Request("GET", f"/orders/{answer['order_id']}"))  # and read it back
            tables.count_create()


CREATED: set[str] = set()


def _order_id_of(body: bytes | None) -> str | None:
    try:
        parsed = json.loads(body or b"")
    except (ValueError, RecursionError):
        return None
    order_id = parsed.get("order_id") if isinstance(parsed, dict) else None
    return order_id if isinstance(order_id, str) and ORDER_ID_RE.match(order_id) else None


# -- refunds and cancel ------------------------------------------------------------------------------
ACTION_CASES = 400
REFUND_BODIES = from_schema(SCHEMAS["RefundRequest"])


@st.composite
def well_formed_refund(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {"refund_id": draw(st.text(alphabet=ORDER_ID_CHARS, min_size=1, max_size=50))}
    if draw(st.booleans()):
        body["amount"] = {
            "value": draw(st.integers(1, 1200)),
            "currency": draw(st.sampled_from(["EUR", "USD"])),
        }
    if draw(st.booleans()):
        body["reason"] = draw(PLAIN)
    return body


@dataclass(frozen=True)
class Action:
    order: str  # "paid:<provider>", "pending:<provider>" or a raw order id
    route: str  # "refunds" | "cancel"
    body: bytes | None


ORDERS = st.one_of(
    st.sampled_from(PROVIDERS).flatmap(
        lambda provider: st.sampled_from([f"paid:{provider}", f"pending:{provider}"])
    ),
    st.text(alphabet=ORDER_ID_CHARS, min_size=1, max_size=50),
    st.text(min_size=1, max_size=60),
)
ACTIONS = st.one_of(
    st.builds(Action, ORDERS, st.just("refunds"), well_formed_refund().map(lambda b: json.dumps(b).encode())),
    st.builds(
        Action,
        ORDERS,
        st.just("refunds"),
        well_formed_refund().flatmap(mutated).map(lambda b: json.dumps(b).encode()),
    ),
    st.builds(Action, ORDERS, st.just("refunds"), REFUND_BODIES.map(lambda b: json.dumps(b).encode())),
    st.builds(Action, ORDERS, st.sampled_from(["refunds", "cancel"]), RAW_BODIES),
    st.builds(Action, ORDERS, st.just("cancel"), st.sampled_from([None, b"{}", b"", b"null"])),
    st.builds(Action, ORDERS, st.just("cancel"), JSON_VALUES.map(lambda v: json.dumps(v).encode())),
)
ACTION_SHAPE = {"refunds": validator("Refund"), "cancel": validator("Order")}
ACTION_DOCUMENTED = {
    "refunds": set(DOC["paths"]["/orders/{order_id}/refunds"]["post"]["responses"]),
    "cancel": set(DOC["paths"]["/orders/{order_id}/cancel"]["post"]["responses"]),
}


class Orders:
    """A paid and a pending order per provider, made fresh when an action used one up."""

    def __init__(self, api: Api, sandboxes: dict[str, Any]) -> None:
        self.api = api
        self.sandboxes = sandboxes
        self.made: dict[str, str] = {}
        self.count = 0

    def resolve(self, name: str) -> str:
        if ":" not in name or name.split(":")[0] not in ("paid", "pending"):
            return name
        if name not in self.made:
            self.count += 1
            state, provider = name.split(":")
            order_id = f"act-{self.count}"
            body = order_body(order_id, provider=provider)
            assert self.api.request("POST", "/orders", body=body).status == 201
            if state == "paid":
                sandbox = self.sandboxes[provider]
                sandbox.pay(order_id)
                for note in sandbox.take_notifications():
                    self.api.request(
                        note.method, note.url, body=note.body, headers=note.headers, api_key=None
                    )
            self.made[name] = order_id
        return self.made[name]

    def used(self, name: str) -> None:
        self.made.pop(name, None)


@pytest.fixture
def orders(api: Api, all_providers: dict[str, Any]) -> Orders:
    return Orders(api, all_providers)


@settings(
    max_examples=ACTION_CASES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@pytest.mark.long_running
@given(action=ACTIONS)
def test_fuzzed_refund_and_cancel_requests_get_documented_answers(orders: Orders, action: Action) -> None:
    order_id = orders.resolve(action.order)
    path = f"/orders/{quote(order_id, safe='')}/{action.route}"
    before = orders.api.request("GET", f"/orders/{quote(order_id, safe='')}")
    reply = orders.api.request("POST", path, body=action.body, headers={"Content-Type": "application/json"})
    FIGURES.add("fuzz_actions.cases")
    FIGURES.add("fuzz_actions.5xx_ours", int(reply.status >= 500 and reply.status not in (502, 504)))
    # 502/504 are the provider's answers (a refusal, a timeout), documented; a 500 would be ours.
    assert reply.status != 500, (reply.status, reply.body[:300], (action.body or b"")[:300])
    assert str(reply.status) in ACTION_DOCUMENTED[action.route], (reply.status, reply.body[:200])
    answer = json.loads(reply.body)
    if reply.status >= 400:
        errors = list(ERROR_SHAPE.iter_errors(answer))
        FIGURES.add("fuzz_actions.bad_error_shape", int(bool(errors)))
        assert not errors, (reply.status, answer)
        if reply.status in (400, 422) and before.status == 200:
            after = orders.api.request("GET", f"/orders/{quote(order_id, safe='')}")
            assert after.json() == before.json(), "refused, yet the order changed"
    else:
        errors = list(ACTION_SHAPE[action.route].iter_errors(answer))
        assert not errors, (reply.status, [error.message for error in errors][:3])
        orders.used(action.order)
