"""GET /notifications/rejected: the refused notifications of the last 7 days, newest first, masked
(payments/store/rejected.py keeps them). Paged like GET /events: `after` is the last id of the page
before, `next_after` the cursor for the next."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from payments.errors import ValidationFailed
from payments.outbox.event_queries import page_limit
from payments.provider_names import provider_names
from payments.store.rejected import ATTEMPT_ID_RE, RejectedNotifications


def rejected_page(
    store: RejectedNotifications,
    now: datetime,
    *,
    provider: str | None,
    after: str | None,
    limit_text: str | None,
) -> dict[str, Any]:
    if provider is not None and provider not in provider_names():
        raise ValidationFailed(
            "provider: must be one of " + ", ".join(provider_names()), field="provider", code="invalid_field"
        )
    if after is not None and not ATTEMPT_ID_RE.fullmatch(after):
        raise ValidationFailed(
            "after: must be the id of a refused notification (rej_…)", field="after", code="invalid_field"
        )
    limit = page_limit(limit_text)
    attempts = store.newest([provider] if provider else provider_names(), now, after=after, limit=limit)
    if attempts is None:
        raise ValidationFailed("after: no such refused notification", field="after", code="invalid_field")
    listed = [attempt.listed() for attempt in attempts]
    return {"rejected": listed, "next_after": listed[-1]["id"] if listed else after}
