"""Why a provider's notification was refused, in words a merchant can act on (the doctor's codes).

A refusal keeps its `reason` (what the provider's acknowledgement and our error body say, unchanged);
its `Diagnosis` is worked out afterwards, on the refusal path only, by the provider base
(payments/providers/base.py: `ProviderBase.diagnose`) or, for verified notifications about an order
we cannot apply them to, by the gate. A diagnosis never turns a refusal into an acceptance.
"""

from __future__ import annotations

from typing import Final

from payments.records import frozen

SIGNED_WITH_OTHER_HASH: Final = "signed_with_other_hash"
SIGNED_WITH_YOUR_KEY: Final = "signed_with_your_key"
BODY_ALTERED: Final = "body_altered"
PATH_MISMATCH: Final = "path_mismatch"
STALE_TIMESTAMP: Final = "stale_timestamp"
OTHER_ACCOUNT: Final = "other_account"
UNKNOWN_ORDER: Final = "unknown_order"
OTHER_PROVIDER: Final = "other_provider"
MALFORMED: Final = "malformed"
UNSIGNED: Final = "unsigned"
SIGNATURE_INVALID: Final = "signature_invalid"

CODES: Final = (
    SIGNED_WITH_OTHER_HASH,
    SIGNED_WITH_YOUR_KEY,
    BODY_ALTERED,
    PATH_MISMATCH,
    STALE_TIMESTAMP,
    OTHER_ACCOUNT,
    UNKNOWN_ORDER,
    OTHER_PROVIDER,
    MALFORMED,
    UNSIGNED,
    SIGNATURE_INVALID,
)

# A refusal's reason (the adapters' and the gate's words) -> its code before any candidate is tried.
# A reason not listed is a notification we could not read: `malformed`.
REASON_CODES: Final[dict[str, str]] = {
    "missing_signature": UNSIGNED,
    "bad_signature": SIGNATURE_INVALID,
    "stale_signature": STALE_TIMESTAMP,
    "future_signature": STALE_TIMESTAMP,
    "client_mismatch": OTHER_ACCOUNT,
    "merchant_mismatch": OTHER_ACCOUNT,
    "sign_type_mismatch": SIGNED_WITH_OTHER_HASH,
    "unknown_order": UNKNOWN_ORDER,
    "unknown_refund": UNKNOWN_ORDER,
}


@frozen
class Diagnosis:
    """Why a notification was refused: its code and the explanation with the fix."""

    code: str  # one of CODES
    explanation: str  # what happened and the fix; never a secret or a value of the notification's body

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "explanation": self.explanation}


def default_explanation(code: str, label: str, message: str) -> str:
    """The explanation of a code no candidate refined. `message`: the refusal's own (names a field)."""
    texts = {
        UNSIGNED: (
            f"the request carries no {label} signature: it is not from {label}, or something other than "
            f"{label} calls the notification URL"
        ),
        SIGNATURE_INVALID: (
            f"the signature verifies under no candidate (the configured key, the other hash, your own key, "
            f"known alterations of the body): a forgery, or the {label} key in your settings is not "
            f"{label}'s current one (run `make doctor`)"
        ),
        STALE_TIMESTAMP: f"{message}: check this server's clock and the provider's retries",
        OTHER_ACCOUNT: (
            f"{message}: a genuine {label} notification for another merchant account; check the account "
            f"or client id in your settings, or whether two shops share one notification URL"
        ),
        SIGNED_WITH_OTHER_HASH: (
            f"{message}: the sign type in your settings differs from the one {label} uses for your account"
        ),
        UNKNOWN_ORDER: (
            f"verified, but about no order we hold for {label}: an order made by another system or "
            f"environment with the same credentials, or an order id of another shop"
        ),
        OTHER_PROVIDER: f"verified, but the order was made with another provider, not {label}",
    }
    return texts.get(code, f"{label} notification unreadable: {message}")
