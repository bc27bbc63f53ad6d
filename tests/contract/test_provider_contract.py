"""The provider contract: what every registered provider does through the real handlers, whoever it is.

Run over every provider the registries discover (each kit's variants too: a sign type), so a new
provider folder is held to all of it without a line changed here (docs/adding-a-provider.md). The
provider's side is its sandbox, reached only through its kit (local/providers/<name>/kit.py): its
genuine signed notifications (`statement`), what it was asked (`create_calls`) and what it holds.
In-process (moto, the handlers in-process, the sandbox on `responses`): a few seconds a provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import responses

from local.testing import ProviderKit, Reply, SignedNotification, kit_of, kits
from payments.orders import OrderStatus
from payments.providers import provider_class, provider_names
from payments.providers.capabilities import RefundReporting
from tests.conftest import Stack
from tests.support.lambdas import Api
from tests.support.link import ProviderLink
from tests.support.providers import Kit, mount, provider_variants
from tests.support.shop_kit import Shop
from tests.support.store import history, rejected_items

PROVIDERS = provider_variants()  # (name, variant) for every provider and each of its kit's variants


@dataclass
class Party:
    """One provider (a variant of its kit) behind the real handlers: the merchant's side is `shop`."""

    kit: Kit
    shop: Shop

    @property
    def sandbox(self) -> Any:
        return self.shop.sandbox

    def deliver(self, statement: SignedNotification) -> Reply:
        """POST a notification to our notify route as the provider would (no API key)."""
        return self.shop.api.request(
            statement.method, statement.url, body=statement.body, headers=statement.headers, api_key=None
        )

    def deliver_sent(self) -> list[int]:
        """Deliver what the provider sent on its own meanwhile: each must be acknowledged."""
        answers = self.shop.deliver()
        assert all(status == 200 for status in answers), answers
        return answers


@pytest.fixture(params=PROVIDERS)
def party(
    request: pytest.FixtureRequest, stack: Stack, wire: responses.RequestsMock, link: ProviderLink, api: Api
) -> Party:
    name, variant = request.param
    kit = kit_of(name)
    return Party(kit, Shop(name, mount(kit, stack, wire, link, variant), api))


def one_byte_changed(body: bytes, position: int) -> bytes:
    """`body` with the byte at `position` replaced by another of its kind (digit, letter), so that
    the message still reads as well formed: only its signature can tell."""
    byte = body[position]
    if chr(byte).isdigit():
        other = ord("0") + (byte - ord("0") + 1) % 10
    elif chr(byte).islower():
        other = ord("a") + (byte - ord("a") + 1) % 26
    else:
        other = ord("A") + (byte - ord("A") + 1) % 26
    return body[:position] + bytes([other]) + body[position + 1 :]


def alphanumeric_positions(body: bytes) -> list[int]:
    return [index for index, byte in enumerate(body) if chr(byte).isascii() and chr(byte).isalnum()]


# -- registration --------------------------------------------------------------------------------------
def test_both_registries_name_the_same_providers() -> None:
    """Every adapter folder in the layer has a kit folder in local/, and the other way round."""
    assert provider_names() == sorted(kits())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_adapter_is_registered_under_the_kits_name_and_takes_its_secret_entry(
    provider: tuple[str, str],
) -> None:
    name, variant = provider
    kit = kit_of(name)
    adapter = provider_class(name)
    assert adapter.name == kit.name == name
    settings = adapter.settings_model.model_validate(kit.test_secret_entry(variant))
    assert isinstance(settings, adapter.settings_model)


@pytest.mark.parametrize("kit", kits().values(), ids=list(kits()))
def test_every_kit_can_say_paid(kit: Kit) -> None:
    """What the rest of the contract pays orders with; every payment provider has that word."""
    assert kit.outcomes["paid"][1] is OrderStatus.PAID


# -- create --------------------------------------------------------------------------------------------
def test_a_created_order_reaches_the_provider_once(party: Party) -> None:
    created = party.shop.create("ct-create")  # asserts 201
    assert (created["order_id"], created["provider"]) == ("ct-create", party.kit.name)
    assert party.kit.create_calls(party.sandbox, "ct-create") == 1
    assert party.kit.holds_order(party.sandbox, "ct-create")


# -- notifications -------------------------------------------------------------------------------------
def expected_status(created: OrderStatus, said: SignedNotification) -> OrderStatus:
    """What our order becomes when the provider says `said`: the status its notes give the word; but a
    word they do not define (unknown) is recorded for a person, never a move: unknown is only "we
    could not tell" at creation (payments.orders.ALLOWED_PREDECESSORS)."""
    return created if said.target is OrderStatus.UNKNOWN else said.target


def test_every_outcome_notified_moves_the_order_to_its_status_once(party: Party, stack: Stack) -> None:
    """Each outcome the provider's notes define, on a fresh order each (one stack: speed)."""
    for outcome in party.kit.outcomes:
        order_id = f"ct-{outcome}".replace("_", "-")
        party.shop.create(order_id)
        created, _ = history(stack.table_name, order_id)
        statement = party.kit.statement(party.sandbox, order_id, outcome)
        reply = party.deliver(statement)
        assert reply.status == 200, (outcome, reply.body)
        stored, events = history(stack.table_name, order_id)
        assert stored.status == expected_status(created.status, statement), outcome
        if statement.target is OrderStatus.UNKNOWN:
            assert events[-1].type == "notification_ignored", outcome
            assert events[-1].provider_status == statement.word, outcome
        else:
            assert stored.provider_status == statement.word, outcome
        assert party.shop.read(order_id)["status"] == stored.status.value, outcome

        again = party.deliver(statement)  # the provider's retry: acknowledged, moves nothing
        assert again.status == 200, (outcome, again.body)
        assert history(stack.table_name, order_id) == (stored, events), outcome


def test_a_notification_with_one_byte_changed_is_rejected_and_changes_nothing(
    party: Party, stack: Stack
) -> None:
    party.shop.create("ct-forged")
    genuine = party.kit.statement(party.sandbox, "ct-forged", "paid")
    before = history(stack.table_name, "ct-forged")
    rejected_before = len(rejected_items(stack.table_name, party.kit.name))
    positions = alphanumeric_positions(genuine.body)
    # Letters or digits spread over the body, wherever the signature is: a change anywhere in what
    # is signed, or in the signature, must tell. (Not the last one: a base64 signature's final
    # character before its padding carries bits the decoder drops, so changing it changes nothing.)
    tried = sorted({positions[len(positions) * quarter // 4] for quarter in range(4)})
    for position in tried:
        forged = SignedNotification(
            genuine.method,
            genuine.url,
            genuine.headers,
            one_byte_changed(genuine.body, position),
            genuine.word,
            genuine.target,
        )
        reply = party.deliver(forged)
        assert 400 <= reply.status < 500, (position, reply.status, reply.body)
        assert history(stack.table_name, "ct-forged") == before, position  # the order, its history
    assert len(rejected_items(stack.table_name, party.kit.name)) == rejected_before + len(tried)


# -- sync ----------------------------------------------------------------------------------------------
def test_a_sync_agrees_with_the_provider(party: Party, stack: Stack) -> None:
    """The provider's state after each outcome, never notified: a sync finds what a notification
    would have said."""
    for outcome in party.kit.outcomes:
        order_id = f"ct-sync-{outcome}".replace("_", "-")
        party.shop.create(order_id)
        created, _ = history(stack.table_name, order_id)
        at_provider = party.kit.statement(party.sandbox, order_id, outcome)  # the state moves; not sent
        reply = party.shop.sync(order_id)
        assert reply.status == 200, (outcome, reply.body)
        expected = expected_status(created.status, at_provider)
        assert reply.json()["status"] == expected.value, outcome
        assert history(stack.table_name, order_id)[0].status == expected, outcome


# -- refund and cancel ---------------------------------------------------------------------------------
def test_a_paid_order_refunds_in_full_and_ends_refunded(party: Party) -> None:
    party.shop.create("ct-refund")
    assert party.deliver(party.kit.statement(party.sandbox, "ct-refund", "paid")).status == 200
    assert party.shop.read("ct-refund")["status"] == "paid"
    reply = party.shop.refund("ct-refund", "r-1")  # no amount: everything refundable
    assert reply.status == 201, reply.body
    assert reply.json()["amount"] == {"value": 1000, "currency": "EUR"}
    party.deliver_sent()  # a provider that reports the result later does so now
    order = party.shop.read("ct-refund")
    assert order["status"] == "refunded"
    assert order["refunded_amount"] == {"value": 1000, "currency": "EUR"}
    assert [(r["refund_id"], r["status"]) for r in order["refunds"]] == [("r-1", "succeeded")]
    assert [r.amount for r in party.shop.provider_refunds("ct-refund")] == [1000]


def test_an_unpaid_order_cancels(party: Party) -> None:
    party.shop.create("ct-cancel")
    reply = party.shop.cancel("ct-cancel")
    assert reply.status == 200, reply.body
    assert reply.json()["status"] == "cancelled"
    party.deliver_sent()  # a provider may notify the cancel too: nothing changes
    assert party.shop.read("ct-cancel")["status"] == "cancelled"


# -- the adapter's record against the provider's side -------------------------------------------------
@pytest.mark.parametrize("kit", kits().values(), ids=list(kits()))
def test_an_adapter_that_expects_refund_events_has_a_provider_that_sends_them(kit: Kit) -> None:
    """The adapter's record says how refunds report; the sandbox's side (the kit's signer) either makes
    the provider's signed refund events or has none to make."""
    record = provider_class(kit.name).documented_capabilities
    by_event = type(kit).refund_statement is not ProviderKit.refund_statement  # it signs refund events
    assert (record.refunds_reported is RefundReporting.EVENT_PER_REFUND) == by_event
