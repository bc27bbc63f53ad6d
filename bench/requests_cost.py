"""Per-request CPU of our own code, and round trips per operation, counted rather than estimated.

The real handlers run in this process against moto and the provider sandboxes. Thread CPU time is
taken around each handler call; the CPU spent inside moto (standing in for DynamoDB and Secrets
Manager) and inside the sandboxes (standing in for the provider) is measured at their entry points
and subtracted: what remains is ours — parsing, validation, signing, serialisation, botocore's own
request building. The same entry points count the calls, and note their order: each row shows the
calls of a request in sequence (e.g. `Q Tx prov Tx`: a Query, a transaction, the provider, a
transaction), so a row says what it measures rather than only how many.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import responses
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from bench.providers import ProviderCase, first_variants, provider_cases
from local.testing import (
    FakeContext,
    ProviderKit,
    SignedNotification,
    Template,
    environment,
    fit_moto_for_long_runs,
    kits,
    proxy_event,
    table_arguments,
)
from payments import aws_clients, secret_values
from payments.store.wire import DynamoDBWire

# How a call is written in a row's sequence of calls.
SHORT = {
    "aws:Query": "Q",
    "aws:GetItem": "Get",
    "aws:BatchGetItem": "BGet",
    "aws:TransactWriteItems": "Tx",
    "aws:UpdateItem": "Upd",
    "aws:PutItem": "Put",
    "aws:DeleteItem": "Del",
    "aws:GetSecretValue": "Secret",
    "provider": "prov",
}


class Meter:
    """CPU time and calls spent outside our code, per request; and botocore's share of ours.

    A request may run some of its calls in threads (the publisher keeps several orders' events at
    once, a merged read sends its shards' Queries side by side): each thread's time is taken with its
    own clock and added up here, and a request's CPU is the process's (`process_time`), so the work of
    every thread it started counts, and so does what they spent in moto."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads = threading.local()  # per thread: its time in moto, and the call it is building
        self.outside = 0.0
        self.calls: Counter[str] = Counter()
        self.sequence: list[str] = []
        self.botocore = 0.0

    def _here(self) -> Any:
        here = self._threads
        if not hasattr(here, "outside"):
            here.outside, here.building, here.outside_at_start = 0.0, None, 0.0
        return here

    def call_starts(self, **_: Any) -> None:
        here = self._here()
        here.building, here.outside_at_start = time.thread_time(), here.outside

    def call_ends(self, **_: Any) -> None:
        # All of botocore's work on a call — validation, serialisation, endpoint rules, SigV4, response
        # parsing, retry bookkeeping — less the time spent inside moto (DynamoDB's side).
        here = self._here()
        if here.building is not None:
            spent = time.thread_time() - here.building - (here.outside - here.outside_at_start)
            here.building = None
            with self._lock:
                self.botocore += spent

    @contextmanager
    def away(self, what: str) -> Iterator[None]:
        with self._lock:
            self.calls[what] += 1
            self.sequence.append(SHORT.get(what, what))
        started = time.thread_time()
        try:
            yield
        finally:
            spent = time.thread_time() - started
            self._here().outside += spent
            with self._lock:
                self.outside += spent

    def reset(self) -> None:
        with self._lock:
            self.outside = 0.0
            self.calls = Counter()
            self.sequence = []
            self.botocore = 0.0


METER = Meter()
_original_stub = BotocoreStubber.__call__


def _metered_stub(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
    target = request.headers.get("X-Amz-Target") or b""
    operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1] or event_name
    with METER.away(f"aws:{operation}"):
        return _original_stub(self, event_name, request, **kwargs)


_original_send = DynamoDBWire.send


def _metered_send(self: DynamoDBWire, operation: str, parameters: dict[str, Any]) -> dict[str, Any]:
    # The table's wire makes no botocore API call (payments/store/wire.py): its CPU on a call — the
    # JSON, SigV4, the events — is metered here as botocore's is by its before/after-call events.
    METER.call_starts()
    try:
        return _original_send(self, operation, parameters)
    finally:
        METER.call_ends()


READS = {"aws:GetItem", "aws:Query", "aws:BatchGetItem"}
WRITES = {"aws:PutItem", "aws:UpdateItem", "aws:TransactWriteItems", "aws:DeleteItem"}


def _sandboxes(wire: responses.RequestsMock) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the sandboxes by case label, the one each provider's URL reaches now: its first variant's)."""
    boxes = {
        case.label: case.kit.new_sandbox(case.kit.test_credentials(case.variant)) for case in provider_cases()
    }
    current = {case.kit.name: boxes[case.label] for case in first_variants()}

    def mount(kit: ProviderKit[Any, Any]) -> None:
        def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
            body = request.body.encode() if isinstance(request.body, str) else request.body
            with METER.away("provider"):
                return current[kit.name].handle(request.method, request.url, dict(request.headers), body)  # type: ignore[no-any-return]

        for method in kit.api_methods:
            wire.add_callback(method, re.compile(re.escape(kit.test_base_url) + ".*"), callback=callback)

    for kit in kits().values():
        mount(kit)
    return boxes, current


def _notification(bench: Harness, provider: str, order_id: str) -> SignedNotification:
    """The provider's signed notification that the order is paid, from the sandbox in use."""
    return kits()[provider].statement(bench.current[provider], order_id, "paid")


def _event_of(provider: str, sent: SignedNotification) -> dict[str, Any]:
    """A notification as API Gateway hands it to the notify function."""
    url = sent.url
    query = [tuple(pair.split("=", 1)) for pair in url.split("?", 1)[1].split("&")] if "?" in url else []
    return proxy_event(
        method="POST",
        path="/notify/" + provider,
        resource="/notify/{provider}",
        path_parameters={"provider": provider},
        query=query,  # type: ignore[arg-type]
        headers=list(sent.headers.items()),
        body=sent.body,
    )


def notification_event(bench: Harness, provider: str, order_id: str) -> dict[str, Any]:
    """That notification as API Gateway hands it to the notify function."""
    return _event_of(provider, _notification(bench, provider, order_id))


def api_event(
    method: str, path: str, resource: str, body: bytes | None = None, params: dict[str, str] | None = None
) -> dict[str, Any]:
    """A merchant API request (with its API key) as API Gateway hands it to a function."""
    return proxy_event(
        method=method,
        path=path,
        resource=resource,
        path_parameters=params,
        headers=[("Content-Type", "application/json"), ("x-api-key", "k")],
        body=body,
    )


def create_body(order_id: str, provider: str) -> bytes:
    """A create-order request body for `provider`."""
    return json.dumps(
        {
            "order_id": order_id,
            "provider": provider,
            "amount": {"value": 1000, "currency": "EUR"},
            "description": "Tea set",
            "return_url": "https://shop.example.com/r",
            "cancel_url": "https://shop.example.com/c",
            "customer": {"ip_address": "203.0.113.7", "email": "mei@example.com"},
        }
    ).encode()


@dataclass
class Harness:
    """The real handlers in this process against moto and the provider sandboxes, metered."""

    boxes: dict[str, Any]  # the sandboxes by case label
    current: dict[str, Any]  # by provider: the sandbox its URL reaches (the case in use)
    functions: dict[str, Any]  # LambdaUnderTest by logical id
    envs: dict[str, dict[str, str]]
    refs: dict[str, str]
    secret: dict[str, dict[str, Any]]  # the provider-credentials secret as it stands

    def use(self, case: ProviderCase) -> None:
        """The provider's URL reaches the case's sandbox; the secret holds its credentials."""
        self.current[case.kit.name] = self.boxes[case.label]
        entry = case.kit.test_secret_entry(case.variant)
        if self.secret[case.kit.name] != entry:
            self.secret[case.kit.name] = entry
            boto3.client("secretsmanager").put_secret_value(
                SecretId=self.refs["ProviderCredentialsSecret"], SecretString=json.dumps(self.secret)
            )
            secret_values.clear_cache()


@contextmanager
def harness() -> Iterator[Harness]:
    from local.testing import LambdaUnderTest

    fit_moto_for_long_runs()  # thousands of requests: none may leave memory behind (local/moto_long_runs.py)
    secret = {name: kit.test_secret_entry() for name, kit in kits().items()}
    template = Template()
    BotocoreStubber.__call__ = _metered_stub  # type: ignore[method-assign]
    DynamoDBWire.send = _metered_send  # type: ignore[method-assign]
    try:
        with mock_aws(), responses.RequestsMock(assert_all_requests_are_fired=False) as wire:
            refs = template.provision(
                boto3.client("dynamodb"),
                boto3.client("secretsmanager"),
                prefix="bench",
                secret_values={"ProviderCredentialsSecret": json.dumps(secret)},
            )
            boxes, current = _sandboxes(wire)
            # Clients copy the session's hooks when made: register before the handlers make theirs
            # (from payments/aws_clients.py's session, as the floor's below).
            aws_clients.forget_session()  # one made before moto started would lack moto's hook
            events = aws_clients.session().get_component("event_emitter")
            events.register("before-parameter-build.dynamodb", METER.call_starts)
            events.register("after-call.dynamodb", METER.call_ends)
            events.register("after-call-error.dynamodb", METER.call_ends)
            specs = template.functions()
            envs = {
                spec.logical_id: template.environment(
                    spec, refs, {"PublicBaseUrl": "https://api.example.com"}
                )
                for spec in specs
            }
            keys = {key for env in envs.values() for key in env}
            functions = {
                spec.logical_id: LambdaUnderTest(spec, envs[spec.logical_id], keys) for spec in specs
            }
            yield Harness(boxes, current, functions, envs, refs, secret)
    finally:
        BotocoreStubber.__call__ = _original_stub  # type: ignore[method-assign]
        DynamoDBWire.send = _original_send  # type: ignore[method-assign]


def per_request_cost() -> dict[str, Any]:
    requests_per_case = int(os.environ.get("BENCH_REQUESTS", "1000"))
    results: dict[str, Any] = {}
    with harness() as bench:
        for case in provider_cases():
            bench.use(case)
            results.update(_provider_cases(case, bench, requests_per_case))
            print(f"  {case.label}: done", file=sys.stderr, flush=True)
        table = bench.envs["NotifyFunction"]["ORDERS_TABLE_NAME"]
        bare = aws_clients.client("dynamodb")  # the handlers' kind of client
        results[BOTOCORE_FLOOR] = _round_trip_floor(table, requests_per_case, bare)
        wire = DynamoDBWire(bare, aws_clients.session().get_credentials())  # the table's (store/table.py)
        results[WIRE_FLOOR] = _round_trip_floor(table, requests_per_case, wire)
    return results


# Each batch on a fresh table, so every batch is measured alike at any count: moto answers a Query of
# an index by reading every item of the table.
BATCH = 10


def _fresh_table(table_name: str) -> None:
    props = Template().resources["OrdersTable"]["Properties"]
    client = boto3.client("dynamodb")
    client.delete_table(TableName=table_name)
    client.create_table(**table_arguments(props, table_name))


def _provider_cases(case: ProviderCase, bench: Harness, n: int) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for start in range(0, n, BATCH):
        _fresh_table(bench.envs["NotifyFunction"]["ORDERS_TABLE_NAME"])
        for row_name, row in _batch(case, bench, range(start, min(n, start + BATCH))).items():
            merged.setdefault(row_name, []).append(row)
        for box in bench.boxes.values():  # what the providers sent on their own: not delivered here
            box.take_notifications()
    return {row_name: _merge(rows) for row_name, rows in merged.items()}


def _merge(rows: list[dict[str, Any]]) -> dict[str, Any]:
    cpu = [ms for row in rows for ms in row["cpu"]]
    steady = cpu[1:] or cpu  # the very first request pays one-time costs (secret fetch, key loading)
    all_calls = [c for row in rows for c in row["calls"]]
    calls = all_calls[1:] or all_calls
    all_sequences = [" ".join(s) for row in rows for s in row["sequences"]]
    sequences = Counter(all_sequences[1:] or all_sequences)
    sequence, seen = sequences.most_common(1)[0]
    aws_ops = sorted({op for c in calls for op in c if op.startswith("aws:")})
    return {
        "p50_ms": statistics.median(steady),
        "p99_ms": sorted(steady)[int(0.99 * (len(steady) - 1))],
        "first_ms": cpu[0],
        "requests": len(cpu),
        # botocore's request building and SigV4 signing: part of our CPU, not the network's.
        "botocore_p50_ms": statistics.median([ms for row in rows for ms in row["botocore"]][1:] or [0.0]),
        "dynamodb_reads": statistics.mean(sum(c[k] for k in READS) for c in calls),
        "dynamodb_writes": statistics.mean(sum(c[k] for k in WRITES) for c in calls),
        "provider_calls": statistics.mean(c["provider"] for c in calls),
        # Every AWS call by operation (mean per request) and the calls of a request in order.
        "aws_calls": {op.removeprefix("aws:"): statistics.mean(c[op] for c in calls) for op in aws_ops},
        "sequence": sequence,
        "sequence_share": seen / sum(sequences.values()),
        "other_sequences": {other: count for other, count in sequences.items() if other != sequence},
    }


def _batch(provider_case: ProviderCase, bench: Harness, indices: range) -> dict[str, Any]:
    name, provider, functions = provider_case.kit.name, provider_case.label, bench.functions
    order_ids = [f"b-{provider}-{i}" for i in indices]
    unpaid_ids = [f"c-{provider}-{i}" for i in indices]  # created, never paid: the cancels

    refund_body = json.dumps(
        {"refund_id": "r-1", "amount": {"value": 400, "currency": "EUR"}, "reason": "one cup broken"}
    ).encode()
    out: dict[str, Any] = {}

    def run(
        case: str,
        function: str,
        events: list[dict[str, Any]],
        expect: int,
        body_check: Callable[[dict[str, Any]], bool] | None = None,
        *,
        measured: bool = True,
    ) -> None:
        cpu: list[float] = []
        botocore: list[float] = []
        calls: list[Counter[str]] = []
        sequences: list[list[str]] = []
        handler = functions[function]
        with environment(handler.env, handler.drop):
            for event in events:
                METER.reset()
                started = time.process_time()
                result = handler.handler(event, FakeContext(function))
                spent = time.process_time() - started - METER.outside
                if result["statusCode"] != expect:
                    got = f"{result['statusCode']}, expected {expect}: {result.get('body')}"
                    raise RuntimeError(f"{case} [{provider}]: {got}")
                if body_check is not None and not body_check(json.loads(result["body"])):
                    raise RuntimeError(f"{case} [{provider}]: unexpected answer {result['body']}")
                cpu.append(spent * 1000)
                botocore.append(METER.botocore * 1000)
                # Copies: the meter's own go on counting until its next reset (the next batch's table)
                calls.append(Counter(METER.calls))
                sequences.append(list(METER.sequence))
        if measured:
            out[f"{case} [{provider}]"] = {
                "cpu": cpu,
                "botocore": botocore,
                "calls": calls,
                "sequences": sequences,
            }

    def order_event(method: str, oid: str, action: str = "", body: bytes | None = None) -> dict[str, Any]:
        suffix = f"/{action}" if action else ""
        return api_event(
            method, f"/orders/{oid}{suffix}", "/orders/{order_id}" + suffix, body, params={"order_id": oid}
        )

    run(
        "POST /orders",
        "CreateOrderFunction",
        [api_event("POST", "/orders", "/orders", create_body(oid, name)) for oid in order_ids],
        201,
    )
    # The orders to cancel: created the same way, not measured (the row above is the create's).
    run(
        "setup",
        "CreateOrderFunction",
        [api_event("POST", "/orders", "/orders", create_body(oid, name)) for oid in unpaid_ids],
        201,
        measured=False,
    )
    notifications = [notification_event(bench, name, oid) for oid in order_ids]
    run("POST /notify (first)", "NotifyFunction", notifications, 200)
    run("POST /notify (duplicate)", "NotifyFunction", notifications, 200)
    # A forgery signed with a stranger's key: refused, and diagnosed by trying every candidate (the
    # doctor's slow path, payments/providers/base.py `diagnose`); filed with its request.
    credentials = provider_case.kit.test_credentials(provider_case.variant)
    forged = [
        _event_of(name, provider_case.kit.broken(credentials, bench.current[name], oid, "wrong_key"))
        for oid in order_ids
    ]
    run("POST /notify (refused, diagnosed)", "NotifyFunction", forged, 401)
    # A partial refund of each paid order: its outcome is known when the answer is given (pending at
    # the provider, or succeeded), never left unknown.
    refunds = [order_event("POST", oid, "refunds", refund_body) for oid in order_ids]
    known = {"pending", "succeeded"}
    run("POST /orders/{id}/refunds", "OrderActionsFunction", refunds, 201, lambda r: r["status"] in known)
    run(
        "POST /orders/{id}/refunds (again)",
        "OrderActionsFunction",
        refunds,
        200,
        lambda r: r["status"] in known,
    )
    run(
        "POST /orders/{id}/cancel",
        "OrderActionsFunction",
        [order_event("POST", oid, "cancel") for oid in unpaid_ids],
        200,
        lambda r: r["status"] == "cancelled",
    )
    # After the refund: the order read with its refund ledger and its events.
    run(
        "GET /orders/{id}",
        "GetOrderFunction",
        [order_event("GET", oid) for oid in order_ids],
        200,
        lambda r: len(r["refunds"]) == 1 and bool(r["events"]),
    )
    # Its merchant events, computed from its history, each with its webhook delivery status.
    run(
        "GET /orders/{id}/events",
        "EventsApiFunction",
        [
            api_event("GET", f"/orders/{oid}/events", "/orders/{order_id}/events", params={"order_id": oid})
            for oid in order_ids
        ],
        200,
        lambda r: [e["type"] for e in r["events"]][:2] == ["order.pending", "order.paid"],
    )
    return out


BOTOCORE_FLOOR = "botocore floor: notify's round trips"
WIRE_FLOOR = "wire floor: notify's round trips"


def _round_trip_floor(table_name: str, n: int, client: Any) -> dict[str, Any]:
    """What a client alone costs for a notification's round trips — one consistent Query of an order
    and its refund ledger (`sk >= ORDER`), one TransactWriteItems of a version-conditioned update plus
    an audit-event put — against the same moto, metered the same way: botocore's client (our retry
    config), through which no implementation can go below it, and the table's wire over that client
    (payments/store/wire.py), which the handlers use."""
    key = {"pk": {"S": "ORDER#floor"}, "sk": {"S": "ORDER"}}
    provider = next(iter(kits()))  # any: botocore's work does not depend on it
    order = {
        **key,
        "order_id": {"S": "floor"},
        "provider": {"S": provider},
        "status": {"S": "pending"},
        "amount_value": {"N": "1000"},
        "currency": {"S": "EUR"},
        "description": {"S": "Tea set"},
        "return_url": {"S": "https://shop.example.com/r"},
        "cancel_url": {"S": "https://shop.example.com/c"},
        "created_at": {"S": "2026-11-22T00:00:00.000000Z"},
        "updated_at": {"S": "2026-11-22T00:00:00.000000Z"},
        "version": {"N": "1"},
    }
    spent: list[float] = []
    calls: list[Counter[str]] = []
    sequences: list[list[str]] = []
    for index in range(n):
        if index % BATCH == 0:
            _fresh_table(table_name)
            client.put_item(TableName=table_name, Item=order)
            version = 1
        METER.reset()
        started = time.process_time()
        client.query(
            TableName=table_name,
            KeyConditionExpression="pk = :pk AND sk >= :order",
            ExpressionAttributeValues={":pk": key["pk"], ":order": key["sk"]},
            ConsistentRead=True,
        )
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table_name,
                        "Key": key,
                        "UpdateExpression": "SET #s = :s, #v = :next, #u = :u",
                        "ConditionExpression": "#v = :read",
                        "ExpressionAttributeNames": {"#s": "status", "#v": "version", "#u": "updated_at"},
                        "ExpressionAttributeValues": {
                            ":s": {"S": "paid"},
                            ":next": {"N": str(version + 1)},
                            ":read": {"N": str(version)},
                            ":u": {"S": "2026-11-22T00:00:01.000000Z"},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": {
                            "pk": key["pk"],
                            "sk": {"S": f"EVENT#{index:08x}"},
                            "type": {"S": "notification"},
                            "source": {"S": provider},
                            "verified": {"BOOL": True},
                        },
                        "ConditionExpression": "attribute_not_exists(sk)",
                    }
                },
            ],
            ClientRequestToken=f"floor-{index}",
        )
        version += 1
        spent.append((time.process_time() - started - METER.outside) * 1000)
        calls.append(Counter(METER.calls))  # a copy: the next batch's seeding would count into it
        sequences.append(list(METER.sequence))
    return _merge([{"cpu": spent, "botocore": spent, "calls": calls, "sequences": sequences}])
