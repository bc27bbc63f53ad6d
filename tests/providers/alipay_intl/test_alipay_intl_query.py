"""payQuery by merchantTransId: what Alipay says about an order, verified like every reply."""

from __future__ import annotations

import json

import pytest

from payments.errors import ProviderUnavailable
from payments.money import Money
from payments.orders import OrderStatus
from payments.providers.alipay_intl.adapter import PAY_STATUS_TABLE, AlipayIntl
from tests.providers.alipay_intl.fixtures import (
    context_for,
    create_request,
    make_adapter,
    order_for,
)
from tests.support.sandbox_client import SandboxHttp


def created(order_id: str = "q-1") -> tuple[AlipayIntl, SandboxHttp]:
    adapter, http = make_adapter()
    request = create_request(order_id)
    adapter.create_payment(order_for(request), context_for(request))
    return adapter, http


def test_the_query_request() -> None:
    adapter, http = created()
    adapter.query(order_for(create_request("q-1")))
    url, _, raw = http.sent[-1]
    assert url == "https://open-sea.alipay.com/api/alipay/intl/acquiring/cashier/payQuery.htm"
    request = json.loads(raw)["request"]
    assert request["head"]["function"] == "alipay.intl.acquiring.cashier.payQuery"
    assert request["body"] == {"merchantId": "218820000000000000023", "merchantTransId": "q-1"}
    assert http.sandbox.calls[-1].answer == "SUCCESS"


def test_unpaid_order_is_pending() -> None:
    adapter, _ = created()
    found = adapter.query(order_for(create_request("q-1")))
    assert found is not None
    assert (found.status, found.provider_status) == (OrderStatus.PENDING, "INIT")
    assert found.amount == Money(1000, "EUR")
    assert found.verified_by == "provider-query"
    assert found.provider_reference is None


def test_paid_order_is_paid_with_alipays_reference() -> None:
    adapter, http = created()
    http.sandbox.notification("q-1")  # the payer paid: Alipay's state moves
    found = adapter.query(order_for(create_request("q-1")))
    assert found is not None
    assert found.status == OrderStatus.PAID
    assert found.provider_reference == http.sandbox.orders["q-1"]["acquirementId"]


def test_failed_order_is_failed() -> None:
    adapter, http = created()
    http.sandbox.notification("q-1", "PROCESS_FAIL")
    found = adapter.query(order_for(create_request("q-1")))
    assert found is not None
    assert found.status == OrderStatus.FAILED


def test_an_order_alipay_never_saw_is_none() -> None:
    adapter, _ = make_adapter()
    assert adapter.query(order_for(create_request("never-sent"))) is None


@pytest.mark.parametrize("code", ["ACCESS_DENIED", "UNKNOWN_EXCEPTION", "PARAM_ILLEGAL"])
def test_a_query_alipay_could_not_answer_is_unavailable(code: str) -> None:
    adapter, http = created()
    http.sandbox.force(code)
    with pytest.raises(ProviderUnavailable) as caught:
        adapter.query(order_for(create_request("q-1")))
    assert caught.value.code == "provider_query_failed"


@pytest.mark.parametrize("fault", ["unsigned", "foreign_key", "other_msg_id"])
def test_an_untrusted_query_reply_is_unavailable(fault: str) -> None:
    adapter, http = created()
    http.sandbox.reply_faults.append(fault)
    with pytest.raises(ProviderUnavailable):
        adapter.query(order_for(create_request("q-1")))


def test_an_unknown_pay_status_word_is_unknown() -> None:
    adapter, http = created()
    http.sandbox.orders["q-1"]["payStatus"] = "TELEPORTED"
    found = adapter.query(order_for(create_request("q-1")))
    assert found is not None
    assert found.status == OrderStatus.UNKNOWN
    assert "TELEPORTED" not in PAY_STATUS_TABLE
