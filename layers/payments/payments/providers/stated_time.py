"""The provider's own time of a money fact (`occurred_at` in payments/facts.py), read by each adapter from
the field its protocol names for it (a payment time, a refund time).

A time is taken only when it says which instant it is: ISO 8601 / RFC 3339 with an offset (or `Z`;
`T` or a space between date and time). A time without an offset, an unreadable one, or one more than
MAX_AHEAD after our clock is None: the fact is then filed by when we recorded it. A bad time never
refuses a notification: it is not what the money depends on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Clocks drift and zones get mislabelled; a time further ahead than this is not believed.
MAX_AHEAD = timedelta(days=1)
_LONGEST = 40  # `2026-11-22T20:00:00.123456+08:00` is 32: longer text is not a time


def stated_time(value: object, now: datetime) -> datetime | None:
    """`value` as a UTC time, or None (see the module's docstring). `now`: our clock, UTC-aware."""
    if not isinstance(value, str) or not 16 <= len(value) <= _LONGEST:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.utcoffset() is None:
            return None
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return None if moment > now + MAX_AHEAD else moment
