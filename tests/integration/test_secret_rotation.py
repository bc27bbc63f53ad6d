"""A provider's key rotated while the functions hold the old secret (payments/flows/notifications.py's
`_verify`, payments/secret_values.py's `refresh`), for every provider, through the real handlers and
moto's Secrets Manager: the first notification signed with the new key is accepted; forged ones cost
at most one more read of the secret a minute; a genuine one costs none. A provider's reply that fails
its signature (ProviderBase.reply_signature_failed) has the next call verify with the secret read again."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from local.testing import SignedNotification, kit_of, kits
from payments import secret_values
from payments.doctor import probe_order
from payments.errors import ProviderError
from payments.providers.directory import SECRET_ENV, ProviderDirectory
from tests.conftest import Stack
from tests.support.aws import client
from tests.support.doctor import STAGE_URL
from tests.support.sandbox_client import SandboxHttp
from tests.support.secrets import PROVIDER_SECRET
from tests.support.shop_kit import Shop

FORGERIES = 100


def deliver(shop: Shop, sent: SignedNotification) -> int:
    return shop.api.request(sent.method, sent.url, body=sent.body, headers=sent.headers, api_key=None).status


def count_secret_reads() -> Callable[[], int]:
    """GetSecretValue calls the handlers' client makes from now on (it exists: the secret was read)."""
    calls: list[Any] = []
    secret_values._client.meta.events.register(
        "before-call.secretsmanager.GetSecretValue", lambda **_: calls.append(1)
    )
    return lambda: len(calls)


def refreshes_counted(out: str) -> int:
    """The `ProviderSecretRefreshes` metric's total in Powertools' EMF lines (a value or a list of them)."""
    total = 0
    for line in out.splitlines():
        value = json.loads(line).get("ProviderSecretRefreshes", 0) if '"_aws"' in line else 0
        total += sum(value) if isinstance(value, list) else int(value)
    return total


def test_a_rotated_key_is_accepted_on_the_first_notification_signed_with_it(
    shop: Shop, stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.create("rot-1", 1250)  # the secret is read, and cached, with the old key
    reads = count_secret_reads()
    # The provider rotates the key: its notifications are signed with the new one from now on, and the
    # operator puts the new one in the secret (the functions' cached copy is not told).
    rotated = shop.kit.new_credentials()
    provider = shop.kit.new_sandbox(rotated)
    shop.kit.open_order(
        provider,
        "rot-1",
        notify_url=f"{STAGE_URL}/notify/{shop.provider}",
        return_url="https://r",
        description="x",
    )
    entry = shop.kit.secret_entry(rotated, shop.kit.test_base_url)
    client("secretsmanager").put_secret_value(
        SecretId=stack.secret_arn, SecretString=json.dumps({**PROVIDER_SECRET, shop.provider: entry})
    )
    capsys.readouterr()
    assert deliver(shop, shop.kit.statement(provider, "rot-1", "paid")) == 200
    assert shop.read("rot-1")["status"] == "paid"
    assert reads() == 1
    assert refreshes_counted(capsys.readouterr().out) == 1
    listed = shop.api.request("GET", f"/notifications/rejected?provider={shop.provider}").json()["rejected"]
    assert listed == []  # accepted, never refused


def test_forged_notifications_read_the_secret_again_at_most_once_a_minute(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.create("rot-2", 1250)
    reads = count_secret_reads()
    forge = shop.kit.breaker(shop.kit.test_credentials(), shop.sandbox)
    kind = next(
        kind for kind, code in shop.kit.broken_kinds(shop.sandbox).items() if code == "signature_invalid"
    )
    capsys.readouterr()
    statuses = {deliver(shop, forge("rot-2", kind)) for _ in range(FORGERIES)}
    assert all(400 <= status < 500 for status in statuses), statuses
    assert reads() == 1
    assert refreshes_counted(capsys.readouterr().out) == 1
    # Refused stays refused, and each is diagnosed and filed as before.
    assert shop.read("rot-2")["status"] == "pending"
    listed = shop.api.request("GET", f"/notifications/rejected?provider={shop.provider}&limit=100").json()
    assert {entry["code"] for entry in listed["rejected"]} == {"signature_invalid"}
    assert len(listed["rejected"]) == FORGERIES


def test_a_genuine_notification_reads_nothing_again(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    shop.create("rot-3", 1250)
    reads = count_secret_reads()
    shop.sandbox.pay("rot-3")
    capsys.readouterr()
    assert shop.deliver() == [200]
    assert reads() == 0
    assert refreshes_counted(capsys.readouterr().out) == 0


@pytest.mark.parametrize("name", list(kits()))
def test_a_reply_failing_its_signature_makes_the_next_call_use_the_secret_read_again(
    name: str, stack: Stack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The provider signs its replies with a rotated key (its sandbox knows only the new credentials):
    the call that meets the first such reply stays unknown (the flows ask again), the secret is read
    again once, and the next call verifies with the new key. Later failures within the minute read
    nothing more."""
    kit = kit_of(name)
    rotated = kit.new_credentials()
    monkeypatch.setenv(SECRET_ENV, stack.secret_arn)
    directory = ProviderDirectory(SandboxHttp(kit.new_sandbox(rotated)))
    stale = directory.get(name)  # the secret read, with the old credentials
    reads = count_secret_reads()
    entry = kit.secret_entry(rotated, kit.test_base_url)
    client("secretsmanager").put_secret_value(
        SecretId=stack.secret_arn, SecretString=json.dumps({**PROVIDER_SECRET, name: entry})
    )
    probe = probe_order(name, datetime.now(UTC))
    with pytest.raises(ProviderError) as failed:
        stale.query(probe)
    if failed.value.code != "provider_bad_signature":
        assert reads() == 0
        pytest.skip(f"{kit.display_name} does not sign its replies with a key of the secret")
    assert reads() == 1
    fresh = directory.get(name)
    assert fresh is not stale
    fresh.query(probe)  # verified with the rotated key: no error (the provider does not know the order)
    for _ in range(10):
        with pytest.raises(ProviderError):
            stale.query(probe)
    assert reads() == 1
