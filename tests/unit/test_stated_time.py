"""The provider's time of a money fact as the adapters read it (payments/providers/stated_time.py): a
time that says which instant it is, in UTC; anything else, or a time more than a day ahead, is None and
never an error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payments.providers.stated_time import stated_time

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30T23:55:00+08:00", datetime(2026, 11, 30, 15, 55, tzinfo=UTC)),
        ("2026-11-30T23:55:00Z", datetime(2026, 11, 30, 23, 55, tzinfo=UTC)),
        ("2026-11-30T23:55:00.250-05:00", datetime(2026, 12, 1, 4, 55, 0, 250000, tzinfo=UTC)),
        ("2026-11-30 23:55:00+00:00", datetime(2026, 11, 30, 23, 55, tzinfo=UTC)),  # RFC 3339 allows a space
        ("2026-12-02T12:00:00Z", datetime(2026, 12, 2, 12, tzinfo=UTC)),  # a day ahead: clocks drift
    ],
)
def test_a_time_with_its_offset_is_read_in_utc(text: str, expected: datetime) -> None:
    assert stated_time(text, NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        1764633300,
        "2026-11-30T23:55:00",  # no offset: which instant is unknown
        "2026-11-30",
        "30/11/2026 23:55:00 +0800",
        "2026-02-30T10:00:00Z",
        "0001-01-01T00:00:00+08:00",  # before the first UTC instant there is
        "2026-12-02T12:00:01Z",  # more than a day ahead of our clock
        "2026-11-30T23:55:00+08:00" + " " * 40,
    ],
)
def test_anything_else_is_no_time_and_never_an_error(value: object) -> None:
    assert stated_time(value, NOW) is None
