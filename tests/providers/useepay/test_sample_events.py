"""UseePay's own checks on its sample events (events/useepay/)."""

from __future__ import annotations

from tests.integration.test_sample_events import SampleRun

DRIVES: dict[str, str] = {}  # its create, get and notification are driven by the generic test alone


def after_paid(run: SampleRun) -> None:
    # UseePay's acknowledgement of the signed sample: the text it waits for.
    assert (run.notified.status, run.notified.body) == (200, "ok")
