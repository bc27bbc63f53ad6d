"""2. Repeats and reordering: any sequence of genuine notifications, each delivered any number of times
in any order, ends where the transition table (`payments.orders.decide`) says, with one event per
applied transition, one `*_ignored` event per refused move, and nothing for duplicates.

Each example uses a fresh order, created through the service (pending, or unknown after a create
whose reply was lost), and delivers through the service or, for about one in five examples, through
the real notify handler.
"""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.orders import OrderStatus, Outcome, decide
from payments.providers.base import RawResponse
from payments.store import MUTABLE_FIELDS
from tests.conftest import Stack
from tests.reliability.harness import Delivery, Harness
from tests.reliability.harness import Outcome as Statement
from tests.reliability.report import FIGURES
from tests.support.link import ProviderLink

S = OrderStatus
CHOICES = {
    "multisafepay": [
        "pending",
        "paid",
        "failed",
        "cancelled",
        "expired",
        "refunded",
        "partially_refunded",
        "charged_back",
        "unmapped",
    ],
    "useepay": [
        "pending",
        "paid",
        "failed",
        "cancelled",
        "expired",
        "unmapped",
        "refund:rf-1:1000",
        "refund:rf-2:300",
        "refund:rf-3:200",
        "refund:rf-4:1000:pending",
    ],
    "alipay_intl": ["paid", "failed", "unmapped"],
}
ACKS = {"multisafepay": "OK", "useepay": "ok"}
_ids = itertools.count()


Transition = tuple[OrderStatus | None, OrderStatus | None]
Ignored = tuple[OrderStatus | None, str | None]


def expected(
    start: OrderStatus, statements: list[Statement]
) -> tuple[OrderStatus, list[Transition], list[Ignored], int]:
    """What the transition table says: final status, transitions, ignored reports, refunds recorded."""
    status = start
    transitions: list[Transition] = [(S.CREATED, start)]
    ignored: list[Ignored] = []
    refunds: set[str] = set()
    for statement in statements:
        record_ignored = True
        if statement.refund_key:
            if statement.refund_key in refunds:
                continue  # each refund event is recorded once, however often it comes
            refunds.add(statement.refund_key)
            if statement.target == S.UNKNOWN:
                continue
            record_ignored = False
        decision = decide(status, statement.target)
        if decision.outcome == Outcome.APPLY:
            transitions.append((status, statement.target))
            status = statement.target
        elif decision.outcome == Outcome.IGNORE and record_ignored:
            ignored.append((status, statement.word))
    return status, transitions, ignored, len(refunds)


def acknowledged(harness: Harness, status: int, body: str) -> bool:
    if harness.provider == "alipay_intl":
        return status == 200 and '"resultStatus":"S"' in body
    return (status, body) == (200, ACKS[harness.provider])


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
    messages = [harness.notification(order_id, name) for name in made]
    sequence = data.draw(
        st.lists(st.integers(0, len(messages) - 1), min_size=1, max_size=12), label="deliveries"
    )
    via_handler = data.draw(st.integers(0, 4), label="handler") == 0

    for index in sequence:
        status, body = deliver(harness, messages[index][0], via_handler)
        assert acknowledged(harness, status, body), (status, body[:200])

    final, transitions, ignored, refunds = expected(start, [messages[i][1] for i in sequence])
    found = harness.service.store.get_with_events(order_id)
    assert found is not None
    order, events = found
    got_transitions: list[Transition] = [
        (e.from_status, e.to_status) for e in events if e.from_status and e.to_status
    ]
    missing = Counter(transitions) - Counter(got_transitions)
    extra = Counter(got_transitions) - Counter(transitions)
    FIGURES.add("repeats.sequences")
    FIGURES.add("repeats.deliveries", len(sequence))
    FIGURES.add("repeats.transitions", len(got_transitions))
    FIGURES.add("repeats.lost", sum(missing.values()))
    FIGURES.add("repeats.duplicated", sum(extra.values()))

    assert order.status == final
    assert got_transitions == transitions
    assert [(e.from_status, e.provider_status) for e in events if e.type.endswith("_ignored")] == ignored
    assert sum(1 for e in events if e.type == "refund_reported") == refunds
    assert [e.type for e in events][:1] == ["order_created"]
    assert len(events) == 1 + len(transitions) + len(ignored) + refunds
    # The provider facts on the order are those of its last applied transition: a report the table
    # refused (or a repeat) never overwrote them; at most it filled in a field the order lacked.
    applied = [e for e in events if e.from_status and e.to_status]
    assert order.provider_status == applied[-1].provider_status
    assert 1 + len(transitions) <= order.version <= 1 + len(transitions) + len(MUTABLE_FIELDS)
