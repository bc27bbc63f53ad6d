"""Antom's own checks on its sample events (events/antom/)."""

from __future__ import annotations

from tests.integration.test_sample_events import SampleRun

DRIVES: dict[str, str] = {}  # its events are driven by the generic tests alone


def after_paid(run: SampleRun) -> None:
    # Antom's acknowledgement, exactly.
    assert (run.notified.status, run.notified.body) == (
        200,
        '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}',
    )
