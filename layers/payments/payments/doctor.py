"""GET /diagnostics and `make doctor`: each configured provider's settings checked, and checked against
the provider itself, as a list of `{check, status, message}` (with the fix where one is known).

What is checked is written once here; what differs per provider comes from its adapter's hooks
(`ProviderBase.key_pair`, `signing`, `environment`, `signed_notify_path`): keys parse, their sizes, and
the provider's key is not the public half of yours; the signing scheme; sandbox or live; one harmless
signed status query of an order id that cannot exist (the provider's answer named); the clock against
the provider's reply; the notification URL; the last accepted and refused notification.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from payments.clock import iso
from payments.errors import PaymentsError
from payments.http import HttpClient, HttpResponse
from payments.money import Money
from payments.orders import Order, OrderStatus
from payments.providers import provider_class, provider_names
from payments.providers.base import Provider
from payments.records import frozen
from payments.store.notification_marks import NotificationMarks
from payments.store.rejected import RejectedNotifications

OK, WARN, FAIL = "ok", "warn", "fail"
SKEW_WARN_S = 30  # half the strictest tolerance of a signed timestamp we know (a minute into the future)
SKEW_FAIL_S = 300


@frozen
class Check:
    """One line of the doctor's report: what was checked, ok / warn / fail, and the fix."""

    check: str
    status: str  # OK, WARN or FAIL
    message: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        found = {"check": self.check, "status": self.status, "message": self.message}
        if self.fix:
            found["fix"] = self.fix
        return found


@dataclass
class RecordingHttp(HttpClient):
    """The adapter's HTTP client, keeping the last reply (its time, for the clock check)."""

    inner: HttpClient
    replies: list[HttpResponse] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> HttpResponse:
        reply = self.inner.request(method, url, **kwargs)
        self.replies.append(reply)
        return reply


@frozen
class Seen:
    """The last notification of a provider we accepted, and the last we refused (with its code)."""

    accepted_at: str | None = None
    refused_at: str | None = None
    refused_code: str | None = None


def report(
    entries: Mapping[str, Any],
    *,
    http: HttpClient,
    notify_base_url: str,
    now: datetime,
    seen: Callable[[str], Seen] | None = None,
) -> dict[str, list[dict[str, str]]]:
    """{provider: its checks} for every provider with an entry in the credentials secret."""
    return {
        name: [
            check.to_dict()
            for check in provider_checks(name, entries[name], http, notify_base_url, now, seen)
        ]
        for name in provider_names()
        if name in entries
    }


def provider_checks(
    name: str,
    entry: Any,
    http: HttpClient,
    notify_base_url: str,
    now: datetime,
    seen: Callable[[str], Seen] | None,
) -> list[Check]:
    from pydantic import ValidationError

    from payments.providers.directory import describe_validation_error

    factory = provider_class(name)
    try:
        settings = factory.settings_model.model_validate(entry)
    except ValidationError as exc:
        return [
            Check(
                "settings",
                FAIL,
                describe_validation_error(name, exc),
                "fix the provider's entry in the credentials secret",
            )
        ]
    recorder = RecordingHttp(http)
    provider = factory(settings, recorder)
    checks = [Check("settings", OK, "the entry in the credentials secret is valid"), *key_checks(provider)]
    checks.append(Check("signing", *provider.signing()))
    checks.append(Check("environment", *provider.environment()))
    checks += credential_checks(provider, recorder, now)
    checks.append(notify_url_check(provider, f"{notify_base_url}/notify/{name}"))
    if seen is not None:
        checks += seen_checks(provider, seen(name))
    return checks


def key_checks(provider: Provider) -> list[Check]:
    own, theirs = provider.key_pair()
    if own is None and theirs is None:
        return [Check("keys", OK, f"{provider.label} signs with a shared secret: present")]
    checks = []
    own_bits, their_bits = (key.key_size if key is not None else "-" for key in (own, theirs))
    sizes = f"your key {own_bits} bits, {provider.label}'s {their_bits}"
    small = [key for key in (own, theirs) if key is not None and key.key_size < 2048]
    checks.append(
        Check("keys", FAIL, f"{sizes}: under 2048 bits", "ask for 2048-bit keys")
        if small
        else Check("keys", OK, f"both parse as RSA keys: {sizes}")
    )
    if (
        own is not None
        and theirs is not None
        and own.public_key().public_numbers() == theirs.public_numbers()
    ):
        checks.append(
            Check(
                "provider_key",
                FAIL,
                f"the {provider.label} public key in your settings is the public half of your own private "
                "key: nothing the provider signs can verify",
                f"paste {provider.label}'s public key (from its console), not yours",
            )
        )
    elif theirs is not None:
        checks.append(Check("provider_key", OK, f"{provider.label}'s public key is not yours"))
    return checks


def probe_order(name: str, now: datetime) -> Order:
    """An order id no shop has: what a harmless status query asks about."""
    moment = iso(now)
    return Order(
        f"doctor-probe-{secrets.token_hex(6)}",
        name,
        OrderStatus.PENDING,
        Money(100, "EUR"),
        "doctor probe",
        None,
        None,
        "redirect",
        "WEB",
        "-",
        moment,
        moment,
        iso(now + timedelta(minutes=10)),
    )


def credential_checks(provider: Provider, recorder: RecordingHttp, now: datetime) -> list[Check]:
    try:
        answer = provider.query(probe_order(provider.name, now))
    except PaymentsError as error:
        bad_signature = error.code == "provider_bad_signature"
        fix = (
            f"the {provider.label} public key in your settings does not verify its replies: "
            "paste its current key"
            if bad_signature
            else f"check the credentials and the base URL in your settings against {provider.label}'s console"
        )
        checks = [Check("credentials", FAIL, f"a signed status query was refused: {error.message}", fix)]
    else:
        said = "does not know it" if answer is None else "answered it"
        checks = [
            Check(
                "credentials",
                OK,
                "a signed status query of an order id that cannot exist was accepted "
                f"({provider.label} {said})",
            )
        ]
    checks.append(clock_check(provider, recorder, now))
    return checks


def clock_check(provider: Provider, recorder: RecordingHttp, now: datetime) -> Check:
    their_time = None
    for reply in reversed(recorder.replies):
        their_time = provider.reply_time(reply) or _date_header(reply)
        if their_time is not None:
            break
    if their_time is None:
        return Check("clock", WARN, f"{provider.label}'s reply carried no time to compare with")
    skew = round((now - their_time).total_seconds())
    message = f"this clock is {abs(skew)} s {'ahead of' if skew > 0 else 'behind'} {provider.label}'s"
    if abs(skew) >= SKEW_FAIL_S:
        return Check("clock", FAIL, message, "synchronise this machine's clock (NTP)")
    if abs(skew) >= SKEW_WARN_S:
        return Check("clock", WARN, message, "synchronise this machine's clock (NTP)")
    return Check("clock", OK, message)


def _date_header(reply: HttpResponse) -> datetime | None:
    headers = {name.lower(): value for name, value in reply.headers.items()}
    try:
        return parsedate_to_datetime(headers["date"]) if "date" in headers else None
    except (TypeError, ValueError):
        return None


def notify_url_check(provider: Provider, url: str) -> Check:
    signed = provider.signed_notify_path(url)
    told = f"{provider.label} is given {url}" + (f"; it signs the path `{signed}`" if signed else "")
    loopback = url.startswith(("http://127.0.0.1", "http://localhost"))
    if not url.startswith("https://") and not loopback:
        return Check("notification_url", FAIL, told, "serve the API over https (PublicBaseUrl)")
    return Check("notification_url", OK, told + (" (this machine only)" if loopback else ""))


def seen_checks(provider: Provider, seen: Seen) -> list[Check]:
    accepted = (
        Check("last_accepted", OK, f"the last notification accepted arrived at {seen.accepted_at}")
        if seen.accepted_at
        else Check("last_accepted", WARN, f"no {provider.label} notification accepted recently")
    )
    if not seen.refused_at:
        return [accepted, Check("last_refused", OK, "no notification refused in the last 7 days")]
    refused_after = seen.accepted_at is None or seen.refused_at > seen.accepted_at
    return [
        accepted,
        Check(
            "last_refused",
            WARN if refused_after else OK,
            f"the last notification refused arrived at {seen.refused_at}: {seen.refused_code}",
            "GET /notifications/rejected says why, with the fix; then replay it" if refused_after else "",
        ),
    ]


def stored_seen(
    rejected: RejectedNotifications, marks: NotificationMarks, now: datetime
) -> Callable[[str], Seen]:
    """What the table says of a provider's last accepted and refused notifications."""

    def seen(name: str) -> Seen:
        newest = rejected.newest([name], now, after=None, limit=1)
        refused = newest[0] if newest else None
        return Seen(
            marks.last_accepted(name),
            refused.at if refused else None,
            refused.code if refused else None,
        )

    return seen
