"""GET /reports/daily: every money movement of one day in a time zone, one line each, and the totals per
provider and currency — JSON, or CSV as a finance tool takes it (header row, ISO times, amounts in
major units with the currency's decimals, UTF-8).

A line's `time` is when the money moved as the provider states it (the fact's `occurred_at`: its
payment, refund or chargeback time, payments/facts.py), else when we recorded the verified fact (the
audit event's `at`); the line is on the report of the day of that time, as the provider's settlement
counts it: a payment made at 23:55 and notified at 00:20 is on the first day. `recorded_at` is when its
audit event was written. The lines come from the index by day (payments/store/day_movements.py).

A day's report is `final` once the day has ended more than SETTLE_S ago (longer than any function runs,
so every fact we recorded within the day has landed). A final report changes only by a late fact: a
line recorded after that (the provider's notification of a payment made before midnight, a payment the
reconciler found later) is marked `late` and counted in `late_facts`, and `changes` says so, so a copy
kept from before can be compared.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from payments.clock import utc_now
from payments.errors import ValidationFailed
from payments.money import Money
from payments.movements import CHARGEBACK, LATE_PAYMENT, PAYMENT, REFUND
from payments.store.day_movements import DayMovements, line_time

SETTLE_S = 600  # past the longest function timeout (reconcile: 300 s), with room
FORMATS = ("json", "csv")
PARAMETERS = ("date", "time_zone", "format")
ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]{0,30}(/[A-Za-z0-9_+\-]{1,30}){0,2}")
# New columns go last: a finance tool that reads the columns by position keeps working.
CSV_COLUMNS = (
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
)
FINAL_CHANGES = "final: only a late fact for this day (a line with late true) can add to it"
OPEN_CHANGES = "not final: lines may still be added until the day has ended and settled"


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", field=field, code="invalid_field")


def parse_report_query(query: Mapping[str, str]) -> tuple[date, ZoneInfo, str]:
    unknown = sorted(set(query) - set(PARAMETERS))
    if unknown:
        raise _invalid(unknown[0][:40], f"not a parameter; use {', '.join(PARAMETERS)}")
    text = query.get("date")
    if text is None:
        raise ValidationFailed("date: required (YYYY-MM-DD)", field="date", code="missing_field")
    try:
        day = date.fromisoformat(text) if len(text) == 10 and text[4] == "-" else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 9998:
        raise _invalid("date", "must be a day as YYYY-MM-DD")
    zone_name = query.get("time_zone", "UTC")
    try:
        zone = ZoneInfo(zone_name) if ZONE_NAME.fullmatch(zone_name) else None
    except (ZoneInfoNotFoundError, ValueError, OSError):
        zone = None
    if zone is None:
        raise _invalid("time_zone", "must be an IANA time zone, e.g. UTC or Asia/Shanghai")
    output = query.get("format", "json")
    if output not in FORMATS:
        raise _invalid("format", "must be json or csv")
    return day, zone, output


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The day's start and the next day's start in `zone`, as UTC times (23 to 25 hours apart)."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def daily_report(store: DayMovements, day: date, zone: ZoneInfo) -> dict[str, Any]:
    start, end = day_bounds(day, zone)
    lines = []
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    late = 0
    settled = end + timedelta(seconds=SETTLE_S)
    for movement in store.between(start, end):
        recorded_at = datetime.fromisoformat(movement["recorded_at"])
        is_late = recorded_at >= settled
        late += is_late
        amount = movement["amount"]
        lines.append(
            {
                "time": _local(datetime.fromisoformat(line_time(movement)), zone),
                "recorded_at": _local(recorded_at, zone),
                "order_id": movement["order_id"],
                "provider": movement["provider"],
                "provider_reference": movement.get("provider_reference"),
                "wallet": movement.get("wallet"),
                "type": movement["type"],
                "amount": amount,
                "late": is_late,
            }
        )
        key = (movement["provider"], amount["currency"])
        total = totals.setdefault(
            key,
            {
                "provider": key[0],
                "currency": key[1],
                "gross_paid": 0,
                "refunded": 0,
                "charged_back": 0,
                "lines": 0,
            },
        )
        field = {
            PAYMENT: "gross_paid",
            LATE_PAYMENT: "gross_paid",
            REFUND: "refunded",
            CHARGEBACK: "charged_back",
        }
        total[field[movement["type"]]] += int(amount["value"])
        total["lines"] += 1
    for total in totals.values():
        total["net"] = total["gross_paid"] - total["refunded"] - total["charged_back"]
    final = utc_now() >= settled
    return {
        "date": day.isoformat(),
        "time_zone": zone.key,
        "from": start.astimezone(zone).isoformat(),
        "to": end.astimezone(zone).isoformat(),
        "final": final,
        "changes": FINAL_CHANGES if final else OPEN_CHANGES,
        "late_facts": late,
        "lines": lines,
        "totals": [totals[key] for key in sorted(totals)],
    }


def report_csv(report: Mapping[str, Any]) -> str:
    """The report's lines as CSV: a header row, one row per movement, amounts in major units."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in report["lines"]:
        money = Money(int(line["amount"]["value"]), line["amount"]["currency"])
        writer.writerow(
            [
                line["time"],
                line["order_id"],
                line["provider"],
                _cell(line["provider_reference"]),
                _cell(line["wallet"]),
                line["type"],
                money.major_units_text(),
                money.currency,
                line["recorded_at"],
                "true" if line["late"] else "false",
            ]
        )
    return out.getvalue()


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _cell(value: str | None) -> str:
    """No cell starts a formula in a spreadsheet (a provider reference is the provider's text)."""
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
