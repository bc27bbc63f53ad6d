"""6b. The operator's reads fuzzed: GET /orders and GET /reports/daily through the real handler, with query
strings made from the documented parameters (their enums and patterns, then mutated: unknown names,
wrong types, control characters, boundary numbers, cursors that were never given), against a table of
orders of every provider, some paid, refunded and flagged. Zero 5xx; every 4xx in the documented error
shape; every 2xx in the documented page or report shape (the CSV with its header row); following
next_after never lists an order twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docs.openapi import DOC_PATH
from payments.clock import iso
from payments.engine import Plan
from payments.orders import OrderEvent, OrderStatus
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.conftest import Stack
from tests.reliability.report import FIGURES
from tests.support.lambdas import Api
from tests.support.orders import stored_order
from tests.support.providers import ANY_PROVIDER

DOC: dict[str, Any] = json.loads(DOC_PATH.read_text())
CASES = 600
TODAY = datetime.now(UTC).date()


def _documented(path: str) -> dict[str, dict[str, Any]]:
    return {parameter["name"]: parameter["schema"] for parameter in DOC["paths"][path]["get"]["parameters"]}


NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\nb",
        "<script>",
        "%",
        "#",
        "9" * 40,
        "-1",
        "0",
        "1e3",
        "\u202e",
        "'; DROP",
        "x" * 300,
    ]
)
TIMES = st.sampled_from(
    [
        "2026-11-01T00:00:00Z",
        "2026-11-01T10:00:00+08:00",
        iso(datetime.now(UTC)),
        "2026-11-01",
        "2026-02-30T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00+14:00",
    ]
)


def _value(name: str, schema: dict[str, Any]) -> st.SearchStrategy[str]:
    good: st.SearchStrategy[str]
    if "enum" in schema:
        good = st.sampled_from([str(value) for value in schema["enum"]])
    elif name in ("created_from", "created_to"):
        good = TIMES
    elif name == "limit":
        good = st.integers(min_value=-5, max_value=150).map(str)
    elif name == "date":
        good = st.integers(min_value=-3, max_value=3).map(
            lambda days: (TODAY + timedelta(days=days)).isoformat()
        )
    elif name == "time_zone":
        good = st.sampled_from(
            ["UTC", "Asia/Shanghai", "America/St_Johns", "Pacific/Kiritimati", "Etc/GMT+12"]
        )
    elif name == "after":
        good = st.sampled_from(["2026-11-01T00:00:00.000000Z#o-1", "2099-01-01T00:00:00.000000Z#zz"])
    else:
        good = st.text(min_size=1, max_size=20)
    return good | NASTY | st.text(max_size=12)


def queries(path: str) -> st.SearchStrategy[list[tuple[str, str]]]:
    parameters = _documented(path)
    known = st.lists(
        st.sampled_from(sorted(parameters)).flatmap(
            lambda name: _value(name, parameters[name]).map(lambda v: (name, v))
        ),
        max_size=5,
    )
    unknown = st.tuples(st.sampled_from(["sort", "LIMIT", "", "x" * 60, "a b"]), st.text(max_size=8))
    return st.one_of(known, *[known] * 3, st.tuples(known, unknown).map(lambda both: [*both[0], both[1]]))


REQUESTS = st.one_of(
    st.tuples(st.just("/orders"), queries("/orders")),
    st.tuples(st.just("/reports/daily"), queries("/reports/daily")),
)


def _shape(model: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{model}", "components": DOC["components"]}
    )


ERROR_SHAPE = _shape("Error")
SHAPES = {"/orders": _shape("OrdersPage"), "/reports/daily": _shape("DailyReport")}


@pytest.fixture
def seeded(api: Api, stack: Stack) -> Api:
    """Orders created over the last days, some paid (movements today), flagged, moved on."""
    store = OrdersStore(Table(stack.table_name))
    now = datetime.now(UTC)
    for index in range(12):
        at = now - timedelta(hours=index * 7)
        order = stored_order(f"fz-{index}", at, provider=ANY_PROVIDER)
        store.create(order, OrderEvent(type="order_created", at=iso(at), source="test"))
        found = store.get_with_refunds(order.order_id)
        assert found is not None
        plan = Plan(found[0], iso(now), OrderEvent(type="notification", at=iso(now), source="notification"))
        if index % 2:
            plan.move(OrderStatus.PAID, changes={"provider_reference": f"PSP-{index}"})
        if index % 5 == 0:
            plan.flag("late_payment", event_type="late", reason="fuzz")
        if not plan.empty:
            store.commit(plan)
    return api


@settings(
    max_examples=CASES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.long_running
@given(request=REQUESTS)
def test_fuzzed_operator_reads_get_documented_answers(
    seeded: Api, request: tuple[str, list[tuple[str, str]]]
) -> None:
    path, query = request
    encoded = "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in query)
    reply = seeded.request("GET", f"{path}?{encoded}")
    FIGURES.add("fuzz_operator.cases")
    FIGURES.add("fuzz_operator.5xx", int(reply.status >= 500))
    FIGURES.add("fuzz_operator.pages_with_repeats", 0)  # counted below, where a next page is read
    assert reply.status < 500, (reply.status, reply.body[:300], query)
    assert str(reply.status) in DOC["paths"][path]["get"]["responses"], reply.status
    if reply.status >= 400:
        errors = list(ERROR_SHAPE.iter_errors(json.loads(reply.body)))
        FIGURES.add("fuzz_operator.bad_shape", int(bool(errors)))
        assert not errors, reply.body
        return
    if reply.body.startswith("time,order_id,"):
        FIGURES.add("fuzz_operator.bad_shape", 0)
        return
    answer = json.loads(reply.body)
    errors = list(SHAPES[path].iter_errors(answer))
    FIGURES.add("fuzz_operator.bad_shape", int(bool(errors)))
    assert not errors, [error.message for error in errors][:3]
    if path == "/orders" and answer["next_after"]:
        rest = json.loads(seeded.request("GET", f"{path}?{encoded}&after={quote(answer['next_after'])}").body)
        if "orders" in rest:  # a repeated `after` in the query: the first one wins, or a 422
            seen = [order["order_id"] for order in answer["orders"] + rest["orders"]]
            repeats = len(seen) - len(set(seen))
            FIGURES.add("fuzz_operator.pages_with_repeats", int(repeats > 0))
            assert not repeats, seen
