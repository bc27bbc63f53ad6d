"""Merchant events keep flowing after DynamoDB cancels a transaction, in both modes of `make dev`.

moto restores a copy of the table when it cancels a transaction, stream shard included: the local
stream poller once kept reading the old shard, and no change made afterwards ever reached a webhook
(local/pipeline.py). Here: a create refused by the store (its order id taken: answered 200 with the
order), a conflicting create (409) and a refund reservation that lost its race, each a cancelled
transaction; then a payment of another order, whose webhook must arrive, and nothing at all for the
cancelled writes.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import LocalStack
from tests.e2e.provider_facts import example_provider

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

WEBHOOK_WAIT_S = 30  # the stream and the queue are polled every 0.5 s: a webhook takes about one


@pytest.fixture(params=["in-process", "emulator"])
def running(request: pytest.FixtureRequest) -> LocalStack:
    stack: LocalStack = request.getfixturevalue(
        "local_stack" if request.param == "in-process" else "emulated"
    )
    return stack


# A row of the demo shop's "Webhooks received" table (local/shop.py): time, type, sequence, id.
WEBHOOK_ROW = re.compile(r"<tr><td[^>]*>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>")


def webhooks(stack: LocalStack, order_id: str) -> list[tuple[str, str]]:
    """(event type, sequence) of every webhook the demo shop received for the order."""
    page = stack.http.get(f"{stack.api}/shop/return?order_id={order_id}", timeout=30).text
    table = page.partition('<table id="webhooks">')[2].partition("</table>")[0]
    return WEBHOOK_ROW.findall(table)


def wait_for_webhook(stack: LocalStack, order_id: str, event_type: str) -> list[tuple[str, str]]:
    deadline = time.monotonic() + WEBHOOK_WAIT_S
    while time.monotonic() < deadline:
        received = webhooks(stack, order_id)
        if event_type in {kind for kind, _ in received}:
            return received
        time.sleep(0.25)
    pytest.fail(f"no {event_type} webhook for {order_id} within {WEBHOOK_WAIT_S} s: {received}")


def lose_a_refund_reservation(stack: LocalStack, order_id: str) -> None:
    """A refund reservation that lost its race to another change of the order, as the store writes one
    (the order conditional on the version it read, the refund item, the audit event), sent to the
    stack's DynamoDB: over HTTP the functions take their turns, so no request can be made to lose one."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.moto,
        region_name="eu-west-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # moto's, not a credential
    )
    [table] = [name for name in dynamodb.list_tables()["TableNames"] if name.endswith("OrdersTable")]
    items = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
        ConsistentRead=True,
    )["Items"]
    order = next(item for item in items if item["sk"]["S"] == "ORDER")
    last_event = max(
        (item for item in items if item["sk"]["S"].startswith("EVENT#")), key=lambda i: i["sk"]["S"]
    )
    next_seq = int(last_event["sk"]["S"].removeprefix("EVENT#")) + 1
    read_version = int(order["version"]["N"]) - 1  # what it read, before the change that beat it
    transaction: list[TransactWriteItemTypeDef] = [
        {
            "Update": {
                "TableName": table,
                "Key": {"pk": order["pk"], "sk": order["sk"]},
                "UpdateExpression": "SET #version = :next",
                "ConditionExpression": "#version = :read",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {
                    ":read": {"N": str(read_version)},
                    ":next": {"N": str(read_version + 1)},
                },
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": {"pk": order["pk"], "sk": {"S": "REFUND#lost-race"}, "version": {"N": "1"}},
                "ConditionExpression": "attribute_not_exists(sk)",
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": {**last_event, "sk": {"S": f"EVENT#{next_seq:012d}"}, "seq": {"N": str(next_seq)}},
                "ConditionExpression": "attribute_not_exists(sk)",
            }
        },
    ]
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(TransactItems=transaction)


def test_webhooks_arrive_after_cancelled_transactions(running: LocalStack) -> None:
    stack = running
    provider = example_provider()
    mode = stack.mode
    cancelled_on = f"cancelled-{mode}"
    assert stack.create(cancelled_on, provider).status_code == 201
    stack.control(provider, cancelled_on, "pay")
    before = wait_for_webhook(stack, cancelled_on, "order.paid")

    again = stack.create(cancelled_on, provider)  # the store refuses to create it twice
    assert (again.status_code, again.json()["status"]) == (200, "paid"), again.text
    conflicting = stack.create(cancelled_on, provider, amount={"value": 2000, "currency": "EUR"})
    assert (conflicting.status_code, conflicting.json()["error"]["code"]) == (409, "order_id_conflict")
    lose_a_refund_reservation(stack, cancelled_on)

    paid_after = f"paid-after-{mode}"
    assert stack.create(paid_after, provider).status_code == 201
    stack.control(provider, paid_after, "pay")
    received = wait_for_webhook(stack, paid_after, "order.paid")
    assert [kind for kind, _ in received] == ["order.pending", "order.paid"]
    # Nothing for the cancelled writes: the changes made before them are all the order had.
    assert webhooks(stack, cancelled_on) == before
    assert stack.order(cancelled_on)["status"] == "paid"
