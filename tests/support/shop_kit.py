"""A merchant's backend with one provider and that provider's sandbox, through the real handlers:
the `shop` fixture runs a test once per registered provider (its kit's first variant)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import responses

from local.testing import Reply, kit_of, kits
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.orders import order_body
from tests.support.providers import Kit, mount


@dataclass
class Shop:
    """A merchant's backend, one provider, and that provider's sandbox."""

    provider: str
    sandbox: Any
    api: Api

    @property
    def kit(self) -> Kit:
        return kit_of(self.provider)

    def create(self, order_id: str, value: int = 1000) -> dict[str, Any]:
        body = order_body(order_id, provider=self.provider, amount={"value": value, "currency": "EUR"})
        reply = self.api.request("POST", "/orders", body=body)
        assert reply.status == 201, reply.body
        return reply.json()  # type: ignore[no-any-return]

    def deliver(self) -> list[int]:
        """Deliver what the provider sent on its own (payments, finished refunds, cancels)."""
        return [
            self.api.request(n.method, n.url, body=n.body, headers=n.headers, api_key=None).status
            for n in self.sandbox.take_notifications()
        ]

    def paid(self, order_id: str, value: int = 1000) -> None:
        self.create(order_id, value)
        self.sandbox.pay(order_id)
        assert self.deliver() == [200]
        assert self.read(order_id)["status"] == "paid"

    def refund(self, order_id: str, refund_id: str, **body: Any) -> Reply:
        return self.api.request("POST", f"/orders/{order_id}/refunds", body={"refund_id": refund_id, **body})

    def cancel(self, order_id: str, body: Any = None) -> Reply:
        return self.api.request("POST", f"/orders/{order_id}/cancel", body=body)

    def read(self, order_id: str) -> dict[str, Any]:
        return self.api.request("GET", f"/orders/{order_id}").json()  # type: ignore[no-any-return]

    def provider_refunds(self, order_id: str) -> list[Any]:
        return list(self.sandbox.refunds(order_id))

    # -- reconciliation ------------------------------------------------------------------------
    def reconcile(self, after: timedelta = timedelta(minutes=3)) -> dict[str, Any]:
        """One scheduled run of the reconciler, `after` from now (its clock moved forward)."""
        function = self.api.functions["ReconcileFunction"]
        later = datetime.now(UTC) + after
        function.module.service.clock = lambda: later
        report: dict[str, Any] = function.run({"source": "aws.scheduler", "detail-type": "Scheduled Event"})
        return report

    def sync(self, order_id: str) -> Reply:
        return self.api.request("POST", f"/orders/{order_id}/sync")


@pytest.fixture(params=list(kits()))
def shop(
    request: pytest.FixtureRequest, stack: Any, wire: responses.RequestsMock, link: ProviderLink, api: Api
) -> Shop:
    kit = kit_of(request.param)
    return Shop(kit.name, mount(kit, stack, wire, link), api)
