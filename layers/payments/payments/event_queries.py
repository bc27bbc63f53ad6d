"""GET /events and POST /events/{event_id}/redeliver: the merchant catches up on what it missed."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from payments.errors import NotFound, ValidationFailed
from payments.publisher import EventPublisher

EVENT_ID_RE = re.compile(r"evt_[0-9TZ]{15,30}_[0-9a-f]{16}")
DEFAULT_LIMIT = 50


@lru_cache(maxsize=1)
def publisher() -> EventPublisher:
    return EventPublisher.from_env()


def events_page(after: str | None, limit_text: str | None) -> dict[str, Any]:
    """Events oldest first, after the event `after` (its id); `next_after` to ask for the next page."""
    if after is not None and not EVENT_ID_RE.fullmatch(after):
        raise ValidationFailed(
            "after: must be the id of an event (evt_…)", field="after", code="invalid_field"
        )
    limit = DEFAULT_LIMIT
    if limit_text is not None:
        if not limit_text.isascii() or not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
            raise ValidationFailed(
                "limit: must be a whole number from 1 to 100", field="limit", code="invalid_field"
            )
        limit = int(limit_text)
    events = [json.loads(body) for body in publisher().store.merchant_events_after(after, limit)]
    return {"events": events, "next_after": events[-1]["id"] if events else after}


def redeliver(event_id: str) -> dict[str, Any]:
    if not EVENT_ID_RE.fullmatch(event_id):
        raise NotFound("no such event", field="event_id", code="event_not_found")
    event = publisher().redeliver(event_id)
    if event is None:
        raise NotFound("no such event", field="event_id", code="event_not_found")
    return {"redelivered": event.to_dict()}
