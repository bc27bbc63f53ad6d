"""Every refused notification gets a code and an explanation (payments/refusals.py), per provider and
for each kind of mistake its scheme allows: the kits break a genuine notification with the run's real
keys (`ProviderKit.broken`), the adapter refuses it exactly as before, and `diagnose` names the cause.
Below the handlers: the adapter on its own, its sandbox answering nothing (no call is made)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from local.testing import ProviderKit, SignedNotification, kit_of, kits
from payments.errors import NotificationRejected
from payments.providers import provider_class
from payments.providers.base import Provider, RawRequest
from payments.refusals import CODES
from tests.support.providers import label
from tests.support.sandbox_client import SandboxHttp

# A stage URL: what the provider was given (a path-signing provider signs its path).
NOTIFY_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/notify/{name}"


@dataclass
class Setup:
    kit: ProviderKit[Any, Any]
    credentials: Any
    sandbox: Any
    adapter: Provider


def setup(name: str, variant: str) -> Setup:
    kit = kit_of(name)
    credentials = kit.test_credentials(variant)
    sandbox = kit.new_sandbox(credentials)
    cls = provider_class(name)
    settings = cls.settings_model.model_validate(kit.secret_entry(credentials, kit.test_base_url))
    adapter = cls(settings, SandboxHttp(sandbox))
    return Setup(kit, credentials, sandbox, adapter)


def raw_of(sent: SignedNotification, now: datetime | None = None) -> RawRequest:
    """The request as the notify handler builds it: the URL as published (no query), the query apart."""
    parts = urlsplit(sent.url)
    return RawRequest(
        method=sent.method,
        body=sent.body,
        headers={name.lower(): value for name, value in sent.headers.items()},
        query=parse_qs(parts.query, keep_blank_values=True),
        now=now or datetime.now(UTC),
        url=f"{parts.scheme}://{parts.netloc}{parts.path}",
        received_path="/notify/" + parts.path.rsplit("/", 1)[-1],
    )


def cases() -> list[Any]:
    found = []
    for name, kit in kits().items():
        for variant in kit.variants:
            probe = setup(name, variant)
            for kind, code in kit.broken_kinds(probe.sandbox).items():
                found.append(pytest.param(name, variant, kind, code, id=f"{label(name, variant)}-{kind}"))
    return found


CASES = cases()


def open_order(s: Setup, order_id: str) -> None:
    s.kit.open_order(
        s.sandbox,
        order_id,
        notify_url=NOTIFY_URL.format(name=s.kit.name),
        return_url="https://shop.example/back",
        description="diagnosis",
    )


@pytest.mark.parametrize(("name", "variant", "kind", "code"), CASES)
def test_a_broken_notification_is_refused_as_before_and_diagnosed(
    name: str, variant: str, kind: str, code: str
) -> None:
    s = setup(name, variant)
    open_order(s, f"dx-{kind}")
    broken = s.kit.broken(s.credentials, s.sandbox, f"dx-{kind}", kind)
    raw = raw_of(broken)
    with pytest.raises(NotificationRejected) as refused:
        s.adapter.parse_notification(raw)
    rejection = refused.value
    before = (rejection.reason, rejection.message, rejection.status, s.adapter.acknowledge(None, rejection))
    diagnosis = s.adapter.diagnose(raw, rejection)
    assert code in CODES
    assert (diagnosis.code, kind) == (code, kind), diagnosis.explanation
    assert diagnosis.explanation
    # Explaining never changes the refusal: the same reason, and the same answer to the provider.
    after = s.adapter.acknowledge(None, rejection)
    assert (rejection.reason, rejection.message, rejection.status) == before[:3]
    assert (after.status, after.content_type) == (before[3].status, before[3].content_type)


@pytest.mark.parametrize(("name", "variant"), [(n, v) for n, k in kits().items() for v in k.variants])
def test_every_provider_reaches_the_codes_its_scheme_allows(name: str, variant: str) -> None:
    s = setup(name, variant)
    reached = set(s.kit.broken_kinds(s.sandbox).values())
    assert {"unsigned", "signature_invalid", "malformed", "body_altered"} <= reached


@pytest.mark.parametrize(("name", "variant"), [(n, v) for n, k in kits().items() for v in k.variants])
def test_a_genuine_notification_is_never_diagnosed(name: str, variant: str, monkeypatch: Any) -> None:
    """The candidates run only after a refusal: a genuine notification never reaches them."""
    s = setup(name, variant)
    open_order(s, "dx-genuine")
    genuine = s.kit.statement(s.sandbox, "dx-genuine", "paid")

    def never(*_: Any) -> None:
        raise AssertionError("a candidate was tried for a genuine notification")

    monkeypatch.setattr(type(s.adapter), "signature_candidates", never)
    monkeypatch.setattr(type(s.adapter), "diagnose", never)
    assert s.adapter.parse_notification(raw_of(genuine)).order_id == "dx-genuine"
