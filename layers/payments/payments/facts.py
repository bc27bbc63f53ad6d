"""What a provider can state about an order, provider-neutral.

Adapters turn every verified notification, create reply, status query and refund reply into these;
the gate (payments/flows/gate.py) checks each one against the order before the engine applies anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from datetime import datetime
from enum import StrEnum
from typing import Any

from payments.money import Money
from payments.orders import OrderStatus
from payments.records import frozen


class RefundStatus(StrEnum):
    PENDING = "pending"  # the provider accepted it; the result follows
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # we could not tell yet


FINAL_REFUND_STATUSES = frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED})

# `occurred_at` of a money fact: when the provider says the money moved (its payment, refund or
# chargeback time; UTC-aware), None when it does not say (payments/providers/stated_time.py). It only
# files the fact's report line under its day (payments/daily_report.py): it is left out of equality and
# repr, so the gate's decisions and its once-per-fact records (Plan.flag) never depend on it.


class CancelResult(StrEnum):
    """What a provider's cancel call achieved (a refusal or an unclear answer raises instead)."""

    WITHDRAWN = "withdrawn"  # the provider closed the payment: the payer can no longer pay it
    NOT_AT_PROVIDER = "not_at_provider"  # the provider never had it: nothing to withdraw
    NO_CANCEL_CALL = "no_cancel_call"  # the provider has no such call: its checkout closes on expiry


@frozen
class PaymentFact:
    """The payment is in `status`. `amount` is what the provider says is (to be) paid, if it says."""

    status: OrderStatus
    amount: Money | None
    occurred_at: datetime | None = field(default=None, compare=False, repr=False)


@frozen
class RefundFact:
    """One refund, identified by the provider-facing id both sides know (never by a field that an
    ambiguous encoding could cut away): the id we sent for our own refunds, the provider's for others."""

    key: str
    amount: Money
    status: RefundStatus
    provider_reference: str | None = None
    occurred_at: datetime | None = field(default=None, compare=False, repr=False)


@frozen
class RefundedTotalFact:
    """The provider's cumulative refunded amount for the order, for a provider that reports refunds
    as the order's refunded total (RefundReporting.ORDER_REFUNDED_TOTAL)."""

    total: Money
    occurred_at: datetime | None = field(default=None, compare=False, repr=False)


@frozen
class ChargebackFact:
    """The provider reports a chargeback, for the amount it states when it states one."""

    amount: Money | None = None
    occurred_at: datetime | None = field(default=None, compare=False, repr=False)


Fact = PaymentFact | RefundFact | RefundedTotalFact | ChargebackFact


@frozen
class PaymentAction:
    """How the merchant sends the payer on: a redirect (GET link or POST form) or a code to show."""

    type: str  # "redirect" | "qr_code"
    url: str | None = None
    method: str | None = None
    form: Mapping[str, str] | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        for key in ("url", "method", "code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.form is not None:
            data["form"] = dict(self.form)
        return data


@frozen
class Statement:
    """A verified statement from the provider about one order: one or more facts.

    Made from a notification, a status query, a create reply or a refund reply; whatever the road,
    it goes through the same gate.
    """

    order_id: str
    facts: tuple[Fact, ...]
    provider_status: str
    verified_by: str  # how we know it is genuine: "hmac-sha512", "provider-query", …
    provider_reference: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # redacted, for the audit trail
    # Known when the provider tells where the payer pays (a create reply, some queries).
    payment_url: str | None = None
    action: PaymentAction | None = None
    # What the provider's acknowledgement must echo (e.g. the notification's message id); opaque to
    # the service.
    reply_context: Mapping[str, str] = field(default_factory=dict)
    # Set when the provider's protocol says to acknowledge and do nothing (e.g. a legacy notification
    # without a timestamp). The service then neither reads nor writes the order.
    no_op_reason: str | None = None
    # An unsigned hint that something changed (e.g. a provider's legacy unsigned GET): believe nothing
    # in it; if we hold the order and it is open, ask the provider and apply what it answers.
    needs_query: bool = False

    @property
    def payment(self) -> PaymentFact | None:
        return next((fact for fact in self.facts if isinstance(fact, PaymentFact)), None)

    @property
    def status(self) -> OrderStatus:
        """The payment's status as stated (`unknown` when the statement is not about the payment)."""
        payment = self.payment
        return payment.status if payment else OrderStatus.UNKNOWN

    @property
    def amount(self) -> Money | None:
        payment = self.payment
        return payment.amount if payment else None
