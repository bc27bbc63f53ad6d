"""What `make dev` says about its background work (the event source pollers, the scheduler): when a
source fails, when it falls behind, when it is well again, and when its thread stops — in a line
each, not a line a poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

BEHIND_AFTER_S = 30.0  # a record or message this old when handed over: merchant events run late
REPEAT_AFTER_S = 60.0  # a failure or lag that lasts is said again at most this often


class SourceWatch:
    """One background source's failures and lag: said when they start, again at most every
    REPEAT_AFTER_S while they last, and once when they end."""

    def __init__(self, name: str, log: Callable[[str], None], clock: Callable[[], float] = time.monotonic):
        self.name = name
        self.log = log
        self.clock = clock
        self.failures = 0
        self.behind = False
        self.last_said = 0.0

    def _say(self, line: str, *, again: bool = False) -> None:
        now = self.clock()
        if again and now - self.last_said < REPEAT_AFTER_S:
            return
        self.last_said = now
        self.log(f"[{self.name}] {line}")

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        what = f"{type(error).__name__}: {str(error)[:200]}"
        if self.failures == 1:
            self._say(f"event source failed ({what}); retrying every poll")
        else:
            self._say(f"event source still failing, {self.failures} polls in a row ({what})", again=True)

    def succeeded(self) -> None:
        if self.failures:
            self._say(f"event source working again after {self.failures} failed polls")
            self.failures = 0

    def lag(self, seconds: float) -> None:
        """The age of what the source last handed over (Lambda's IteratorAge)."""
        if seconds >= BEHIND_AFTER_S:
            first = not self.behind
            self.behind = True
            self._say(
                f"event source falling behind: it handed over work {seconds:.0f} s old "
                "(merchant events and webhooks arrive late)",
                again=not first,
            )
        elif self.behind:
            self.behind = False
            self._say("event source caught up")


def watched(
    name: str,
    loop: Callable[[], None],
    stopped: threading.Event,
    log: Callable[[str], None],
    consequence: str,
) -> None:
    """Run `loop` (a thread's whole life); say so, and what no longer happens, if it ends before
    `stopped` is set."""
    try:
        loop()
    except BaseException as exc:
        log(f"[{name}] stopped by {type(exc).__name__}: {str(exc)[:200]}: {consequence}; restart make dev")
        raise
    if not stopped.is_set():
        log(f"[{name}] stopped: {consequence}; restart make dev")
