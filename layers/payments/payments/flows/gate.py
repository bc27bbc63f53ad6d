"""The one gate for provider facts. Notifications, create replies, status queries and refund replies all
come through `admit` before anything changes:

- the order exists and belongs to the provider that speaks (`check_owner` before the order is read for
  a notification; `admit` again for every statement, whatever route brought it);
- a payment fact's amount and currency equal the order's — otherwise it is never applied: the order is
  flagged `amount_mismatch` and stays as it was;
- refund, refunded-total and chargeback facts go to the refund ledger. One about an order we hold
  unpaid implies a payment, and that payment is a payment fact like any other: applied (flagged) only
  when its amount is known to be ours — stated in the same statement, in the provider's answer to a
  query just made (`evidence`), or confirmed by an earlier verified statement (`amount_confirmed`).
  Otherwise nothing is applied and the order is flagged (`amount_mismatch`, `payment_unverified`);
  a flow that can ask the provider first does so (`needs_payment_proof`). A refund in another
  currency, or a total beyond what was paid, is flagged and not applied; a refund in a status we do not
  map is recorded, flagged, and changes nothing (never acknowledged unrecorded).
- every flagged fact is recorded once (`Plan.flag`): the same report again changes nothing.
- a fact's provider time (`occurred_at`) goes on the events it records, for the daily report; it
  decides nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from aws_lambda_powertools import Logger

from payments import ledger
from payments.clock import iso
from payments.engine import Plan
from payments.errors import NotificationRejected
from payments.facts import (
    ChargebackFact,
    Fact,
    PaymentFact,
    RefundedTotalFact,
    RefundFact,
    RefundStatus,
    Statement,
)
from payments.ledger import Refund
from payments.money import Money
from payments.orders import LEDGER_STATUSES, UNPAID_FINAL, Order, OrderStatus

logger = Logger()


def check_owner(order: Order | None, provider_name: str, statement: Statement) -> Order:
    """The order a verified statement is about, if we hold it for that provider."""
    if order is None or order.provider != provider_name:
        from payments.refusals import OTHER_PROVIDER, UNKNOWN_ORDER, Diagnosis, default_explanation

        # One answer to the provider either way; the merchant is told which (payments/refusals.py).
        diagnosis = (
            Diagnosis(UNKNOWN_ORDER, default_explanation(UNKNOWN_ORDER, provider_name, ""))
            if order is None
            else Diagnosis(
                OTHER_PROVIDER,
                f"verified, but order {statement.order_id[:64]} was made with {order.provider}, not "
                f"{provider_name}: the provider's account may be shared with another shop or environment",
            )
        )
        raise NotificationRejected(
            "unknown_order",
            "no such order for this provider",
            status=404,
            claimed_order_id=statement.order_id,
            reply_context=statement.reply_context,
            diagnosis=diagnosis,
        )
    return order


def admit(
    plan: Plan,
    statement: Statement,
    *,
    provider: str,
    record_ignored: bool = False,
    evidence: Statement | None = None,
) -> None:
    """Decide what `statement` does to the order in `plan`, fact by fact. `provider` is the adapter
    that produced the statement (the one we called, or that verified the notification). `evidence`:
    the provider's answer to a query made just before, about the same order (`needs_payment_proof`),
    whose payment amount stands for the one `statement` does not state."""
    if not _owned(plan, statement, provider):
        return
    plan.status_word = statement.provider_status
    changes = {
        "provider_reference": statement.provider_reference,
        "provider_status": statement.provider_status,
        "payment_url": statement.payment_url,
        "payment_action": statement.action.to_dict() if statement.action else None,
    }
    stated = statement.amount
    if stated is None and evidence is not None and evidence.order_id == statement.order_id:
        stated = evidence.amount
    for fact in statement.facts:
        # The events this fact records keep the provider's time of it; no decision reads it.
        plan.occurred_at = iso(fact.occurred_at.astimezone(UTC)) if fact.occurred_at else None
        if isinstance(fact, PaymentFact):
            _payment(plan, fact, changes, record_ignored)
        elif isinstance(fact, RefundFact):
            _refund(plan, fact, stated)
        elif isinstance(fact, RefundedTotalFact):
            _refunded_total(plan, fact, stated)
        elif isinstance(fact, ChargebackFact):
            _chargeback(plan, fact, stated)
    plan.occurred_at = None


def needs_payment_proof(order: Order, statement: Statement) -> bool:
    """Whether `statement` reports a refund or chargeback of an order we hold unpaid without saying
    what the payment was, and no verified statement has confirmed the payment's amount yet: the
    provider is to be asked (its answer goes to `admit` as `evidence`) before anything is applied."""
    if _paid(order) or order.amount_confirmed or statement.amount is not None:
        return False
    return any(_implies_payment(fact) for fact in statement.facts)


def _implies_payment(fact: Fact) -> bool:
    if isinstance(fact, RefundFact):
        return fact.status in (RefundStatus.SUCCEEDED, RefundStatus.PENDING)
    return isinstance(fact, RefundedTotalFact | ChargebackFact)


def _paid(order: Order) -> bool:
    return order.status in LEDGER_STATUSES or order.status == OrderStatus.CHARGED_BACK


def _owned(plan: Plan, statement: Statement, provider: str) -> bool:
    """A statement naming another order, or from a provider other than the order's, is never applied:
    whatever route brought it, an adapter's slip must not move money on the wrong order."""
    order = plan.order
    if statement.order_id == order.order_id and provider == order.provider:
        return True
    plan.flag(
        "foreign_statement",
        event_type="statement_refused",
        reason=f"a statement from {provider[:40]} naming order {statement.order_id[:64]!r}: not applied",
        metric="NeedsAttention",
    )
    logger.error("provider statement about another order", extra={"order_id": order.order_id})
    return False


# -- payments ------------------------------------------------------------------------------------
def _payment(plan: Plan, fact: PaymentFact, changes: Mapping[str, Any], record_ignored: bool) -> None:
    order = plan.order
    if fact.amount is not None and fact.amount != order.amount:
        # Verified, but not about the money we asked for: never applied, flagged for a person. The
        # payment's amount is disputed from now on: only the provider's answer to a query can prove it.
        order.amount_confirmed = False
        plan.flag(
            "amount_mismatch",
            event_type="amount_mismatch",
            reason=f"expected {order.amount}, provider stated {fact.amount}",
            metric="NotificationAmountMismatch",
            about=fact,
        )
        logger.error("provider amount differs from order", extra={"order_id": order.order_id})
        return
    if fact.status == OrderStatus.PAID and fact.amount is None:
        plan.flag(
            "amount_missing",
            event_type="amount_missing",
            reason="a payment reported without its amount is not applied",
            metric="NotificationAmountMismatch",
            about=fact,
        )
        return
    if fact.amount is not None and "amount_mismatch" not in order.flags:
        order.amount_confirmed = True  # kept with whatever this statement changes
    if fact.status == OrderStatus.PAID and order.status in LEDGER_STATUSES | {OrderStatus.CHARGED_BACK}:
        return  # already paid; refunds and chargebacks move it from here
    plan.move(fact.status, changes=changes, record_ignored=record_ignored)


def _ensure_paid(plan: Plan, flag: str, stated: Money | None, fact: Fact) -> bool:
    """A refund or chargeback of an order we hold as unpaid implies its payment: applied first, as a
    payment fact, when its amount is known to be ours (`stated`, or confirmed before). Otherwise the
    order keeps its status, flagged, and what `fact` says is recorded (flagged), not applied."""
    order = plan.order
    if _paid(order):
        return True
    what = "chargeback" if isinstance(fact, ChargebackFact) else "refund"
    if stated is not None and stated != order.amount:
        plan.flag(
            "amount_mismatch",
            event_type=f"{what}_not_applied",
            reason=f"a {what} implying a payment of {stated}; the order is {order.amount}: not applied",
            metric="NotificationAmountMismatch",
            about=fact,
        )
        return False
    if stated is None and not order.amount_confirmed:
        plan.flag(
            "payment_unverified",
            event_type=f"{what}_not_applied",
            reason=f"a {what} of an order we hold {order.status}, and no verified amount for its"
            " payment: not applied",
            metric="NeedsAttention",
            about=fact,
        )
        return False
    flags = (flag, "late_payment") if order.status in UNPAID_FINAL else (flag,)
    # The provider gave the time of the refund or chargeback, not of the payment: this one has none.
    fact_time, plan.occurred_at = plan.occurred_at, None
    plan.move(OrderStatus.PAID, flags=flags, event_type="payment_inferred", reason=flag)
    plan.occurred_at = fact_time
    return order.status == OrderStatus.PAID


# -- refunds -------------------------------------------------------------------------------------
def _same_currency(plan: Plan, money: Money, what: str, fact: Fact) -> bool:
    if money.currency == plan.order.amount.currency:
        return True
    plan.flag(
        "currency_mismatch",
        event_type="currency_mismatch",
        reason=f"{what} in {money.currency}, order in {plan.order.amount.currency}",
        metric="RefundMismatch",
        about=fact,
    )
    return False


def _within_amount(plan: Plan, extra: int, what: str, fact: Fact) -> bool:
    order = plan.order
    if order.refunded_value + extra <= order.amount.value:
        return True
    plan.flag(
        "refund_exceeds_amount",
        event_type="refund_exceeds_amount",
        reason=f"{what} would bring refunds to {Money(order.refunded_value + extra, order.amount.currency)}"
        f" of {order.amount}",
        metric="RefundMismatch",
        about=fact,
    )
    return False


def _refund(plan: Plan, fact: RefundFact, stated: Money | None) -> None:
    order = plan.order
    if not _same_currency(plan, fact.amount, "refund", fact):
        return
    existing = plan.refund_by_key(fact.key)
    if existing is not None and existing.final:
        if existing.status != fact.status and fact.status in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
            plan.flag(
                "refund_conflict",
                event_type="refund_conflict",
                reason=f"refund already {existing.status}, now reported {fact.status}",
                metric="RefundMismatch",
                about=fact,
            )
        return  # a repeat: recorded once
    if existing is not None and existing.amount != fact.amount:
        plan.flag(
            "refund_amount_mismatch",
            event_type="refund_amount_mismatch",
            reason=f"refund of {existing.amount} reported as {fact.amount}",
            metric="RefundMismatch",
            about=fact,
        )
        return
    if fact.status == RefundStatus.UNKNOWN:
        _unmapped_refund(plan, fact, existing)
        return
    if existing is not None and existing.status == fact.status:
        return
    if existing is None:
        # Reported by the provider, not requested through us (e.g. from its dashboard).
        if fact.status != RefundStatus.FAILED:
            held = order.reserved_value if fact.status == RefundStatus.PENDING else 0
            if not _within_amount(plan, fact.amount.value + held, "a refund reported by the provider", fact):
                return
            if not _ensure_paid(plan, "refund_before_payment", stated, fact):
                return
        ledger.record_provider_refund(plan, fact.key, fact.amount, fact.status, fact.provider_reference)
        return
    # One we knew of (a merchant refund, or a provider refund reported pending before).
    if fact.status == RefundStatus.SUCCEEDED:
        if not _within_amount(plan, existing.amount.value, f"refund {existing.refund_id}", fact):
            return
        if not _ensure_paid(plan, "refund_before_payment", stated, fact):
            return
    ledger.settle(plan, existing, fact.status, fact.provider_reference)


def _unmapped_refund(plan: Plan, fact: RefundFact, existing: Refund | None) -> None:
    """A refund reported in a status we do not map is a money event we cannot apply: never guess it
    into succeeded or failed, but never acknowledge it unrecorded either. It is recorded, flagged for a
    person, once per refund and provider word (the provider's retries add nothing); a refund of ours
    stays in flight, its amount reserved, for reconciliation to ask about again."""
    held = (
        f"refund {existing.refund_id} stays {existing.status}"
        if existing is not None
        else "not a refund we hold: not recorded in the ledger"
    )
    plan.flag(
        "refund_status_unknown",
        event_type="refund_status_unknown",
        reason=f"a refund of {fact.amount} reported as {(plan.status_word or '')[:60]!r}, a status we do not"
        f" map; {held}",
        metric="NeedsAttention",
        about=fact,
    )
    logger.warning("refund reported in an unmapped status", extra={"order_id": plan.order.order_id})


def _refunded_total(plan: Plan, fact: RefundedTotalFact, stated: Money | None) -> None:
    """The provider's cumulative refunded total grew: the growth completes the set of our refunds in
    flight that it exactly is (payments/ledger.py `match_growth`); what no such set explains was
    refunded elsewhere. When several sets fit, none completes until a later total tells."""
    order = plan.order
    if not _same_currency(plan, fact.total, "refunded total", fact):
        return
    total = fact.total.value
    if total == order.refunded_value:
        return
    if total < order.refunded_value:
        plan.flag(
            "refund_total_decreased",
            event_type="refund_total_mismatch",
            reason=f"provider reports {fact.total} refunded, we hold {order.refunded}",
            metric="RefundMismatch",
            about=fact,
        )
        return
    if not _within_amount(plan, total - order.refunded_value, "the provider's refunded total", fact):
        return
    if not _ensure_paid(plan, "refund_before_payment", stated, fact):
        return
    ledger.match_refunded_total(plan, fact.total)


# -- chargebacks -----------------------------------------------------------------------------------
def _chargeback(plan: Plan, fact: ChargebackFact, stated: Money | None) -> None:
    if fact.amount is not None and not _same_currency(plan, fact.amount, "chargeback", fact):
        return
    if not _ensure_paid(plan, "chargeback_before_payment", stated, fact):
        return
    plan.move(OrderStatus.CHARGED_BACK, event_type="chargeback")
