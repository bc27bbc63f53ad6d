"""A provider that answers the refund and cancel flows from a script, and the one-provider directory
that hands it to them: the flows' tests below DynamoDB (over tests/support/fake_store.py)."""

from __future__ import annotations

from typing import cast

from payments.facts import CancelResult, RefundFact, RefundStatus, Statement
from payments.ledger import Refund, provider_refund_key
from payments.orders import Order
from payments.providers.base import Provider, RefundContext
from payments.providers.capabilities import Capabilities
from payments.providers.directory import ProviderDirectory
from tests.support.providers import ANY_PROVIDER, capabilities_with


class ScriptedProvider:
    """Answers refund calls from a script: a status for the RefundFact, or an exception to raise."""

    name = ANY_PROVIDER  # the provider of `order_in`'s orders
    capabilities: Capabilities = capabilities_with()

    def __init__(self, *answers: RefundStatus | Exception, resolved: RefundStatus | None = None) -> None:
        self.answers = list(answers)
        self.resolved = resolved
        self.refund_calls: list[str] = []
        self.resolve_calls: list[str] = []

    def _statement(self, refund: Refund, status: RefundStatus) -> Statement:
        fact = RefundFact(refund.provider_key, refund.amount, status)
        return Statement(
            order_id=refund.order_id, facts=(fact,), provider_status=f"refund:{status}", verified_by="t"
        )

    def refund_key(self, order_id: str, refund_id: str) -> str:
        return provider_refund_key(order_id, refund_id)

    def refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement:
        self.refund_calls.append(refund.refund_id)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return self._statement(refund, answer)

    def resolve_refund(self, order: Order, refund: Refund, ctx: RefundContext) -> Statement | None:
        self.resolve_calls.append(refund.refund_id)
        return None if self.resolved is None else self._statement(refund, self.resolved)

    # -- cancel ------------------------------------------------------------------------------------
    cancel_answer: CancelResult | Exception = CancelResult.WITHDRAWN
    query_answer: Statement | None = None

    def cancel(self, order: Order) -> CancelResult:
        self.cancel_calls = getattr(self, "cancel_calls", 0) + 1
        if isinstance(self.cancel_answer, Exception):
            raise self.cancel_answer
        return self.cancel_answer

    def query(self, order: Order) -> Statement | None:
        return self.query_answer


class OneProvider(ProviderDirectory):
    def __init__(self, provider: ScriptedProvider) -> None:
        super().__init__()
        self.provider = provider

    def get(self, name: str) -> Provider:
        return cast(Provider, self.provider)
