"""GET /diagnostics for every provider (and variant): a right configuration passes every check against
the provider's sandbox; each mistake a merchant makes in the provider's settings (the kit's
`misconfigurations`) is caught by the check that names it, with a fix; the last accepted and refused
notification are reported."""

from __future__ import annotations

import pytest

from tests.support.doctor import Party, party
from tests.support.secrets import PROVIDER_SECRET

__all__ = ["party"]  # the fixture


def test_a_right_configuration_passes_against_the_provider(party: Party) -> None:
    checks = party.diagnostics()
    assert {name: check["status"] for name, check in checks.items() if check["status"] == "fail"} == {}
    assert checks["credentials"]["status"] == "ok", checks["credentials"]
    assert (
        checks["notification_url"]["message"].endswith(f"/notify/{party.kit.name}")
        or "signs" in (checks["notification_url"]["message"])
    )
    assert checks["last_refused"]["status"] == "ok"
    party.shop.create("dg-1")
    party.deliver(party.kit.statement(party.shop.sandbox, "dg-1", "paid"))
    credentials = party.kit.test_credentials(party.variant)
    party.deliver(party.kit.broken(credentials, party.shop.sandbox, "dg-1", "unsigned"))
    checks = party.diagnostics()
    assert checks["last_accepted"]["status"] == "ok"
    assert (checks["last_refused"]["status"], checks["last_refused"]["message"].rsplit(": ", 1)[-1]) == (
        "warn",
        "unsigned",
    )


def test_each_misconfiguration_is_caught_with_a_fix(party: Party) -> None:
    credentials = party.kit.test_credentials(party.variant)
    mistakes = party.kit.misconfigurations(credentials)
    assert mistakes
    for mistake, (check, status) in mistakes.items():
        entry = party.kit.misconfigured_entry(credentials, party.kit.test_base_url, mistake)
        party.stack.put_secret({**PROVIDER_SECRET, party.kit.name: entry})
        found = party.diagnostics()[check]
        assert found["status"] == status, (mistake, found)
        assert found.get("fix") or status == "warn", (mistake, found)


@pytest.mark.parametrize("broken", ["text", {"nothing": "valid"}])
def test_an_unreadable_entry_is_a_failed_settings_check(party: Party, broken: object) -> None:
    party.stack.put_secret({**PROVIDER_SECRET, party.kit.name: broken})
    checks = party.diagnostics()
    assert (checks["settings"]["status"], list(checks)) == ("fail", ["settings"])
