"""The webhook retry schedule: exponential backoff for 24 hours from an event's own first try, then
the dead-letter queue; and no event left on the queue until it expires unsent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from payments.outbox.webhooks import QUEUE_AGE_LIMIT_S, RETRY_FOR_S, next_try_in

T0 = datetime(2026, 11, 26, tzinfo=UTC)


def schedule() -> list[float]:
    """Seconds after the first try at which each try happens, until the event is dead-lettered."""
    tries, now, attempts = [0.0], T0, 1
    while (delay := next_try_in(attempts, T0, T0, now)) is not None:
        now += timedelta(seconds=delay)
        tries.append((now - T0).total_seconds())
        attempts += 1
    return tries


def test_tries_back_off_exponentially_for_24_hours_then_dead_letter() -> None:
    tries = schedule()
    gaps = [b - a for a, b in pairwise(tries)]
    assert gaps[:11] == [30 * 2**n for n in range(11)]  # 30 s doubling
    assert tries[-1] == RETRY_FOR_S  # the last try comes at 24 h: not sooner, and not 29 h later
    assert len(tries) == 13


def test_an_event_held_back_gets_its_own_24_hours() -> None:
    """What counts is its first failed try, not how long it waited behind an earlier event."""
    enqueued = T0 - timedelta(days=3)
    assert next_try_in(1, T0, enqueued, T0) == 30
    assert next_try_in(5, T0, enqueued, T0 + timedelta(hours=23)) is not None
    assert next_try_in(13, T0, enqueued, T0 + timedelta(hours=24)) is None


def test_an_event_about_to_expire_from_the_queue_is_dead_lettered_at_its_next_failure() -> None:
    enqueued = T0 - timedelta(seconds=QUEUE_AGE_LIMIT_S)
    assert next_try_in(1, T0, enqueued, T0) is None
