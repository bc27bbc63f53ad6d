"""Alipay's own checks on its sample events (events/alipay_intl/): its signed acknowledgement of the
notification sample."""

from __future__ import annotations

from local.testing import kit_of
from tests.integration.test_sample_events import SampleRun

KIT = kit_of("alipay_intl")
DRIVES: dict[str, str] = {}  # its events are driven by the generic tests alone


def after_paid(run: SampleRun) -> None:
    # Alipay's signed reply envelope, saying SUCCESS.
    assert '"resultCode":"SUCCESS"' in run.notified.body
