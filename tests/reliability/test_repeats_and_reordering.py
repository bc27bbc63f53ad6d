"""2. Repeats and reordering: any sequence of genuine pay, refund and chargeback notifications, each
delivered any number of times in any order, ends where the transition table (`payments.orders.decide`)
and the refund ledger's rules say: the refunded total is the sum of the distinct refunds, the status
the one that total implies, one event per applied change, one `*_ignored` event per refused move, and
nothing for duplicates (a refused report seen before is a duplicate too).

Each example uses a fresh order, created through the service (pending, or unknown after a create
whose reply was lost), and delivers through the service or, for about one in five examples, through
the real notify handler.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.testing import kit_of, kits
from payments.orders import OrderStatus, Outcome, decide
from payments.outbox.merchant_events import ORDER_TYPES, merchant_events
from payments.providers.base import RawResponse
from payments.providers.capabilities import RefundReporting
from tests.conftest import Stack
from tests.reliability.harness import Delivery, Harness
from tests.reliability.harness import Outcome as Statement
from tests.reliability.kits import reliability_kit
from tests.reliability.report import FIGURES
from tests.support.link import ProviderLink
from tests.support.store import history

S = OrderStatus
# A provider's own refund events (where it reports refunds so): "refund:<refund id>:<amount>[:pending]".
REFUND_EVENTS = ["refund:rf-1:1000", "refund:rf-2:300", "refund:rf-3:200", "refund:rf-4:1000:pending"]


def choices(provider: str) -> list[str]:
    """Every statement the provider can make about an order: each of its outcomes, and its refund
    events if it reports refunds by events of their own."""
    kit = kit_of(provider)
    by_event = kit.capabilities.refunds_reported is RefundReporting.EVENT_PER_REFUND
    return [*kit.outcomes, *(REFUND_EVENTS if by_event else [])]


# (The test reads this table: hypothesis derives its examples from the test's source.)
CHOICES = {name: choices(name) for name in kits()}
_ids = itertools.count()


Transition = tuple[OrderStatus | None, OrderStatus | None]
Ignored = tuple[OrderStatus | None, str | None]
PAID_LIKE = frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.CHARGED_BACK})


@dataclass
class Model:
    """What the documentation says the order must become: the transition table for payment reports
    (`payments.orders.decide`), and the refund ledger's rules, written out here on their own."""

    amount: int
    status: OrderStatus
    refunded: int = 0
    reserved: int = 0
    events: int = 1  # order_created
    transitions: list[Transition] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    refunds: dict[str, int] = field(default_factory=dict)  # refund key -> amount, applied once each
    # A verified report of the order's amount (ours) was recorded: a refund event that states no
    # payment may then prove it. Otherwise the provider is asked first, and says `provider_now`.
    confirmed: bool = False
    provider_now: tuple[OrderStatus, str] = (S.PENDING, "")
    flagged: set[str] = field(default_factory=set)  # flagged reports, each recorded once

    def _move(self, target: OrderStatus) -> None:
        self.transitions.append((self.status, target))
        self.status = target
        self.events += 1

    def payment(self, target: OrderStatus, word: str, *, record_ignored: bool = True) -> None:
        if target == S.PAID and self.status in PAID_LIKE:
            return  # true of a refunded or charged-back order too: nothing to do
        decision = decide(self.status, target)
        if decision.outcome == Outcome.APPLY:
            self._move(target)
            self.confirmed = True  # the report stated our amount, and was recorded
        elif (
            decision.outcome == Outcome.IGNORE and record_ignored and (self.status, word) not in self.ignored
        ):
            self.ignored.append((self.status, word))  # each kind of refused report recorded once
            self.events += 1
            self.confirmed = True

    def _asked_first(self) -> None:
        """A refund event states no payment: for an unpaid order whose amount no recorded report
        confirmed, the provider's answer to a query (what its sandbox holds now) comes first."""
        if self.status not in PAID_LIKE and not self.confirmed:
            target, word = self.provider_now
            self.payment(target, word, record_ignored=False)

    def _paid_first(self) -> None:
        if self.status not in PAID_LIKE:
            self._move(S.PAID)  # a refund or chargeback proves the payment

    def _follow_ledger(self) -> None:
        """The refund's own event, which carries the status move the new total implies."""
        if self.status in PAID_LIKE - {S.CHARGED_BACK}:
            if self.refunded == 0:
                target = S.PAID
            elif self.refunded < self.amount:
                target = S.PARTIALLY_REFUNDED
            else:
                target = S.REFUNDED
            if target != self.status:
                self._move(target)
                return
        self.events += 1

    def _flag_once(self, fact: str) -> None:
        """A flagged report is recorded once: its repeats add nothing."""
        if fact not in self.flagged:
            self.flagged.add(fact)
            self.events += 1

    def refund(self, key: str, amount: int, pending: bool) -> None:
        if key in self.refunds:
            return  # recorded once, however often it comes
        held = self.reserved if pending else 0
        if self.refunded + held + amount > self.amount:
            # flagged refund_exceeds_amount, not applied (what it says: the totals it would make)
            self._flag_once(f"exceeds:{key}:{pending}:{self.refunded + held + amount}")
            return
        self._paid_first()
        self.refunds[key] = amount
        if pending:
            self.reserved += amount
        else:
            self.refunded += amount
        self._follow_ledger()

    def total(self, total: int) -> None:
        if total == self.refunded:
            return
        if total < self.refunded:
            self._flag_once(f"decreased:{total}:{self.refunded}")  # flagged, not applied
            return
        self._paid_first()
        self.refunded = total
        self._follow_ledger()

    def chargeback(self) -> None:
        self._paid_first()
        if self.status != S.CHARGED_BACK:
            self._move(S.CHARGED_BACK)

    def deliver(self, provider: str, statement: Statement) -> None:
        # A provider that reports refunds as the order's cumulative refunded total does so on the
        # order it paid (its reliability kit's `refunded_totals`); a chargeback also proves the payment.
        totals = reliability_kit(provider).refunded_totals
        if statement.refund_key:
            _, key, amount, *pending = statement.name.split(":")
            if key not in self.refunds:
                self._asked_first()
            self.refund(key, int(amount), bool(pending))
        elif statement.name in totals:
            self.payment(S.PAID, statement.word)
            self.total(totals[statement.name])
        elif statement.target == S.CHARGED_BACK:
            self.payment(S.PAID, statement.word)
            self.chargeback()
        else:
            self.payment(statement.target, statement.word)


def acknowledged(harness: Harness, status: int, body: str) -> bool:
    return reliability_kit(harness.provider).acknowledges(status, body)


def deliver(harness: Harness, delivery: Delivery, via_handler: bool) -> tuple[int, str]:
    if via_handler:
        reply = harness.deliver_via_handler(delivery)
        return reply.status, reply.body
    answer: RawResponse = harness.deliver(delivery)
    return answer.status, answer.body


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same sequences every run
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_order_any_repeats_end_where_the_table_says(
    harness: Harness, link: ProviderLink, stack: Stack, data: st.DataObject
) -> None:
    order_id = f"seq-{harness.label}-{next(_ids)}"
    harness.use_fresh_table(stack.template.resources["OrdersTable"]["Properties"], order_id)
    start = data.draw(st.sampled_from([S.PENDING, S.UNKNOWN]), label="start")
    if start == S.UNKNOWN:
        link.inject("read_timeout_after_processing")  # the provider made the order; we never heard
    harness.create(order_id)
    made = data.draw(
        st.lists(st.sampled_from(CHOICES[harness.provider]), min_size=1, max_size=5, unique=True),
        label="statements",
    )
    created = harness.order(order_id)
    assert created is not None
    messages = [harness.notification(order_id, name) for name in made]
    # What a query would find at the provider, once every message is made.
    words = {word: target for word, target in kit_of(harness.provider).outcomes.values()}
    now_word = harness.sandbox.status_of(order_id)
    sequence = data.draw(
        st.lists(st.integers(0, len(messages) - 1), min_size=1, max_size=12), label="deliveries"
    )
    via_handler = data.draw(st.integers(0, 4), label="handler") == 0

    for index in sequence:
        status, body = deliver(harness, messages[index][0], via_handler)
        assert acknowledged(harness, status, body), (status, body[:200])

    model = Model(
        harness.amount,
        start,
        transitions=[(S.CREATED, start)],
        events=2,
        confirmed=created.amount_confirmed,
        provider_now=(words.get(now_word, S.UNKNOWN), now_word),
    )
    for index in sequence:
        model.deliver(harness.provider, messages[index][1])
    order, events = history(harness.service.store.table.name, order_id)
    got_transitions: list[Transition] = [
        (e.from_status, e.to_status) for e in events if e.from_status and e.to_status
    ]
    missing = Counter(model.transitions) - Counter(got_transitions)
    extra = Counter(got_transitions) - Counter(model.transitions)
    refund_events = [e for e in events if e.refund is not None]
    FIGURES.add("repeats.sequences")
    FIGURES.add("repeats.deliveries", len(sequence))
    FIGURES.add("repeats.transitions", len(got_transitions))
    FIGURES.add("repeats.refund_changes", len(refund_events))
    FIGURES.add("repeats.lost", sum(missing.values()))
    FIGURES.add("repeats.duplicated", sum(extra.values()))
    FIGURES.add("repeats.refund_total_wrong", int(order.refunded_value != model.refunded))

    assert order.status == model.status
    assert got_transitions == model.transitions
    assert [
        (e.from_status, e.provider_status) for e in events if e.type.endswith("_ignored")
    ] == model.ignored
    # The refunded total is the sum of the distinct refunds applied, each counted once.
    assert order.refunded_value == model.refunded
    assert order.reserved_value == model.reserved
    assert [e.type for e in events][:1] == ["order_created"]
    assert len(events) == model.events  # one event per applied change; none for a repeat
    assert [e.seq for e in events] == list(range(1, len(events) + 1)) == list(range(1, order.event_seq + 1))
    # The provider facts on the order are those of its last applied transition: a report the table
    # refused (or a repeat) never overwrote them; at most it filled in a field the order lacked.
    applied = [e for e in events if e.from_status and e.to_status]
    assert order.provider_status == applied[-1].provider_status
    # Merchant events come from these audit events only: one `order.<status>` per applied transition,
    # none for a repeat or a refused report (they wrote no audit event), ids unique.
    told = [m for e in events for m in merchant_events({}, e, order_id)]
    status_events = [m for m in told if m.type.startswith("order.") and m.type != "order.flagged"]
    expected = [ORDER_TYPES[to] for frm, to in model.transitions if frm != to and to in ORDER_TYPES]
    assert [m.type for m in status_events] == expected
    assert len({m.id for m in told}) == len(told)
    FIGURES.add("repeats.merchant_events", len(told))
