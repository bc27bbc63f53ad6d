"""The order, its unified status and the transition table every status change goes through."""

from __future__ import annotations

import re
from dataclasses import field
from enum import StrEnum
from typing import Any, Literal, get_args

from payments.money import Money
from payments.records import frozen, mutable

ORDER_ID_PATTERN = r"^[A-Za-z0-9._-]{1,50}$"
ORDER_ID_RE = re.compile(ORDER_ID_PATTERN)

# Every wallet the API names (`wallet` in POST /orders), in the order messages and documents list
# them: the one table of wallets. Each adapter's capabilities say which it offers, and it maps them
# to its own words (payments/providers/capabilities.py).
Wallet = Literal[
    "alipay_cn",  # Alipay (mainland China)
    "alipay_hk",  # AlipayHK
    "alipay_plus",  # an Alipay+ wallet the payer picks on the provider's page
    "gcash",
    "dana",
    "kakaopay",
    "truemoney",
    "tng",  # Touch 'n Go eWallet
    "bkash",
    "easypaisa",
]
WALLETS: tuple[Wallet, ...] = get_args(Wallet)
DEFAULT_WALLET: Wallet = "alipay_cn"  # the API's default, where the provider's settings name none


class OrderStatus(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    UNKNOWN = "unknown"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    CHARGED_BACK = "charged_back"


S = OrderStatus
OPEN = frozenset({S.CREATED, S.PENDING, S.UNKNOWN})
UNPAID_FINAL = frozenset({S.FAILED, S.CANCELLED, S.EXPIRED})
UNPAID = OPEN | UNPAID_FINAL
# Statuses whose money the refund ledger tracks: the status follows the refunded total.
LEDGER_STATUSES = frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED})

# target status -> the statuses it may be applied from. Anything else is ignored (and recorded).
# Refund statuses are never reported directly: the refund ledger derives them from its totals
# (payments/ledger.py), and an unpaid order is first moved to `paid` by the fact that proves it.
ALLOWED_PREDECESSORS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.CREATED, S.UNKNOWN}),
    S.UNKNOWN: frozenset({S.CREATED}),  # only "we could not tell" at creation; never a step back
    # The provider is the source of truth on money: a late payment is applied (and flagged).
    S.PAID: UNPAID,
    S.FAILED: OPEN,
    S.CANCELLED: OPEN,
    S.EXPIRED: OPEN,
    S.PARTIALLY_REFUNDED: frozenset({S.PAID}),
    S.REFUNDED: frozenset({S.PAID, S.PARTIALLY_REFUNDED}),
    S.CHARGED_BACK: LEDGER_STATUSES,
    S.CREATED: frozenset(),
}


class Outcome(StrEnum):
    APPLY = "apply"
    DUPLICATE = "duplicate"  # already in that status: nothing to write
    IGNORE = "ignore"  # would move the order backwards or sideways: recorded, not applied


@frozen
class Decision:
    """What a verified report of a new status does to an order: the outcome and its flags."""

    outcome: Outcome
    flags: tuple[str, ...] = ()
    reason: str | None = None


def decide(current: OrderStatus, target: OrderStatus) -> Decision:
    """What to do with a verified report that the order is now `target`."""
    if target == current:
        return Decision(Outcome.DUPLICATE)
    if current not in ALLOWED_PREDECESSORS[target]:
        return Decision(Outcome.IGNORE, reason=f"not_allowed_from_{current}")
    if target == S.PAID and current in UNPAID_FINAL:
        return Decision(Outcome.APPLY, flags=("late_payment",))
    return Decision(Outcome.APPLY)


def watched(order: Order) -> bool:
    """Cancelled here while its provider's checkout, which has no cancel call, could still be paid:
    the provider is still asked about it (reconciliation until `watch_until`, and `sync`)."""
    return order.status == S.CANCELLED and order.watch_until is not None


def ledger_status(amount: Money, refunded_value: int) -> OrderStatus:
    """The status a paid order's refunded total implies."""
    if refunded_value <= 0:
        return S.PAID
    return S.REFUNDED if refunded_value >= amount.value else S.PARTIALLY_REFUNDED


@mutable
class Order:
    """An order as stored: what the merchant asked, the provider's references, its status and money."""

    order_id: str
    provider: str
    status: OrderStatus
    amount: Money
    description: str
    return_url: str | None  # given where the provider uses it (its capabilities' payer_urls)
    cancel_url: str | None
    flow: str
    terminal_type: str
    request_hash: str
    created_at: str
    updated_at: str
    expires_at: str
    version: int = 1
    wallet: str = DEFAULT_WALLET  # one of WALLETS: what the payer pays with
    metadata: dict[str, str] = field(default_factory=dict)
    payment_url: str | None = None
    payment_action: dict[str, Any] | None = None
    provider_reference: str | None = None
    provider_status: str | None = None
    # The refund ledger's totals, in minor units of the order's currency: refunds that succeeded, and
    # merchant refunds in flight (reserved before the provider is called, released if it refuses).
    refunded_value: int = 0
    reserved_value: int = 0
    flags: tuple[str, ...] = ()  # what a person should look at: amount_mismatch, late_payment, …
    event_seq: int = 0  # the sequence number of the order's newest audit event
    # Reports recorded once: "<status>:<provider word>" of refused moves, "once:<digest>" of flagged facts.
    ignored_reports: tuple[str, ...] = ()
    checks: int = 0  # times reconciliation asked the provider about it (payments/schedule.py)
    lease_until: int | None = None  # epoch seconds: a request is talking to the provider until then
    # A verified statement gave the payment's amount, and it was ours: a refund or chargeback reported
    # without the payment's amount may then prove the payment (payments/flows/gate.py).
    amount_confirmed: bool = False
    # Cancelled here while the provider's checkout, which has no cancel call, may still take a payment:
    # reconciliation keeps asking until then (ISO time; payments/schedule.py).
    watch_until: str | None = None

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_value, self.amount.currency)

    @property
    def refundable(self) -> Money:
        """What a merchant may still refund: the amount minus refunds succeeded and in flight."""
        if self.status not in (S.PAID, S.PARTIALLY_REFUNDED):
            return Money(0, self.amount.currency)
        return Money(
            max(0, self.amount.value - self.refunded_value - self.reserved_value), self.amount.currency
        )

    def to_public(self) -> dict[str, Any]:
        """The order as the merchant API shows it."""
        return {
            "order_id": self.order_id,
            "provider": self.provider,
            "wallet": self.wallet,
            "status": str(self.status),
            "amount": self.amount.to_dict(),
            "refunded_amount": self.refunded.to_dict(),
            "refundable_amount": self.refundable.to_dict(),
            "description": self.description,
            "payment_url": self.payment_url,
            "payment_action": self.payment_action,
            "provider_reference": self.provider_reference,
            "flags": list(self.flags),
            "metadata": self.metadata,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": self.expires_at,
        }


@frozen
class OrderEvent:
    """One line of an order's audit history: verified facts and our own actions only."""

    type: str
    at: str
    source: str
    from_status: OrderStatus | None = None
    to_status: OrderStatus | None = None
    provider_status: str | None = None
    verified: bool | None = None
    flags: tuple[str, ...] = ()
    reason: str | None = None
    payload: dict[str, Any] | None = None
    refund: dict[str, Any] | None = None  # the refund this event is about, as the API shows it
    # When the provider says the money moved, if it says (payments/facts.py), written like `at`; `at` is
    # when we recorded it.
    occurred_at: str | None = None
    seq: int = 0  # per order, from 1, in commit order; assigned by the store

    def to_public(self) -> dict[str, Any]:
        public: dict[str, Any] = {"seq": self.seq, "type": self.type, "at": self.at, "source": self.source}
        optional = {
            "from_status": self.from_status and str(self.from_status),
            "to_status": self.to_status and str(self.to_status),
            "provider_status": self.provider_status,
            "verified": self.verified,
            "flags": list(self.flags) or None,
            "reason": self.reason,
            "refund": self.refund,
            "occurred_at": self.occurred_at,
            "payload": self.payload,
        }
        public.update({key: value for key, value in optional.items() if value is not None})
        return public
