"""Reconciliation's backoff: soon at first, then spreading out, daily to the seventh day, then an end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payments import schedule
from payments.clock import iso

CREATED = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
# The checks the schedule promises, from the item's creation (written out, not derived from the code).
EXPECTED = [
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=3),
    timedelta(days=4),
    timedelta(days=5),
    timedelta(days=6),
    timedelta(days=7),
]


@pytest.fixture(autouse=True)
def deployed_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedule, "SCALE", 1.0)  # the local stack's compression off


@pytest.mark.parametrize(("checks_done", "offset"), list(enumerate(EXPECTED)))
def test_each_check_comes_at_its_offset_from_creation(checks_done: int, offset: timedelta) -> None:
    assert schedule.next_check(iso(CREATED), checks_done) == CREATED + offset
    assert not schedule.schedule_spent(checks_done)


def test_after_the_seventh_day_there_is_no_next_check() -> None:
    assert schedule.next_check(iso(CREATED), len(EXPECTED)) is None
    assert schedule.schedule_spent(len(EXPECTED))
    assert EXPECTED[-1] == schedule.GIVE_UP_AFTER


def test_the_local_stacks_scale_compresses_every_offset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedule, "SCALE", 0.01)
    assert schedule.next_check(iso(CREATED), 0) == CREATED + timedelta(seconds=1.2)
    assert schedule.next_check(iso(CREATED), 11) == CREATED + timedelta(days=7) * 0.01


# -- an order cancelled here while its provider's checkout may still take a payment ------------------
WATCH_UNTIL = CREATED + timedelta(minutes=25)  # a 10-minute checkout and the provider's 15-minute grace


@pytest.mark.parametrize(
    ("checks_done", "due"),
    [
        (0, CREATED + timedelta(minutes=2)),
        (1, CREATED + timedelta(minutes=10)),
        (2, WATCH_UNTIL),  # the schedule's 30 minutes is past the close: one last check at it
        (3, None),  # that check was the last
        (20, None),
    ],
)
def test_a_watched_order_is_checked_until_its_checkout_has_closed(
    checks_done: int, due: datetime | None
) -> None:
    assert schedule.next_watch_check(iso(CREATED), checks_done, iso(WATCH_UNTIL)) == due


def test_a_watch_that_ends_before_the_first_check_is_checked_once_at_its_end() -> None:
    until = CREATED + timedelta(minutes=1)
    assert schedule.next_watch_check(iso(CREATED), 0, iso(until)) == until
    assert schedule.next_watch_check(iso(CREATED), 1, iso(until)) is None
