"""Which audit events moved money, and by how much (the daily report's lines), and the report's CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from payments import daily_report as daily_report_module
from payments.clock import iso
from payments.daily_report import (
    CSV_COLUMNS,
    FINAL_CHANGES,
    OPEN_CHANGES,
    SETTLE_S,
    daily_report,
    day_bounds,
    parse_report_query,
    report_csv,
)
from payments.errors import ValidationFailed
from payments.money import Money
from payments.movements import movement_of
from payments.orders import OrderEvent, OrderStatus
from payments.store.day_movements import DayMovements, line_time, movement_attributes
from tests.support.orders import stored_order
from tests.support.providers import ANY_PROVIDER

S = OrderStatus


def event(**fields: Any) -> OrderEvent:
    type_ = str(fields.pop("type", "notification"))
    return OrderEvent(type=type_, at="2026-11-01T10:00:00.000000Z", source="t", **fields)


def test_payments_late_payments_refunds_and_chargebacks_are_movements() -> None:
    order = stored_order("m-1", provider=ANY_PROVIDER)
    order.provider_reference = "PSP-1"
    paid = movement_of(event(from_status=S.PENDING, to_status=S.PAID), order)
    assert paid is not None
    assert (paid["type"], paid["amount"], paid["provider_reference"]) == (
        "payment",
        {"value": 1000, "currency": "EUR"},
        "PSP-1",
    )
    late = movement_of(event(from_status=S.EXPIRED, to_status=S.PAID, flags=("late_payment",)), order)
    assert late is not None
    assert late["type"] == "late_payment"
    refund = {"amount": {"value": 300, "currency": "EUR"}, "provider_reference": "RF-9"}
    refunded = movement_of(event(type="refund_succeeded", refund=refund), order)
    assert refunded is not None
    assert (refunded["type"], refunded["amount"]["value"], refunded["provider_reference"]) == (
        "refund",
        300,
        "RF-9",
    )
    order.refunded_value = 300
    charged = movement_of(event(from_status=S.PARTIALLY_REFUNDED, to_status=S.CHARGED_BACK), order)
    assert charged is not None
    assert (charged["type"], charged["amount"]["value"]) == ("chargeback", 700)  # what was still held


def test_other_events_move_no_money() -> None:
    order = stored_order("m-2", provider=ANY_PROVIDER)
    assert movement_of(event(from_status=S.CREATED, to_status=S.PENDING), order) is None
    assert (
        movement_of(event(type="refund_requested", refund={"amount": {"value": 1, "currency": "EUR"}}), order)
        is None
    )
    assert (
        movement_of(event(type="refund_failed", refund={"amount": {"value": 1, "currency": "EUR"}}), order)
        is None
    )
    assert movement_of(event(from_status=S.PAID, to_status=S.PAID), order) is None


def test_a_day_across_a_daylight_saving_change_is_25_hours() -> None:
    start, end = day_bounds(date(2026, 10, 25), ZoneInfo("Europe/Amsterdam"))
    assert (start, end) == (datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 10, 25, 23, tzinfo=UTC))


def test_csv_amounts_are_major_units_with_the_currencys_decimals_and_no_cell_is_a_formula() -> None:
    lines = [
        {
            "time": "2026-11-01T10:00:00+00:00",
            "order_id": "a",
            "provider": "p",
            "provider_reference": "=HYPERLINK(1)",
            "wallet": "alipay_cn",
            "type": "payment",
            "amount": Money(1234567, "KWD").to_dict(),
            "recorded_at": "2026-11-01T10:00:01+00:00",
            "late": False,
        },
        {
            "time": "2026-11-01T11:00:00+00:00",
            "order_id": "b",
            "provider": "p",
            "provider_reference": None,
            "wallet": None,
            "type": "refund",
            "amount": Money(5, "EUR").to_dict(),
            "recorded_at": "2026-11-02T00:20:00+00:00",
            "late": True,
        },
    ]
    rows = list(csv.reader(io.StringIO(report_csv({"lines": lines}))))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1][3] == "'=HYPERLINK(1)"
    assert rows[1][6:] == ["1234.567", "KWD", "2026-11-01T10:00:01+00:00", "false"]
    assert rows[2][3:7] == ["", "", "refund", "0.05"]
    assert rows[2][8:] == ["2026-11-02T00:20:00+00:00", "true"]


def test_the_last_representable_day_is_a_422_not_a_crash() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_report_query({"date": "9999-12-31"})  # its next day overflows
    assert refused.value.field == "date"


# -- the provider's time: which day a line is on, and when it is late ---------------------------------
def test_a_line_is_filed_under_the_day_of_the_providers_time_else_of_when_it_was_recorded() -> None:
    order = stored_order("m-3", provider=ANY_PROVIDER)
    paid = event(from_status=S.PENDING, to_status=S.PAID, seq=2, occurred_at="2026-10-31T23:55:00.000000Z")
    filed = movement_attributes(paid, order, "2026-11-01T10:00:00.100000Z")
    assert filed["day_pk"].startswith("DAY#2026-10-31#")
    assert filed["day_sk"] == "2026-10-31T23:55:00.000000Z#m-3#000000000002"
    line = json.loads(filed["movement_json"])
    assert (line["occurred_at"], line["at"], line["recorded_at"]) == (
        "2026-10-31T23:55:00.000000Z",
        "2026-11-01T10:00:00.000000Z",
        "2026-11-01T10:00:00.100000Z",
    )
    untimed = movement_attributes(replace(paid, occurred_at=None), order, "2026-11-01T10:00:00.100000Z")
    assert untimed["day_sk"] == "2026-11-01T10:00:00.000000Z#m-3#000000000002"
    assert "occurred_at" not in json.loads(untimed["movement_json"])


class Movements:
    """The index by day, as daily_report reads it: the lines of [start, end), in time order."""

    def __init__(self, *lines: dict[str, Any]) -> None:
        self.lines = lines

    def between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        return sorted(
            (line for line in self.lines if iso(start) <= line_time(line) < iso(end)), key=line_time
        )


def line(order_id: str, at: datetime, recorded: datetime, occurred: datetime | None = None) -> dict[str, Any]:
    found = {
        "at": iso(at),
        "recorded_at": iso(recorded),
        "order_id": order_id,
        "provider": ANY_PROVIDER,
        "provider_reference": None,
        "wallet": "alipay_cn",
        "type": "payment",
        "amount": {"value": 1000, "currency": "EUR"},
    }
    return found if occurred is None else {**found, "occurred_at": iso(occurred)}


DAY_END = datetime(2026, 11, 2, tzinfo=UTC)


def test_only_a_line_recorded_after_the_day_settled_is_late() -> None:
    minute = timedelta(minutes=1)
    lines = Movements(
        line("on-time", DAY_END - 60 * minute, DAY_END - 60 * minute),
        # A fact recorded just before midnight whose write landed within the settling time.
        line("landing", DAY_END - minute, DAY_END + minute),
        # Made at 23:55 by the provider's clock, notified at 00:20.
        line("notified", DAY_END + 20 * minute, DAY_END + 20 * minute, occurred=DAY_END - 5 * minute),
        line("next-day", DAY_END + 20 * minute, DAY_END + 20 * minute),  # no provider time
    )
    report = daily_report(cast(DayMovements, lines), date(2026, 11, 1), ZoneInfo("UTC"))
    assert [(row["order_id"], row["late"]) for row in report["lines"]] == [
        ("on-time", False),
        ("notified", True),
        ("landing", False),
    ]
    notified = report["lines"][1]
    assert (notified["time"], notified["recorded_at"]) == (
        "2026-11-01T23:55:00+00:00",
        "2026-11-02T00:20:00+00:00",
    )
    assert report["late_facts"] == 1
    assert report["totals"][0]["gross_paid"] == 3000  # the late line counts
    assert (report["final"], report["changes"]) == (True, FINAL_CHANGES)
    next_day = daily_report(cast(DayMovements, lines), date(2026, 11, 2), ZoneInfo("UTC"))
    assert [row["order_id"] for row in next_day["lines"]] == ["next-day"]


def test_a_report_of_a_day_not_yet_settled_says_it_may_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(daily_report_module, "utc_now", lambda: DAY_END + timedelta(seconds=SETTLE_S - 1))
    report = daily_report(cast(DayMovements, Movements()), date(2026, 11, 1), ZoneInfo("UTC"))
    assert (report["final"], report["changes"]) == (False, OPEN_CHANGES)
