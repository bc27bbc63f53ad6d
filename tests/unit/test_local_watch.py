"""What `make dev` says about its background pollers (local/watch.py): a failure, a lag, their end,
and a thread that stops — each in a line when it starts, not a line every half second."""

from __future__ import annotations

import threading

import pytest

from local.testing import BEHIND_AFTER_S, REPEAT_AFTER_S, SourceWatch, watched


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def said() -> list[str]:
    return []


def test_a_failing_source_is_said_once_then_now_and_then_and_when_it_works_again(said: list[str]) -> None:
    clock = Clock()
    watch = SourceWatch("PublishEventsFunction", said.append, clock)
    for _ in range(10):  # five seconds of polls
        watch.failed(ConnectionError("moto is gone"))
        clock.now += 0.5
    assert said == [
        "[PublishEventsFunction] event source failed (ConnectionError: moto is gone); retrying every poll"
    ]
    clock.now += REPEAT_AFTER_S
    watch.failed(ConnectionError("moto is gone"))
    assert said[-1].startswith("[PublishEventsFunction] event source still failing, 11 polls in a row")
    watch.succeeded()
    watch.succeeded()
    assert said[-1] == "[PublishEventsFunction] event source working again after 11 failed polls"
    assert len(said) == 3


def test_a_source_falling_behind_is_said_and_so_is_its_catching_up(said: list[str]) -> None:
    clock = Clock()
    watch = SourceWatch("DeliverWebhooksFunction", said.append, clock)
    watch.lag(BEHIND_AFTER_S - 1)
    assert said == []
    watch.lag(BEHIND_AFTER_S + 12)
    watch.lag(BEHIND_AFTER_S + 13)
    assert said == [
        f"[DeliverWebhooksFunction] event source falling behind: it handed over work "
        f"{BEHIND_AFTER_S + 12:.0f} s old (merchant events and webhooks arrive late)"
    ]
    watch.lag(0)
    assert said[-1] == "[DeliverWebhooksFunction] event source caught up"


def test_a_background_thread_that_ends_unasked_is_said(said: list[str]) -> None:
    stopped = threading.Event()

    def crashes() -> None:
        raise MemoryError("no more")

    with pytest.raises(MemoryError):
        watched("event-sources", crashes, stopped, said.append, "merchant events no longer flow")
    watched("scheduler", lambda: None, stopped, said.append, "scheduled functions no longer run")
    stopped.set()
    watched("scheduler", lambda: None, stopped, said.append, "scheduled functions no longer run")
    assert said == [
        "[event-sources] stopped by MemoryError: no more: merchant events no longer flow; restart make dev",
        "[scheduler] stopped: scheduled functions no longer run; restart make dev",
    ]
