"""7. Secrets and personal data. Every log line of every test in this suite is read by `log_guard`
(tests/reliability/conftest.py) for every provider's secrets (API keys, signing keys, fragments of
every private key: each kit's `secret_texts`), the webhook signing secret, and the customer's e-mail,
phone and IP. Here, one representative flow per
provider through the real handlers (create with full customer data, read, genuine, repeated and forged
notifications, a provider fault and its retry) also has its replies and everything it stored checked.
"""

from __future__ import annotations

import json

import boto3

from tests.conftest import Stack
from tests.reliability.conftest import LogSink, leaks_in
from tests.reliability.harness import Harness
from tests.reliability.report import FIGURES
from tests.support.link import ProviderLink
from tests.support.store import items


def test_a_flow_per_provider_leaks_nothing(
    harness: Harness, stack: Stack, link: ProviderLink, log_guard: LogSink
) -> None:
    order_id = f"pii-{harness.label}"
    replies = [harness.api.request("POST", "/orders", body=harness.body(order_id))]
    assert replies[0].status == 201, replies[0].body
    replies.append(harness.api.request("GET", f"/orders/{order_id}"))
    paid, _ = harness.notification(order_id, "paid")
    replies += [harness.deliver_via_handler(paid), harness.deliver_via_handler(paid)]
    forged = paid.replace(body=paid.body.replace(b"1000", b"1", 1))
    replies.append(harness.deliver_via_handler(forged))
    assert replies[-1].status >= 400
    link.inject("http_500")
    faulty = f"pii-fault-{harness.label}"
    replies.append(harness.api.request("POST", "/orders", body=harness.body(faulty)))
    replies.append(harness.api.request("POST", "/orders", body=harness.body(faulty)))
    replies.append(harness.api.request("GET", f"/orders/{order_id}"))
    assert replies[-1].json()["status"] == "paid"

    answered = [reply.body for reply in replies]
    stored = [json.dumps(items(stack.table_name, oid), default=str) for oid in (order_id, faulty)]
    leaked = leaks_in(answered + stored)
    FIGURES.add("logs.flow_leaks", len(leaked))
    assert not leaked, f"in replies or stored events: {leaked}"
    assert any("order transition" in line for line in log_guard.lines)  # the logs were captured at all
    assert any("notification rejected" in line for line in log_guard.lines)


def test_the_guard_looks_for_the_webhook_signing_secret(stack: Stack) -> None:
    """The secret every webhook is signed with is never logged: the guard knows the stack's value."""
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=stack.refs["WebhookSigningSecret"])
    line = f"webhook refused {{'secret': '{secret['SecretString']}'}}"
    assert leaks_in([line]) == [secret["SecretString"]]
