"""What every provider sandbox offers besides its wire format: knobs, an outbox, and queries for tests.

Shared by the three sandboxes only (never by the adapters in `payments`): it knows nothing about any
provider's wire format. Each sandbox subclasses `SandboxControls` and adds its provider's actions.

- **Knobs**, per order, armed before or after the order exists:
  `drop_next_notification`, `refuse_next_refund`, `hold_refunds` / `release_refunds`, `timeout_once`,
  plus the provider's own (`pay`, `pay_silently`, `cancel`, `fail`, `expire`, ...). `control(order_id,
  action)` runs any of them by name; the local stack's `POST /_control/{order_id}/{action}` calls it.
- **Outbox**: notifications the provider sends on its own (a payment, a finished refund, a cancel) are
  queued here instead of being POSTed. The local stack's `SandboxServer` delivers them over HTTP after
  each request; in-process tests `take_notifications()` and deliver them themselves.
- **timeout_once**: the next API call about the order is processed, then `handle()` raises
  `ReplyLost` instead of answering. The transport turns that into what the caller would see (a read
  timeout in-process, a connection closed without an answer over HTTP).
- **Queries**: `refunds(order_id)`, `calls_for(order_id)`, `status_of(order_id)`, `produced`, `dropped`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

Reply = tuple[int, dict[str, str], bytes]


class ReplyLost(Exception):
    """The sandbox processed the request, but its reply never reaches the caller (`timeout_once`)."""

    def __init__(self, order_id: str, reply: Reply, hang_seconds: float = 0.0) -> None:
        super().__init__(f"the reply about order {order_id} was lost on purpose")
        self.order_id = order_id
        self.reply = reply
        self.hang_seconds = hang_seconds  # over HTTP: keep the connection open this long, then close


class OrderClosed(Exception):
    """A payer action on an order the provider no longer lets anyone pay (paid, closed, cancelled)."""


class UnknownAction(Exception):
    """A control action this sandbox does not offer."""


class NothingToRedeliver(LookupError):
    """`redeliver` for an order the provider has sent nothing about yet."""


@dataclass(frozen=True)
class Notification:
    """A notification as the provider sends it to the merchant: POST `body` to `url` with `headers`."""

    order_id: str  # the merchant's order id it is about
    url: str
    headers: dict[str, str]
    body: bytes
    what: str  # for people and logs: "payment completed", "refund rf-1 succeeded"
    message_id: str = ""  # Alipay's reqMsgId (its acknowledgement must echo it); "" elsewhere
    method: str = "POST"


@dataclass(frozen=True)
class RefundView:
    """A refund as the provider holds it, in words common to every sandbox."""

    refund_id: str  # the provider's id for it
    merchant_refund_id: str  # the merchant's id for it ("" where the provider keeps none)
    amount: int  # minor units
    currency: str
    status: str  # "pending" | "succeeded" | "failed"
    provider_status: str  # the provider's own word


@dataclass(frozen=True)
class CallRecord:
    """An API call the sandbox received about an order, and how it answered."""

    order_id: str
    # Every sandbox names its calls alike, whatever the provider calls them: "create", "get" or
    # "query" (reading the order), "refund", "cancel".
    operation: str
    outcome: str  # "ok", or the provider's error/result code
    reply_lost: bool = False


@dataclass
class OrderKnobs:
    drop_notifications: int = 0
    refuse_next_refund: bool = False
    fail_next_refund: bool = False  # accepted, then its result is `failed` (where a sandbox offers it)
    refunds_held: bool = False
    timeout_once: bool = False
    hang_seconds: float = 0.0  # over HTTP: how long to keep a lost reply's connection open
    busy_next_query: bool = False  # the next query answers "system busy" (where a sandbox offers it)


@dataclass(kw_only=True)
class SandboxControls:
    outbox: list[Notification] = field(default_factory=list)
    produced: list[Notification] = field(default_factory=list)  # every notification, delivered or not
    dropped: list[Notification] = field(default_factory=list)
    knobs: dict[str, OrderKnobs] = field(default_factory=dict)
    call_log: list[CallRecord] = field(default_factory=list)

    # Knobs that may be armed for an order the provider has not seen yet (e.g. before its create).
    PRE_ARMABLE: ClassVar[frozenset[str]] = frozenset(
        {"drop_next_notification", "refuse_next_refund", "hold_refunds", "timeout_once"}
    )

    # -- provider-specific: each sandbox implements these --------------------------------------------
    def knows(self, order_id: str) -> bool:
        raise NotImplementedError

    def status_of(self, order_id: str) -> str:
        """The provider's own word for the order's state now."""
        raise NotImplementedError

    def refunds(self, order_id: str) -> list[RefundView]:
        raise NotImplementedError

    def actions(self) -> dict[str, Callable[[str], None]]:
        """Control actions by name: the knobs and the payer's actions. Subclasses extend this with
        their provider's own."""
        return {
            "drop_next_notification": self.drop_next_notification,
            "refuse_next_refund": self.refuse_next_refund,
            "hold_refunds": self.hold_refunds,
            "release_refunds": self.release_refunds,
            "timeout_once": self.timeout_once,
            "redeliver": self.redeliver,
            "pay": self.pay,
            "pay_silently": self.pay_silently,
            "cancel": self.cancel,
            "fail": self.fail,
            "expire": self.expire,
        }

    # -- the payer's actions at the checkout (each sandbox says what they do at its provider) -------
    def payer_action(self, order_id: str, action: str, *, notify: bool) -> None:
        """The payer does `action` ("pay", "cancel", "fail", "expire") on the provider's page; the
        provider notifies it when `notify`. OrderClosed when the order can no longer be acted on."""
        raise NotImplementedError

    def pay(self, order_id: str) -> None:
        self.payer_action(order_id, "pay", notify=True)

    def pay_silently(self, order_id: str) -> None:
        """Paid at the provider; no notification is sent (only its status query tells)."""
        self.payer_action(order_id, "pay", notify=False)

    def cancel(self, order_id: str) -> None:
        self.payer_action(order_id, "cancel", notify=True)

    def fail(self, order_id: str) -> None:
        self.payer_action(order_id, "fail", notify=True)

    def expire(self, order_id: str) -> None:
        self.payer_action(order_id, "expire", notify=True)

    def release_refunds(self, order_id: str) -> None:
        raise NotImplementedError

    def release_refund(self, order_id: str, merchant_refund_id: str) -> None:
        """One held refund of the order gets its result now (as `release_refunds` gives each), the
        others stay held: refunds completed in another order than they were asked."""
        raise NotImplementedError

    # -- knobs -----------------------------------------------------------------------------------------
    def knob(self, order_id: str) -> OrderKnobs:
        return self.knobs.setdefault(order_id, OrderKnobs())

    def drop_next_notification(self, order_id: str) -> None:
        """The next notification about the order is made (and kept in `dropped`) but never sent."""
        self.knob(order_id).drop_notifications += 1

    def refuse_next_refund(self, order_id: str) -> None:
        """The provider refuses the next refund of the order outright (its own refusal reply)."""
        self.knob(order_id).refuse_next_refund = True

    def hold_refunds(self, order_id: str) -> None:
        """Refunds of the order asked from now on wait for `release_refunds` before they complete."""
        self.knob(order_id).refunds_held = True

    def timeout_once(self, order_id: str, hang_seconds: float = 0.0) -> None:
        """The next API call about the order is processed, but its reply is lost (`ReplyLost`)."""
        knobs = self.knob(order_id)
        knobs.timeout_once = True
        knobs.hang_seconds = hang_seconds

    def control(self, order_id: str, action: str) -> None:
        """Run a control action by name. KeyError: unknown order; OrderClosed; UnknownAction."""
        actions = self.actions()
        if action not in actions:
            raise UnknownAction(action)
        if action not in self.PRE_ARMABLE and not self.knows(order_id):
            raise KeyError(order_id)
        actions[action](order_id)

    # -- the outbox ------------------------------------------------------------------------------------
    def take_notifications(self, order_id: str | None = None) -> list[Notification]:
        """Pending notifications (all, or the order's), oldest first; they leave the outbox."""
        taken = [n for n in self.outbox if order_id is None or n.order_id == order_id]
        self.outbox = [n for n in self.outbox if order_id is not None and n.order_id != order_id]
        return taken

    def notifications_for(self, order_id: str) -> list[Notification]:
        """Every notification made about the order, delivered or dropped, oldest first."""
        return [n for n in self.produced if n.order_id == order_id]

    def redeliver(self, order_id: str) -> None:
        """The provider sends its latest notification about the order again (as its retries do);
        a dropped one too: that is how a lost notification still arrives."""
        sent = self.notifications_for(order_id)
        if not sent:
            raise NothingToRedeliver(order_id)
        self.outbox.append(self._again(sent[-1]))

    def _again(self, notification: Notification) -> Notification:
        """A retry of `notification`; providers that re-sign retries override this."""
        return replace(notification)

    def _send(self, notification: Notification) -> None:
        self.produced.append(notification)
        knobs = self.knob(notification.order_id)
        if knobs.drop_notifications:
            knobs.drop_notifications -= 1
            self.dropped.append(notification)
        else:
            self.outbox.append(notification)

    # -- calls ------------------------------------------------------------------------------------------
    def calls_for(self, order_id: str) -> list[CallRecord]:
        return [call for call in self.call_log if call.order_id == order_id]

    def _answered(self, order_id: str | None, operation: str, outcome: str, reply: Reply) -> Reply:
        """Log a processed API call; with `timeout_once` armed for the order, lose its reply."""
        if order_id is None:
            return reply
        knobs = self.knobs.get(order_id)
        lost = knobs is not None and knobs.timeout_once
        self.call_log.append(CallRecord(order_id, operation, outcome, reply_lost=lost))
        if knobs is not None and lost:
            knobs.timeout_once = False
            raise ReplyLost(order_id, reply, knobs.hang_seconds)
        return reply

    def view(self, order_id: str) -> dict[str, Any]:
        """What the control API's `GET /_control/{order_id}` answers."""
        return {
            "order_id": order_id,
            "status": self.status_of(order_id),
            "refunds": [vars(refund) for refund in self.refunds(order_id)],
            "calls": [
                {"operation": c.operation, "outcome": c.outcome, "reply_lost": c.reply_lost}
                for c in self.calls_for(order_id)
            ],
            "notifications": {
                "made": len(self.notifications_for(order_id)),
                "dropped": sum(1 for n in self.dropped if n.order_id == order_id),
                "waiting": sum(1 for n in self.outbox if n.order_id == order_id),
            },
        }
