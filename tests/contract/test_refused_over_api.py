"""Refused notifications through the real handlers, for every provider (and variant): each kind of broken
notification is answered as before, listed with its code by GET /notifications/rejected (masked, newest
first, paged), and none is applied by a replay; a genuine one refused under a wrong configuration is
applied by its replay once the configuration is fixed, and only once."""

from __future__ import annotations

import json

import pytest
import responses

from local.testing import kit_of, kits
from tests.conftest import Stack
from tests.support.doctor import STAGE_URL, Party, party
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.providers import mount
from tests.support.secrets import PROVIDER_SECRET
from tests.support.shop_kit import Shop

__all__ = ["party"]  # the fixture


def test_each_refusal_is_listed_with_its_code_and_no_replay_applies_it(party: Party) -> None:
    kinds = dict(party.kit.broken_kinds(party.shop.sandbox))
    credentials = party.kit.test_credentials(party.variant)
    party.shop.create("rj-1")
    answers = {}
    for kind in kinds:
        answers[kind] = party.deliver(party.kit.broken(credentials, party.shop.sandbox, "rj-1", kind)).status
    assert all(400 <= status < 500 for status in answers.values()), answers

    listed = party.listed(limit="100")["rejected"]
    assert [entry["code"] for entry in listed] == list(reversed(kinds.values()))
    assert all(entry["explanation"] and entry["provider"] == party.kit.name for entry in listed)
    assert all(set(entry) == LISTED_FIELDS for entry in listed)
    assert all("sha256" in entry["payload"]["body"] for entry in listed)  # masked: a summary, not the body
    assert all(entry["source_ip"] for entry in listed)
    assert [entry["received_at"] for entry in listed] == sorted(
        (entry["received_at"] for entry in listed), reverse=True
    )

    # Paged like GET /events: each page after the last id of the one before, every entry once.
    paged, after = [], None
    while True:
        page = party.listed(limit="3", **({"after": after} if after else {}))
        if not page["rejected"]:
            break
        paged += page["rejected"]
        after = page["next_after"]
    assert [entry["id"] for entry in paged] == [entry["id"] for entry in listed]

    for entry in listed:
        verdict = party.replay(entry["id"])
        assert (verdict["result"], verdict["code"]) == ("refused", entry["code"]), (entry, verdict)
        assert verdict["explanation"]
    assert party.shop.read("rj-1")["status"] == "pending"
    assert len(party.listed(limit="100")["rejected"]) == len(kinds)  # a refused replay is not filed again


LISTED_FIELDS = {"id", "provider", "received_at", "code", "explanation", "order_id", "source_ip", "payload"}


def test_a_genuine_notification_refused_under_a_wrong_key_is_applied_by_replay_once_fixed(
    party: Party,
) -> None:
    party.shop.create("rj-2")
    genuine = party.kit.statement(party.shop.sandbox, "rj-2", "paid")
    right = party.kit.test_secret_entry(party.variant)
    wrong = party.kit.secret_entry(party.kit.new_credentials(party.variant), party.kit.test_base_url)
    party.stack.put_secret({**PROVIDER_SECRET, party.kit.name: wrong})
    assert 400 <= party.deliver(genuine).status < 500
    [entry] = party.listed()["rejected"]
    assert entry["code"] == "signature_invalid"
    assert party.replay(entry["id"])["result"] == "refused"  # still misconfigured

    party.stack.put_secret({**PROVIDER_SECRET, party.kit.name: right})
    verdict = party.replay(entry["id"])
    assert (verdict["result"], verdict["code"], verdict["order"]["status"]) == ("applied", None, "paid")
    assert party.replay(entry["id"])["result"] == "duplicate"
    assert party.shop.read("rj-2")["status"] == "paid"


def test_verified_but_not_ours_says_whether_the_order_is_another_providers(
    party: Party, stack: Stack, wire: responses.RequestsMock, link: ProviderLink
) -> None:
    sandbox = party.shop.sandbox
    url = f"{STAGE_URL}/notify/{party.kit.name}"
    party.kit.open_order(sandbox, "rj-ghost", notify_url=url, return_url="https://r", description="x")
    assert 400 <= party.deliver(party.kit.statement(sandbox, "rj-ghost", "paid")).status < 500
    other = kit_of(next(name for name in kits() if name != party.kit.name))
    mount(other, stack, wire, link)
    stack.put_secret(
        {
            **PROVIDER_SECRET,
            other.name: other.test_secret_entry(),
            party.kit.name: party.kit.test_secret_entry(party.variant),
        }
    )
    Shop(other.name, None, party.api).create("rj-theirs")
    party.kit.open_order(sandbox, "rj-theirs", notify_url=url, return_url="https://r", description="x")
    assert 400 <= party.deliver(party.kit.statement(sandbox, "rj-theirs", "paid")).status < 500
    listed = party.listed()["rejected"]
    assert [(entry["code"], entry["order_id"]) for entry in listed] == [
        ("other_provider", "rj-theirs"),
        ("unknown_order", "rj-ghost"),
    ]


def test_the_listing_checks_its_query(api: Api) -> None:
    for query, field in [
        ("provider=nobody", "provider"),
        ("after=evt_1", "after"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
    ]:
        reply = api.request("GET", f"/notifications/rejected?{query}")
        assert reply.status == 422
        assert json.loads(reply.body)["error"]["field"] == field
    reply = api.request("POST", "/notifications/rejected/rej_20261206T000000000000_00000000_x/replay")
    assert reply.status == 404


def test_each_refusal_is_counted_by_its_code(party: Party, capsys: pytest.CaptureFixture[str]) -> None:
    party.shop.create("rj-3")
    credentials = party.kit.test_credentials(party.variant)
    capsys.readouterr()
    party.deliver(party.kit.broken(credentials, party.shop.sandbox, "rj-3", "unsigned"))
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    [by_code] = [record for record in records if "NotificationsRejectedByCode" in record]
    [directive] = by_code["_aws"]["CloudWatchMetrics"]
    assert (by_code["code"], sorted(directive["Dimensions"][0])) == ("unsigned", ["code", "service"])
    assert any("NotificationsRejected" in record for record in records)  # the alarm's, as before
