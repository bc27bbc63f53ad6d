"""What every flow stands on: the orders store, the provider directory and the engine, whose clock is
the flows' one clock; the lease a request holds while it talks to a provider; reading an order or
answering 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from payments.engine import Engine
from payments.errors import NotFound
from payments.ledger import Refund
from payments.orders import ORDER_ID_RE, Order
from payments.store.orders import OrdersStore

if TYPE_CHECKING:
    from payments.providers.directory import ProviderDirectory

# How long a request may talk to the provider about an order or a refund before another may take over:
# longer than a provider call can take (3 s connect + 10 s read, with retries), short enough for a
# retry after a crash.
LEASE = timedelta(seconds=60)


def lease_until(now: datetime) -> int:
    """When a lease taken `now` runs out (epoch seconds, as the store keeps it)."""
    return int((now + LEASE).timestamp())


class Flow:
    def __init__(self, store: OrdersStore, providers: ProviderDirectory, engine: Engine) -> None:
        self.store = store
        self.providers = providers
        self.engine = engine

    @property
    def clock(self) -> Callable[[], datetime]:
        """The engine's: what a flow stamps and the changes it commits tell one time (tests move it)."""
        return self.engine.clock

    def read(self, order_id: str) -> tuple[Order, list[Refund]]:
        """The order and its refunds; 404 for an id that cannot exist or does not."""
        found = self.store.get_with_refunds(order_id) if ORDER_ID_RE.match(order_id) else None
        if found is None:
            raise NotFound("no such order", field="order_id", code="order_not_found")
        return found
