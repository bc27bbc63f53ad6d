"""The merchant-event pipeline in-process: the stream and the webhook queue drained into their
functions as Lambda's event source mappings would (local/pipeline.py), and a merchant's receiver."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from local.testing import QueuePoller, StreamPoller, Template, filters_of
from tests.support.lambdas import Api


@dataclass
class Received:
    body: bytes
    signature: str
    event: dict[str, Any]


@dataclass
class Receiver:
    """A merchant's webhook endpoint on loopback that refuses its first `fail_first` deliveries."""

    fail_first: int = 0
    received: list[Received] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    attempted: list[str] = field(default_factory=list)  # the id of every event POSTed, answered or not
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def refuse_next(self) -> bool:
        return len(self.answered) < self.fail_first

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.attempted.append(str(json.loads(body).get("id")))
                status = 500 if receiver.refuse_next() else 200
                receiver.answered.append(status)
                if status == 200:
                    signature = self.headers.get("Payments-Signature", "")
                    receiver.received.append(Received(body, signature, json.loads(body)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()


class Pipeline:
    def __init__(self, api: Api, table_name: str, queue_url: str) -> None:
        template = Template()
        events = template.resources["PublishEventsFunction"]["Properties"]["Events"]["OrdersStream"]
        self.stream = StreamPoller(
            boto3.client("dynamodb"),
            # The classic endpoint: moto does not know botocore's account-based one for streams.
            boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.eu-west-1.amazonaws.com"),
            table_name,
            api.functions["PublishEventsFunction"].run,
            filters_of(events["Properties"]),
        )
        self.queue = QueuePoller(boto3.client("sqs"), queue_url, api.functions["DeliverWebhooksFunction"].run)

    def drain(self, rounds: int = 50) -> None:
        """Until neither the stream nor the queue has anything left to give (or `rounds` passes)."""
        for _ in range(rounds):
            moved = self.stream.poll_once() + self.queue.poll_once()
            if not moved and not self.queue_waiting():
                return

    def queue_waiting(self) -> bool:
        attributes = self.queue.sqs.get_queue_attributes(
            QueueUrl=self.queue.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return any(int(value) for value in attributes.values())


def with_webhooks(api: Api, table_name: str, queue_url: str, receiver: Receiver) -> Pipeline:
    """Point the functions at `receiver` as the merchant's webhook (WEBHOOK_URL, a template parameter
    deployed), rebuilding what they built from it at import, and give the pipeline that feeds them."""
    from local.testing import environment
    from payments.outbox.publisher import EventPublisher

    for name in ("PublishEventsFunction", "DeliverWebhooksFunction", "EventsApiFunction"):
        api.functions[name].env["WEBHOOK_URL"] = receiver.url
    api.functions["DeliverWebhooksFunction"].module.sender.url = receiver.url
    publish = api.functions["PublishEventsFunction"]
    with environment(publish.env, publish.drop):
        vars(publish.module)["publisher"] = EventPublisher.from_env()
    # The events API builds its publisher at its first redelivery: built afresh, with the receiver.
    api.functions["EventsApiFunction"].module.publisher.cache_clear()
    return Pipeline(api, table_name, queue_url)
