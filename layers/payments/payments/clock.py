"""Time as the order store writes it."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width UTC time, so stored times sort chronologically as text."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
