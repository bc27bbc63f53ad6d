"""GET /reports/daily through the real handlers and moto: payments and refunds made through the API and
the provider's sandbox are the day's lines, the totals are the sum of the lines, the CSV is what a
finance tool reads; a day is cut at midnight of the asked time zone; a line written after its day
ended is reported as late; bad parameters are 422s naming the field."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses

from local.testing import kit_of
from payments.clock import iso
from payments.engine import Plan
from payments.orders import OrderEvent, OrderStatus
from payments.store import orders as orders_module
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import stored_order
from tests.support.providers import ANY_PROVIDER, mount
from tests.support.shop_kit import Shop


def report(api: Api, **query: str) -> dict[str, Any]:
    reply = api.request("GET", "/reports/daily", query=list(query.items()))
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.json()
    return body


@pytest.fixture
def shop(stack: Stack, wire: responses.RequestsMock, link: ProviderLink, api: Api) -> Shop:
    return Shop(ANY_PROVIDER, mount(kit_of(ANY_PROVIDER), stack, wire, link), api)


def test_todays_payments_and_refunds_are_its_lines_and_the_totals_add_up(shop: Shop, api: Api) -> None:
    shop.paid("d-1", 1250)
    shop.paid("d-2", 800)
    shop.create("d-3")  # never paid: no line
    assert shop.refund("d-1", "r-1", amount={"value": 450, "currency": "EUR"}).status == 201
    shop.deliver()
    assert shop.read("d-1")["status"] == "partially_refunded"
    today = datetime.now(UTC).date().isoformat()
    body = report(api, date=today)
    lines = [(line["order_id"], line["type"], line["amount"]["value"]) for line in body["lines"]]
    assert lines == [("d-1", "payment", 1250), ("d-2", "payment", 800), ("d-1", "refund", 450)]
    assert [line["time"] for line in body["lines"]] == sorted(line["time"] for line in body["lines"])
    assert all(line["provider"] == ANY_PROVIDER and line["wallet"] == "alipay_cn" for line in body["lines"])
    assert body["lines"][0]["provider_reference"] == shop.read("d-1")["provider_reference"]
    (total,) = body["totals"]
    assert total == {
        "provider": ANY_PROVIDER,
        "currency": "EUR",
        "gross_paid": 2050,
        "refunded": 450,
        "charged_back": 0,
        "net": 1600,
        "lines": 3,
    }
    assert (body["final"], body["late_facts"]) == (False, 0)

    reply = api.request("GET", "/reports/daily", query=[("date", today), ("format", "csv")])
    assert reply.status == 200
    headers = {name.lower(): value for name, value in reply.headers.items()}
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="payments-{today}.csv"' in headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(reply.body)))
    assert rows[0] == [
        "time",
        "order_id",
        "provider",
        "provider_reference",
        "wallet",
        "type",
        "amount",
        "currency",
    ]
    assert [(row[1], row[5], row[6], row[7]) for row in rows[1:]] == [
        ("d-1", "payment", "12.50", "EUR"),
        ("d-2", "payment", "8.00", "EUR"),
        ("d-1", "refund", "4.50", "EUR"),
    ]
    assert datetime.fromisoformat(rows[1][0]).tzinfo is not None
    # An earlier day has none of it.
    assert report(api, date=(datetime.now(UTC) - timedelta(days=2)).date().isoformat())["lines"] == []


@pytest.fixture
def store(stack: Stack) -> OrdersStore:
    return OrdersStore(Table(stack.table_name))


def paid_at(
    store: OrdersStore, order_id: str, at: datetime, *, currency: str = "EUR", value: int = 1000
) -> None:
    order = stored_order(order_id, at - timedelta(minutes=5), provider=ANY_PROVIDER)
    order.amount = type(order.amount)(value, currency)
    assert (
        store.create(order, OrderEvent(type="order_created", at=iso(order_at(order)), source="test")) is None
    )
    found = store.get_with_refunds(order_id)
    assert found is not None
    plan = Plan(found[0], iso(at), OrderEvent(type="notification", at=iso(at), source="notification"))
    plan.move(OrderStatus.PAID)
    store.commit(plan)


def order_at(order: Any) -> datetime:
    return datetime.fromisoformat(order.created_at)


def test_a_day_is_cut_at_midnight_of_the_time_zone_asked(api: Api, store: OrdersStore) -> None:
    # 2026-11-01 in Shanghai (UTC+8) is 2026-10-31T16:00Z to 2026-11-01T16:00Z.
    paid_at(store, "z-early", datetime(2026, 10, 31, 15, 59, tzinfo=UTC))
    paid_at(store, "z-in", datetime(2026, 10, 31, 16, 0, tzinfo=UTC))
    paid_at(store, "z-late", datetime(2026, 11, 1, 15, 59, 59, tzinfo=UTC), currency="JPY", value=1500)
    paid_at(store, "z-next", datetime(2026, 11, 1, 16, 0, tzinfo=UTC))
    body = report(api, date="2026-11-01", time_zone="Asia/Shanghai")
    assert [line["order_id"] for line in body["lines"]] == ["z-in", "z-late"]
    assert body["lines"][0]["time"] == "2026-11-01T00:00:00+08:00"
    assert (body["from"], body["to"]) == ("2026-11-01T00:00:00+08:00", "2026-11-02T00:00:00+08:00")
    assert [(t["currency"], t["gross_paid"]) for t in body["totals"]] == [("EUR", 1000), ("JPY", 1500)]
    assert body["final"] is True
    assert [line["order_id"] for line in report(api, date="2026-11-01")["lines"]] == ["z-late", "z-next"]
    assert [line["order_id"] for line in report(api, date="2026-10-31")["lines"]] == ["z-early", "z-in"]
    rows = list(
        csv.reader(
            io.StringIO(
                api.request("GET", "/reports/daily?date=2026-11-01&time_zone=Asia/Shanghai&format=csv").body
            )
        )
    )
    assert rows[2][6:] == ["1500", "JPY"]  # yen have no decimals


def test_a_line_written_after_its_day_ended_is_reported_late(
    api: Api, store: OrdersStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = datetime(2026, 11, 3, 10, 0, 1, tzinfo=UTC)
    monkeypatch.setattr(orders_module, "utc_now", lambda: written)
    paid_at(store, "on-time", datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    before = report(api, date="2026-11-03")
    # A commit stamped a minute before midnight that landed after it.
    written = datetime(2026, 11, 4, 0, 0, 30, tzinfo=UTC)
    paid_at(store, "landed-late", datetime(2026, 11, 3, 23, 59, tzinfo=UTC))
    after = report(api, date="2026-11-03")
    assert (before["late_facts"], after["late_facts"]) == (0, 1)
    assert [(line["order_id"], line["late"]) for line in after["lines"]] == [
        ("on-time", False),
        ("landed-late", True),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ([], "date"),
        ([("date", "2026-13-01")], "date"),
        ([("date", "01/11/2026")], "date"),
        ([("date", "2026-11-01"), ("time_zone", "Mars/Olympus")], "time_zone"),
        ([("date", "2026-11-01"), ("time_zone", "../../etc/passwd")], "time_zone"),
        ([("date", "2026-11-01"), ("format", "xlsx")], "format"),
        ([("date", "2026-11-01"), ("from", "x")], "from"),
    ],
)
def test_bad_parameters_are_a_422_naming_the_field(
    api: Api, stack: Stack, query: list[tuple[str, str]], field: str
) -> None:
    reply = api.request("GET", "/reports/daily", query=query)
    assert reply.status == 422, reply.body
    assert reply.json()["error"]["field"] == field
