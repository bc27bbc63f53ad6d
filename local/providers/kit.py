"""What every provider folder under local/providers offers the rest of the project: a `ProviderKit`.

A kit is everything about one provider that is not the adapter (the adapter is the layer's
`payments.providers.<name>.adapter`): its sandbox and checkout page, fresh credentials and the secret
entry that points the adapter at a sandbox, its status words, its signer for test notifications,
and the questions the generic tests ask about the provider's side. What the provider's protocol does
and what it is called are its adapter's `documented_capabilities` and `label`, written once there: the
kit reads them (`capabilities`, `display_name`). The local stack, the sample-event generator, the
reliability harness and the contract suite reach a provider only through its kit
(docs/adding-a-provider.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from payments.orders import OrderStatus
from payments.providers import provider_class
from payments.providers.capabilities import Capabilities

if TYPE_CHECKING:
    from local.checkout import Checkout


@dataclass(frozen=True, slots=True)
class SignedNotification:
    """A genuine notification the provider would send, and what its documentation says it means."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    word: str  # the provider's status word as our order records it (`provider_status`)
    target: OrderStatus  # the unified status the word means
    refund_key: str | None = None  # refunds reported by their own event: recorded once per key


class ProviderKit[Credentials, Sandbox](ABC):
    """One provider's kit. Subclasses set the class attributes and fill in the methods."""

    name: ClassVar[str]  # the provider's name in our API and its folders' name
    variants: ClassVar[tuple[str, ...]] = ("",)  # configurations tested separately (a sign type)
    # Where the adapter calls in tests (requests are answered by the sandbox, never the internet):
    test_base_url: ClassVar[str]
    api_path_pattern: ClassVar[str]  # regex of the API's paths under a base URL
    api_methods: ClassVar[tuple[str, ...]] = ("POST",)
    # Independent of the adapter's tables: what each of the provider's words means, from its notes.
    # outcome name -> (the provider's word, the unified status).
    outcomes: ClassVar[Mapping[str, tuple[str, OrderStatus]]]

    # -- what the adapter states of the provider (its one statement) -------------------------------
    @property
    def capabilities(self) -> Capabilities:
        """What the provider takes and how its protocol behaves: the adapter's documented record,
        where the generic tests read whether it has a cancel call, how it reports refunds, etc."""
        return provider_class(self.name).documented_capabilities

    @property
    def display_name(self) -> str:
        """For people, as the provider calls itself: the adapter's `label`."""
        return provider_class(self.name).label

    # -- how the demo shop names it to a customer (local/shop.py) ---------------------------------
    @property
    def shop_label(self) -> str:
        """The provider among the storefront's "Pay with" choices and in its list of orders."""
        return self.display_name

    @property
    def payment_method(self) -> str:
        """The payment, on an order's page."""
        return f"Alipay via {self.display_name}"

    # -- credentials, sandbox, secret --------------------------------------------------------------
    @abstractmethod
    def new_credentials(self, variant: str = "") -> Credentials:
        """Fresh credentials (random keys): nothing here is ever a real credential."""

    @abstractmethod
    def new_sandbox(self, credentials: Credentials) -> Sandbox:
        """A sandbox that knows `credentials`."""

    @abstractmethod
    def secret_entry(self, credentials: Credentials, base_url: str) -> dict[str, Any]:
        """This provider's entry in the provider-credentials secret, pointing at `base_url` (the
        sandbox's root URL)."""

    @abstractmethod
    def secret_texts(self, credentials: Credentials) -> list[str]:
        """Every secret in `credentials` as text, in the forms it could leak in (the leak guard)."""

    @abstractmethod
    def checkout(self, sandbox: Sandbox) -> Checkout[Any]:
        """The sandbox's hosted checkout page."""

    @abstractmethod
    def serve_pages_at(self, sandbox: Sandbox, base_url: str) -> None:
        """Make the sandbox hand out payment-page URLs on the server at `base_url`."""

    def test_credentials(self, variant: str = "") -> Credentials:
        """The test run's credentials for `variant` (the first by default): fresh per run, the same
        throughout it."""
        credentials: Credentials = _test_credentials(self, variant or self.variants[0])
        return credentials

    def test_secret_entry(self, variant: str = "") -> dict[str, Any]:
        return self.secret_entry(self.test_credentials(variant), self.test_base_url)

    # -- the provider's side, as the generic tests ask about it -----------------------------------
    @abstractmethod
    def statement(self, sandbox: Sandbox, order_id: str, outcome: str) -> SignedNotification:
        """The genuine, signed notification saying that the order is now `outcome` (a key of
        `outcomes`); the sandbox's state moves with it."""

    def refund_statement(
        self, sandbox: Sandbox, order_id: str, refund_id: str, amount: int, *, pending: bool = False
    ) -> SignedNotification | None:
        """A provider that reports each refund by its own signed event: that event. None otherwise."""
        return None

    @abstractmethod
    def create_calls(self, sandbox: Sandbox, order_id: str) -> int:
        """Create requests for `order_id` that reached the provider (accepted or not)."""

    @abstractmethod
    def holds_order(self, sandbox: Sandbox, order_id: str) -> bool:
        """Whether the provider holds a payment for `order_id`."""

    @abstractmethod
    def restate_amount(self, sandbox: Sandbox, order_id: str, value: int) -> None:
        """The provider now holds `order_id` paid (silently), at `value` minor units."""

    @abstractmethod
    def open_order(
        self, sandbox: Sandbox, order_id: str, *, notify_url: str, return_url: str, description: str
    ) -> str:
        """An unpaid order of 12.50 EUR at the provider, as the provider's create leaves it, without
        a create call (none is recorded); its payment page URL. Notifications go to `notify_url`, the
        payer back to `return_url`."""

    # -- the sample events (events/<name>/, written by `make events`: events/README.md) -----------
    sample_order_id: ClassVar[str]  # the order the provider's sample events create, pay and act on
    notification_source_ip: ClassVar[str] = "203.0.113.10"  # where the provider's notifications come from

    # -- what `make bench` expects of it (bench/) -------------------------------------------------
    # Our CPU per first notification, p50, by variant. 2 ms for every one since the table's wire
    # (payments/store/wire.py; it was 5 where RSA verifies or signs). A variant without one gets none.
    notify_cpu_target_ms: ClassVar[Mapping[str, float]] = {}
    # The provider calls a cancel makes (the bench's target): its cancel call, and a status query first
    # where the provider's cancel would do more than withdraw an unpaid payment.
    cancel_provider_calls: ClassVar[int] = 1

    # -- the doctor's knobs: notifications broken the ways integrations break them ------------------
    def broken_kinds(self, sandbox: Sandbox) -> Mapping[str, str]:
        """Each kind of broken notification this provider's scheme allows, and the refusal code it must
        get (payments/refusals.py). Every kind is made with the run's real keys."""
        return {}

    def broken(
        self, credentials: Credentials, sandbox: Sandbox, order_id: str, kind: str
    ) -> SignedNotification:
        """A paid notification of `order_id`, broken as `kind` says (a key of `broken_kinds`)."""
        raise NotImplementedError(f"{self.name}: no broken notifications")

    def breaker(self, credentials: Credentials, sandbox: Sandbox) -> Callable[[str, str], SignedNotification]:
        """`broken` for this sandbox and its credentials, as the sandbox server's knob calls it;
        ValueError for a kind this provider's scheme does not have."""

        def broken(order_id: str, kind: str) -> SignedNotification:
            if kind not in self.broken_kinds(sandbox):
                raise ValueError(kind)
            return self.broken(credentials, sandbox, order_id, kind)

        return broken

    def misconfigurations(self, credentials: Credentials) -> Mapping[str, tuple[str, str]]:
        """Mistakes a merchant makes in this provider's settings: mistake -> (the doctor's check that
        catches it, its status)."""
        return {}

    def misconfigured_entry(self, credentials: Credentials, base_url: str, mistake: str) -> dict[str, Any]:
        """The secret entry of `credentials` with `mistake` (a key of `misconfigurations`) made."""
        raise NotImplementedError(f"{self.name}: no misconfigurations")

    def sample_credentials(self) -> Credentials:
        """Fixed, published, non-secret credentials the sample notifications are signed with (listed in
        events/<name>/sample_secret_entry.json): a stack whose secret holds them accepts the samples."""
        raise NotImplementedError(f"{self.name}: no sample credentials (events/README.md)")

    def sample_notifications(self, sandbox: Sandbox, order_id: str) -> list[SignedNotification]:
        """What the provider sends when the sample order is paid: one event per request method."""
        return [self.statement(sandbox, order_id, "paid")]


@cache
def _test_credentials(kit: ProviderKit[Any, Any], variant: str) -> Any:
    return kit.new_credentials(variant)


# -- key material helpers the kits share -----------------------------------------------------------
@cache
def stranger_key() -> rsa.RSAPrivateKey:
    """A key pair that is nobody's in the run: signs what only a forger could."""
    return new_rsa_key()


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey, layout: str = "pkcs8") -> str:
    fmt = (
        serialization.PrivateFormat.PKCS8
        if layout == "pkcs8"
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def public_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def pem_body(pem: str) -> str:
    """A PEM's base64 body on one line (how some providers hand keys out)."""
    return "".join(line for line in pem.splitlines() if not line.startswith("-----"))


def key_fragments(pem: str) -> list[str]:
    """Slices of a private key's base64 body: any of them in a log line means key material leaked."""
    body = pem_body(pem)
    return [body[start : start + 24] for start in range(64, len(body) - 24, 200)]
