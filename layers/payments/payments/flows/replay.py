"""POST /notifications/rejected/{id}/replay: a refused notification's kept request, run again through
today's configuration and the gate exactly as if the provider had sent it again (the notification
flow's `deliver`). It can apply only what a fresh delivery would apply: the same verification, the
same gate; only the time its signature's age is judged against is the time it first arrived.
"""

from __future__ import annotations

from typing import Any

from payments.errors import NotFound, PaymentsError
from payments.flows.notifications import APPLIED, DUPLICATE, REFUSED, NotificationFlow
from payments.orders import ORDER_ID_RE
from payments.providers.base import RawRequest
from payments.store.rejected import RejectedNotifications


class RequestNoLongerKept(PaymentsError):
    status = 410
    code = "request_not_kept"


class ReplayFlow:
    def __init__(self, notifications: NotificationFlow) -> None:
        self.notifications = notifications
        self.rejected: RejectedNotifications = notifications.rejected

    def replay(self, attempt_id: str, public_base_url: str) -> dict[str, Any]:
        found = self.rejected.kept_request(attempt_id)
        if found is None:
            raise NotFound("no such refused notification", field="id", code="rejected_not_found")
        attempt, kept = found
        if kept is None:
            raise RequestNoLongerKept(
                "id: the request of this refused notification is no longer kept (7 days, 64 KB at most)",
                field="id",
            )
        raw = RawRequest(
            method=kept.method,
            body=kept.body,
            headers=kept.headers,
            query=kept.query,
            now=kept.received_at,  # a signature's age is judged as when it arrived, never later
            url=f"{public_base_url}/notify/{attempt.provider}",  # today's published address
            received_path=kept.received_path,
            source_ip=kept.source_ip,
        )
        delivery = self.notifications.deliver(attempt.provider, raw, replay=True)
        diagnosis = delivery.diagnosis
        order = None
        if delivery.order_id and ORDER_ID_RE.match(delivery.order_id) and delivery.result != REFUSED:
            found_order = self.notifications.store.get_with_refunds(delivery.order_id)
            order = found_order[0].to_public() if found_order else None
        return {
            "result": delivery.result if delivery.result in (APPLIED, DUPLICATE) else REFUSED,
            "code": diagnosis.code if diagnosis else None,
            "explanation": diagnosis.explanation if diagnosis else None,
            "order": order,
        }
