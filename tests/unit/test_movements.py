"""Which audit events moved money, and by how much (the daily report's lines), and the report's CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from payments.daily_report import day_bounds, parse_report_query, report_csv
from payments.errors import ValidationFailed
from payments.money import Money
from payments.movements import movement_of
from payments.orders import OrderEvent, OrderStatus
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
        },
        {
            "time": "2026-11-01T11:00:00+00:00",
            "order_id": "b",
            "provider": "p",
            "provider_reference": None,
            "wallet": None,
            "type": "refund",
            "amount": Money(5, "EUR").to_dict(),
        },
    ]
    rows = list(csv.reader(io.StringIO(report_csv({"lines": lines}))))
    assert rows[1][3] == "'=HYPERLINK(1)"
    assert rows[1][6:] == ["1234.567", "KWD"]
    assert rows[2][3:7] == ["", "", "refund", "0.05"]


def test_the_last_representable_day_is_a_422_not_a_crash() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_report_query({"date": "9999-12-31"})  # its next day overflows
    assert refused.value.field == "date"
