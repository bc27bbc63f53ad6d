"""GET /events: the merchant catches up on what it missed, from the kept events (payments/store/
merchant_events.py). Sending one again is a command: the publisher's (publisher.py, `redeliver`)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from payments.clock import utc_now
from payments.errors import ValidationFailed
from payments.outbox.merchant_events import EVENT_ID_RE
from payments.store.merchant_events import MerchantEventStore

DEFAULT_LIMIT = 50
# Events are listed in the order they were stored, and only those stored longer ago than this: a
# publisher stamps an event just before writing it, and its write lands within the publish function's
# timeout (template.yaml: 60 s) or not at all, so after twice that nothing can appear before a cursor
# already handed out. The webhooks and the bus are the real-time path; this list is for catching up.
SETTLE_S = 120


def page_limit(text: str | None) -> int:
    """A listing's `limit` query parameter: 1 to 100, DEFAULT_LIMIT when absent (422 otherwise)."""
    if text is None:
        return DEFAULT_LIMIT
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 100:
        raise ValidationFailed(
            "limit: must be a whole number from 1 to 100", field="limit", code="invalid_field"
        )
    return int(text)


def events_page(store: MerchantEventStore, after: str | None, limit_text: str | None) -> dict[str, Any]:
    """Events in the order they were stored (oldest first), after the event `after` (its id);
    `next_after` to ask for the next page. Paging on with `next_after` gives every event once."""
    if after is not None and not EVENT_ID_RE.fullmatch(after):
        raise ValidationFailed(
            "after: must be the id of an event (evt_…)", field="after", code="invalid_field"
        )
    limit = page_limit(limit_text)
    stored_before = utc_now() - timedelta(seconds=SETTLE_S)
    bodies = store.listed_after(after, limit, stored_before)
    if bodies is None:
        raise ValidationFailed(
            "after: no such event (events are kept for 30 days)", field="after", code="invalid_field"
        )
    events = [json.loads(body) for body in bodies]
    return {"events": events, "next_after": events[-1]["id"] if events else after}
