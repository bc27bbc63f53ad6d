"""The candidates that explain a notification that failed verification (`ProviderBase.diagnose`).

Nothing here accepts anything: each candidate answers only "would the signature hold if the mistake
were this one?", on a notification already refused. Slow path only: nothing here runs for a genuine
notification.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from payments.records import frozen
from payments.refusals import BODY_ALTERED, SIGNED_WITH_OTHER_HASH, SIGNED_WITH_YOUR_KEY
from payments.signing import rsa_verify

MAX_DIAGNOSED_BODY = 64 * 1024  # larger bodies are not re-read in other forms (no provider sends them)
_BOM = b"\xef\xbb\xbf"
OTHER_HASH = {"SHA256": "SHA1", "SHA1": "SHA256"}


@frozen
class Candidate:
    """One explanation, and the check that proves it (run only when the ones before it failed)."""

    code: str
    explanation: str
    holds: Callable[[], bool]


def rsa_candidates(
    label: str,
    signed: bytes,
    signature: str,
    *,
    provider_key: Any,
    hash_name: str,
    own_private_key: Any | None,
    fix: str,
) -> Iterator[Candidate]:
    """The RSA mistakes: the provider's key under the other hash; the public half of the merchant's own
    key (pasted as the provider's, or a tool that signed with it), under either hash."""
    other = OTHER_HASH[hash_name]
    yield Candidate(
        SIGNED_WITH_OTHER_HASH,
        f"the signature verifies with {label}'s key under {other}withRSA, not {hash_name}withRSA as "
        f"configured: {fix}",
        lambda: rsa_verify(provider_key, signed, signature, other),
    )
    if own_private_key is None:
        return
    own_public = own_private_key.public_key()
    for name in (hash_name, other):
        yield Candidate(
            SIGNED_WITH_YOUR_KEY,
            f"the signature verifies with the public half of YOUR private key ({name}withRSA): either "
            f"the {label} public key in your settings is your own (paste {label}'s), or a tool signed "
            "this notification with your key",
            lambda name=name: rsa_verify(own_public, signed, signature, name),  # type: ignore[misc]
        )


def body_alterations(body: bytes, content_type: str | None) -> Iterator[tuple[bytes, str]]:
    """Bodies the provider may have sent, given the one that arrived, each with what changed it on the
    way: a BOM or whitespace added, JSON re-serialised, `+` decoded as a space, form values encoded twice."""
    if not body or len(body) > MAX_DIAGNOSED_BODY:
        return
    seen = {body}

    def new(candidate: bytes) -> bool:
        if candidate in seen:
            return False
        seen.add(candidate)
        return True

    stripped = body.removeprefix(_BOM).strip()
    if new(stripped):
        yield stripped, "a byte-order mark or whitespace added around the body"
    for ending in (b"\n", b"\r\n"):
        if new(stripped + ending):
            yield stripped + ending, "the body's final line break removed"
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded" or (kind != "application/json" and b"=" in body):
        yield from _form_alterations(stripped, new)
    try:
        parsed = json.loads(stripped)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return
    for separators, ascii_only, indent in (
        ((",", ":"), False, None),
        ((",", ":"), True, None),
        ((", ", ": "), False, None),
        ((",", ": "), False, 2),
        ((",", ": "), False, 3),  # how one provider's own SDK writes its bodies
    ):
        text = json.dumps(parsed, separators=separators, ensure_ascii=ascii_only, indent=indent).encode()
        if new(text):
            yield text, "the JSON body re-serialised (spacing, indentation or escaping changed)"


def _form_alterations(body: bytes, new: Callable[[bytes], bool]) -> Iterator[tuple[bytes, str]]:
    if b"+" in body:
        # A '+' the sender meant literally arrives, unescaped, as a space once the form is decoded: in
        # every field, or in one (the others' '+' being real spaces).
        pairs = body.split(b"&")
        for index in [None, *range(len(pairs))]:
            escaped = b"&".join(
                pair.replace(b"+", b"%2B") if index in (None, at) else pair for at, pair in enumerate(pairs)
            )
            if new(escaped):
                yield escaped, "a literal '+' decoded to a space (the form value was not escaped)"
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return
    twice = urlencode([(name, unquote(value)) for name, value in fields]).encode()
    if new(twice):
        yield twice, "form values encoded twice on the way (they still hold %XX escapes once decoded)"


def altered_body(what: str) -> tuple[str, str]:
    """(code, explanation) of a body that verifies once `what` is undone."""
    return (
        BODY_ALTERED,
        f"the signature verifies once this is undone: {what}. Something between the provider and the "
        "function (a proxy, a WAF rule, a framework's body parser) changes the body: pass it through "
        "byte for byte",
    )
