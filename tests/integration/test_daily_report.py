"""GET /reports/daily through the real handlers and moto: payments and refunds made through the API and
the provider's sandbox are the day's lines, the totals are the sum of the lines, the CSV is what a
finance tool reads; a day is cut at midnight of the asked time zone; a line is on the day of the
provider's time of it (a payment made at 23:55 and notified, or found by the reconciler, at 00:20),
and one recorded after its day settled is reported as late; bad parameters are 422s naming the field."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import responses

from local.testing import kit_of
from payments.clock import iso
from payments.engine import Engine, Plan, event, statement_event
from payments.facts import PaymentFact, Statement
from payments.flows import gate
from payments.flows.reconcile import ReconcileFlow
from payments.money import Money
from payments.orders import OrderEvent, OrderStatus
from payments.providers.capabilities import Capabilities
from payments.store import orders as orders_module
from payments.store.orders import OrdersStore
from payments.store.table import Table
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import stored_order
from tests.support.providers import ANY_PROVIDER, capabilities_with, mount
from tests.support.shop_kit import Shop
from tests.support.store import history


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
    # In time order; the provider's times may be whole seconds, and lines of one second go by order id.
    assert sorted(lines) == [("d-1", "payment", 1250), ("d-1", "refund", 450), ("d-2", "payment", 800)]
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
        "recorded_at",
        "late",
    ]
    assert sorted((row[1], row[5], row[6], row[7], row[9]) for row in rows[1:]) == [
        ("d-1", "payment", "12.50", "EUR", "false"),
        ("d-1", "refund", "4.50", "EUR", "false"),
        ("d-2", "payment", "8.00", "EUR", "false"),
    ]
    assert datetime.fromisoformat(rows[1][0]).tzinfo is not None
    assert datetime.fromisoformat(rows[1][8]) >= datetime.fromisoformat(rows[1][0])
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
    assert rows[2][6:8] == ["1500", "JPY"]  # yen have no decimals


def test_a_line_written_after_its_day_ended_is_late_only_once_the_day_has_settled(
    api: Api, store: OrdersStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = datetime(2026, 11, 3, 10, 0, 1, tzinfo=UTC)
    monkeypatch.setattr(orders_module, "utc_now", lambda: written)
    paid_at(store, "on-time", datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    # A commit stamped a minute before midnight that landed after it, before the day settled.
    written = datetime(2026, 11, 4, 0, 0, 30, tzinfo=UTC)
    paid_at(store, "landed", datetime(2026, 11, 3, 23, 59, tzinfo=UTC))
    before = report(api, date="2026-11-03")
    # One stamped before midnight that landed after the day had settled.
    written = datetime(2026, 11, 4, 0, 10, 1, tzinfo=UTC)
    paid_at(store, "landed-late", datetime(2026, 11, 3, 23, 59, 30, tzinfo=UTC))
    after = report(api, date="2026-11-03")
    assert (before["late_facts"], after["late_facts"]) == (0, 1)
    assert [(line["order_id"], line["late"]) for line in after["lines"]] == [
        ("on-time", False),
        ("landed", False),
        ("landed-late", True),
    ]
    assert after["lines"][2]["recorded_at"] == "2026-11-04T00:10:01+00:00"
    assert after["final"] is True
    assert after["changes"] == before["changes"]  # what may change a final report: a late line


# -- the provider's time: a payment made before midnight and reported after it --------------------------
DAY = "2026-11-05"
MADE = datetime(2026, 11, 5, 23, 55, tzinfo=UTC)  # the provider's payment time
NOTIFIED = datetime(2026, 11, 6, 0, 20, tzinfo=UTC)  # when it told us (or we asked)


def pending(store: OrdersStore, order_id: str) -> None:
    order = stored_order(order_id, MADE - timedelta(minutes=10), provider=ANY_PROVIDER)
    order.status = OrderStatus.PENDING
    assert store.create(order, event("order_created", "merchant", MADE - timedelta(minutes=10))) is None


def paid_statement(order_id: str, occurred_at: datetime | None) -> Statement:
    fact = PaymentFact(OrderStatus.PAID, Money(1000, "EUR"), occurred_at)
    return Statement(order_id=order_id, facts=(fact,), provider_status="paid", verified_by="test")


def notified(store: OrdersStore, statement: Statement) -> None:
    """What the notification flow does with a verified statement: the gate, then one commit."""
    found = store.get_with_refunds(statement.order_id)
    assert found is not None
    template = statement_event("notification", "notification", statement, NOTIFIED)
    Engine(store, lambda: NOTIFIED).run(
        *found, template, lambda plan: gate.admit(plan, statement, provider=ANY_PROVIDER)
    )


def test_a_payment_made_at_2355_and_notified_at_0020_is_a_late_line_of_its_own_day(
    api: Api, store: OrdersStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders_module, "utc_now", lambda: NOTIFIED + timedelta(milliseconds=50))
    paid_at(store, "same-day", datetime(2026, 11, 5, 9, 0, tzinfo=UTC))
    before = report(api, date=DAY)
    pending(store, "made-at-2355")
    pending(store, "no-time")
    notified(store, paid_statement("made-at-2355", MADE.astimezone(ZoneInfo("Asia/Shanghai"))))
    notified(store, paid_statement("no-time", None))  # a provider that states no time: filed at 00:20
    after = report(api, date=DAY)
    assert [(line["order_id"], line["late"]) for line in after["lines"]] == [
        ("same-day", True),  # paid_at records now: after its day too
        ("made-at-2355", True),
    ]
    line = after["lines"][1]
    assert (line["time"], line["recorded_at"]) == ("2026-11-05T23:55:00+00:00", "2026-11-06T00:20:00+00:00")
    assert (before["late_facts"], after["late_facts"]) == (1, 2)
    (total,) = after["totals"]
    assert (total["gross_paid"], total["lines"]) == (2000, 2)  # the late payment counts
    assert sum(line["amount"]["value"] for line in after["lines"]) == total["gross_paid"]
    in_shanghai = report(api, date="2026-11-06", time_zone="Asia/Shanghai")  # 07:55 there
    assert [line["time"] for line in in_shanghai["lines"]] == [
        "2026-11-06T07:55:00+08:00",
        "2026-11-06T08:20:00+08:00",
    ]
    next_day = report(api, date="2026-11-06")
    assert [(line["order_id"], line["late"]) for line in next_day["lines"]] == [("no-time", False)]
    rows = list(csv.reader(io.StringIO(api.request("GET", f"/reports/daily?date={DAY}&format=csv").body)))
    assert rows[2][0] == "2026-11-05T23:55:00+00:00"
    assert rows[2][8:] == ["2026-11-06T00:20:00+00:00", "true"]
    _, events = history(store, "made-at-2355")
    assert [(e.type, e.at, e.occurred_at) for e in events if e.to_status == OrderStatus.PAID] == [
        ("notification", iso(NOTIFIED), iso(MADE))
    ]


@dataclass
class AnsweringProvider:
    """A provider whose status query says the order was paid at MADE."""

    name: str = ANY_PROVIDER
    capabilities: Capabilities = field(default_factory=capabilities_with)

    def query(self, order: Any) -> Statement | None:
        return paid_statement(order.order_id, MADE)


class Directory:
    def get(self, name: str) -> Any:
        return AnsweringProvider()


def test_a_payment_the_reconciler_finds_after_midnight_is_on_the_day_the_provider_made_it(
    api: Api, store: OrdersStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(orders_module, "utc_now", lambda: NOTIFIED)
    pending(store, "found-by-query")
    flow = ReconcileFlow(store, Directory(), Engine(store, lambda: NOTIFIED))  # type: ignore[arg-type]
    assert flow.run(10, lambda: 100.0, 1.0).changed == 1
    body = report(api, date=DAY)
    assert [(line["order_id"], line["time"], line["late"]) for line in body["lines"]] == [
        ("found-by-query", "2026-11-05T23:55:00+00:00", True)
    ]
    assert (body["late_facts"], body["totals"][0]["gross_paid"]) == (1, 1000)
    assert report(api, date="2026-11-06")["lines"] == []


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
