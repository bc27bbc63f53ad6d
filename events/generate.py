"""Write the sample API Gateway events in events/<provider>/ (run: make events; layout: events/README.md).

Every provider folder in local/providers is a provider here too, through its kit. For each one, the
sample order is created in a sandbox that holds the kit's fixed sample credentials, through the
provider's own adapter, exactly as the create function would; the sample notifications are then the
ones that sandbox sends when the order is paid, signed by the sandbox's signer, never by this script.
A stack whose secret holds the sample credentials (events/<provider>/sample_secret_entry.json) accepts
them. Signatures that carry a timestamp are stamped with the moment of generation: regenerate right
before `sam local invoke` if you want such a sample accepted rather than refused as stale.

Every merchant route has its sample for every provider (create, get, refund, cancel, sync), and every
scheduled function one of the event EventBridge Scheduler sends it. What would be drawn at random (the
sandboxes' ids, the events' request ids) is drawn from a seed: a second run changes only what the
moment of generation changes (`make events` is byte-stable otherwise).
"""

from __future__ import annotations

import base64
import json
import random
import re
import secrets
import sys
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "payments")]

from local.testing import (  # noqa: E402
    ProviderKit,
    SignedNotification,
    Template,
    kits,
    proxy_event,
)
from payments.api import parse_create_order  # noqa: E402
from payments.flows.creation import new_order  # noqa: E402
from payments.http import HttpClient, HttpResponse  # noqa: E402
from payments.providers import provider_class  # noqa: E402
from payments.providers.base import CallContext  # noqa: E402

EVENTS = ROOT / "events"
DOMAIN = "abc123.execute-api.eu-west-1.amazonaws.com"
PUBLIC_BASE_URL = f"https://{DOMAIN}/v1"
MERCHANT_API_KEY = "sample-merchant-api-key"
SECRET_ENTRY_FILE = "sample_secret_entry.json"  # noqa: S105 - a file name, in each provider's folder


def sample_create_body(kit: ProviderKit[Any, Any]) -> dict[str, object]:
    """10.00 EUR for the provider's sample order: the amount its notification samples report."""
    order_id = kit.sample_order_id
    pages = {
        "return_url": f"https://shop.example.com/orders/{order_id}/return",
        "cancel_url": f"https://shop.example.com/orders/{order_id}/cancel",
    }
    uses = provider_class(kit.name).documented_capabilities.payer_urls
    return {
        "order_id": order_id,
        "provider": kit.name,
        "amount": {"value": 1000, "currency": "EUR"},
        "description": "Tea set",
        # The pages this provider sends the payer to: the API asks for those only.
        **{name: url for name, url in pages.items() if name in uses},
        # Some providers require the payer's IP address; the others pass on what they have a field for.
        "customer": {"locale": "zh_CN", "ip_address": "203.0.113.7", "country": "CN"},
        "items": [{"name": "Tea set", "quantity": 1, "unit_price": 1000}],
    }


def sample_refund_body() -> dict[str, object]:
    """4.00 of the sample order's 10.00 EUR; the same event invoked again is the same refund."""
    return {
        "refund_id": "sample-refund-1",
        "amount": {"value": 400, "currency": "EUR"},
        "reason": "One cup arrived broken",
    }


class SandboxWire(HttpClient):
    """Hands the adapter's requests to a sandbox, in this process: no network."""

    def __init__(self, sandbox: Any) -> None:
        super().__init__(provider_calls=False)
        self.sandbox = sandbox

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Any = None,
        body: bytes | None = None,
        timeout: tuple[float, float] = (0, 0),
    ) -> HttpResponse:
        status, reply_headers, reply = self.sandbox.handle(method, url, dict(headers or {}), body)
        return HttpResponse(status, reply_headers, reply)


def sample_notifications(kit: ProviderKit[Any, Any], now: int) -> list[SignedNotification]:
    """The sample order created at a sandbox holding the sample credentials, through the adapter, and
    what that sandbox sends once the order is paid."""
    credentials = kit.sample_credentials()
    sandbox = kit.new_sandbox(credentials)
    adapter_class = provider_class(kit.name)
    settings = adapter_class.settings_model.model_validate(kit.secret_entry(credentials, kit.test_base_url))
    adapter = adapter_class(settings, SandboxWire(sandbox))
    request = parse_create_order(json.dumps(sample_create_body(kit)))
    moment = datetime.fromtimestamp(now, UTC)
    order = new_order(request, moment, adapter.default_expiry_seconds(request))
    adapter.create_payment(order, CallContext(f"{PUBLIC_BASE_URL}/notify/{kit.name}", moment, request))
    return kit.sample_notifications(sandbox, kit.sample_order_id)


@contextmanager
def clock_at(now: int) -> Iterator[None]:
    """time.time() answers `now`: the sandboxes stamp (and sign) their notifications with it."""
    with mock.patch.object(time, "time", return_value=float(now)):
        yield


@contextmanager
def ids_from(seed: str) -> Iterator[None]:
    """The ids and tokens drawn at random while the samples are made (the sandboxes' through
    `secrets`, the proxy events' through `uuid`) drawn from `seed` instead: the same on every run."""
    rng = random.Random(seed)  # noqa: S311 - sample ids, published on purpose: nothing secret

    def token_bytes(size: int | None = None) -> bytes:
        return rng.randbytes(32 if size is None else size)

    with (
        mock.patch.object(secrets, "token_hex", lambda size=None: token_bytes(size).hex()),
        mock.patch.object(
            secrets,
            "token_urlsafe",
            lambda size=None: base64.urlsafe_b64encode(token_bytes(size)).rstrip(b"=").decode(),
        ),
        mock.patch.object(secrets, "randbelow", rng.randrange),
        mock.patch.object(uuid, "uuid4", side_effect=lambda: uuid.UUID(int=rng.getrandbits(128), version=4)),
    ):
        yield


def merchant_event(
    method: str,
    path: str,
    resource: str,
    order_id: str | None = None,
    body: dict[str, object] | None = None,
    query: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    headers = [("x-api-key", MERCHANT_API_KEY)]
    if body is not None:
        headers.insert(0, ("Content-Type", "application/json"))
    return proxy_event(
        method=method,
        path=path,
        resource=resource,
        path_parameters={"order_id": order_id} if order_id else None,
        query=query,
        headers=headers,
        body=json.dumps(body, indent=2).encode() if body is not None else None,
        domain_name=DOMAIN,
        api_key=MERCHANT_API_KEY,
        api_key_id="samplekeyid",
    )


def notification_event(kit: ProviderKit[Any, Any], statement: SignedNotification) -> dict[str, Any]:
    return proxy_event(
        method=statement.method,
        path=f"/notify/{kit.name}",
        resource="/notify/{provider}",
        path_parameters={"provider": kit.name},
        query=parse_qsl(urlsplit(statement.url).query),
        headers=list(statement.headers.items()),
        body=statement.body or None,
        domain_name=DOMAIN,
        source_ip=kit.notification_source_ip,
    )


def provider_events(kit: ProviderKit[Any, Any], now: int) -> dict[str, dict[str, Any]]:
    """{file name: event} of one provider's folder."""
    order_id = kit.sample_order_id
    order_path = f"/orders/{order_id}"
    events = {
        "create_order.json": merchant_event("POST", "/orders", "/orders", body=sample_create_body(kit)),
        "get_order.json": merchant_event("GET", order_path, "/orders/{order_id}", order_id),
        "refund_order.json": merchant_event(
            "POST", f"{order_path}/refunds", "/orders/{order_id}/refunds", order_id, sample_refund_body()
        ),
        # No body: these routes take none (`{}` is accepted too).
        "cancel_order.json": merchant_event(
            "POST", f"{order_path}/cancel", "/orders/{order_id}/cancel", order_id
        ),
        "sync_order.json": merchant_event("POST", f"{order_path}/sync", "/orders/{order_id}/sync", order_id),
    }
    for statement in sample_notifications(kit, now):
        events[f"notify_{statement.method.lower()}.json"] = notification_event(kit, statement)
    # The operator's list: this provider's paid orders, newest first (after the others: the ids they
    # draw from the seed stay the same).
    events["find_orders.json"] = merchant_event(
        "GET", "/orders", "/orders", query=[("provider", kit.name), ("status", "paid"), ("limit", "10")]
    )
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    events["daily_report.json"] = merchant_event(
        "GET", "/reports/daily", "/reports/daily", query=[("date", day), ("format", "csv")]
    )
    return events


# The doctor's samples: the refused notifications' listing, and a replay of one (its id is the shape of
# the listing's ids: take a real one from `rejected_list.json`'s answer).
SAMPLE_REJECTED_ID = "rej_20261206T120000000000_00000000_sample"


def doctor_events() -> dict[str, dict[str, Any]]:
    attempt = SAMPLE_REJECTED_ID
    listing = merchant_event("GET", "/notifications/rejected", "/notifications/rejected")
    listing["queryStringParameters"] = {"limit": "20"}
    listing["multiValueQueryStringParameters"] = {"limit": ["20"]}
    replay = merchant_event(
        "POST",
        f"/notifications/rejected/{attempt}/replay",
        "/notifications/rejected/{attempt_id}/replay",
    )
    replay["pathParameters"] = {"attempt_id": attempt}
    return {"rejected_list.json": listing, "rejected_replay.json": replay}


def scheduled_file(logical_id: str) -> str:
    """`ReconcileFunction` -> `reconcile_scheduled.json`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", logical_id.removesuffix("Function")).lower() + "_scheduled.json"


def scheduled_event(logical_id: str, now: int) -> dict[str, Any]:
    """What EventBridge Scheduler sends a Lambda target whose schedule gives no input (the template's
    do not): its default notification. The scheduled functions read nothing of it."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "123456789012",
        "time": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "eu-west-1",
        "resources": [
            f"arn:aws:scheduler:eu-west-1:123456789012:schedule/default/alipay-payments-{logical_id}"
        ],
        "detail": "{}",
    }


def build(now: int, providers: Collection[str] | None = None) -> dict[str, dict[str, Any]]:
    """{path under events/: event} for every provider (or those named) and, when all are asked for,
    every scheduled function, as if generated at `now` (epoch seconds)."""
    events: dict[str, dict[str, Any]] = {}
    with clock_at(now):
        for name, kit in kits().items():
            if providers is None or name in providers:
                with ids_from(name):
                    events.update(
                        {f"{name}/{file}": event for file, event in provider_events(kit, now).items()}
                    )
        if providers is None:
            with ids_from("doctor"):
                events.update(doctor_events())
            for spec in Template().functions():
                if spec.scheduled:
                    with ids_from(spec.logical_id):
                        events[scheduled_file(spec.logical_id)] = scheduled_event(spec.logical_id, now)
    return events


def sample_secret_entries() -> dict[str, dict[str, Any]]:
    """{path under events/: the provider's secret entry holding the sample credentials}."""
    return {
        f"{name}/{SECRET_ENTRY_FILE}": kit.secret_entry(kit.sample_credentials(), kit.test_base_url)
        for name, kit in kits().items()
    }


def main() -> None:
    for name, content in {**sample_secret_entries(), **build(int(time.time()))}.items():
        path = EVENTS / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(content, indent=2) + "\n")
        print(f"wrote events/{name}")


if __name__ == "__main__":
    main()
