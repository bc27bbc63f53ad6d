"""What the handlers call: the flows, over the one engine they share (and its clock).

Provider-neutral: everything provider-specific happens behind the `Provider` contract. Each flow is
imported and built when first used: a function loads only the flows it serves (its cold start).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from payments.clock import utc_now
from payments.engine import Engine
from payments.store.orders import OrdersStore

if TYPE_CHECKING:
    from payments.api import CreateOrderRequest, RefundRequest
    from payments.flows.cancellation import CancelFlow
    from payments.flows.creation import CreateFlow, CreateResult
    from payments.flows.notifications import NotificationFlow
    from payments.flows.reconcile import ReconcileFlow
    from payments.flows.refunds import RefundFlow, RefundResult
    from payments.flows.replay import ReplayFlow
    from payments.orders import Order
    from payments.providers.base import RawRequest, RawResponse
    from payments.providers.directory import ProviderDirectory


class PaymentsService:
    def __init__(
        self,
        store: OrdersStore,
        providers: ProviderDirectory,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.providers = providers
        self.engine = Engine(store, clock)

    @cached_property
    def creation(self) -> CreateFlow:
        from payments.flows.creation import CreateFlow

        return CreateFlow(self.store, self.providers, self.engine)

    @cached_property
    def notifications(self) -> NotificationFlow:
        from payments.flows.notifications import NotificationFlow

        return NotificationFlow(self.store, self.providers, self.engine)

    @cached_property
    def refunds(self) -> RefundFlow:
        from payments.flows.refunds import RefundFlow

        return RefundFlow(self.store, self.providers, self.engine)

    @cached_property
    def cancellation(self) -> CancelFlow:
        from payments.flows.cancellation import CancelFlow

        return CancelFlow(self.store, self.providers, self.engine)

    @cached_property
    def reconciliation(self) -> ReconcileFlow:
        from payments.flows.reconcile import ReconcileFlow

        return ReconcileFlow(self.store, self.providers, self.engine)

    @cached_property
    def replays(self) -> ReplayFlow:
        from payments.flows.replay import ReplayFlow

        return ReplayFlow(self.notifications)

    @property
    def clock(self) -> Callable[[], datetime]:
        """One clock for every flow: the engine's, which each flow reads (tests move it forward)."""
        return self.engine.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.engine.clock = clock

    def create_order(self, request: CreateOrderRequest, public_base_url: str) -> CreateResult:
        return self.creation.create_order(request, public_base_url)

    def receive_notification(self, provider_name: str, raw: RawRequest) -> RawResponse:
        return self.notifications.receive(provider_name, raw)

    def replay_notification(self, attempt_id: str, public_base_url: str) -> dict[str, Any]:
        return self.replays.replay(attempt_id, public_base_url)

    def refund(self, order_id: str, request: RefundRequest, public_base_url: str) -> RefundResult:
        return self.refunds.refund(order_id, request, public_base_url)

    def cancel(self, order_id: str) -> Order:
        return self.cancellation.cancel(order_id)

    def sync(self, order_id: str) -> Order:
        return self.reconciliation.sync(order_id)
