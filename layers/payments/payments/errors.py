"""Errors that reach a caller: each carries its HTTP status and a machine-readable code.

Messages name fields, never their values: a value may be a secret or a customer's personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from payments.refusals import Diagnosis


class ConcurrentUpdateError(Exception):
    """A conditional write found the item changed since it was read: someone else wrote first.
    Internal: the engine reads again and decides afresh; it never reaches a caller."""


class PaymentsError(Exception):
    status: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        details: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        if code is not None:
            self.code = code

    def to_body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.details:
            error["details"] = self.details
        return {"error": error}


class MalformedRequest(PaymentsError):
    status = 400
    code = "malformed_request"


# The largest request body the API takes, on every route: a merchant request is a few kB, and a
# provider notification tens. Far below Lambda's 6 MB event (bodies are base64-encoded in it) and API
# Gateway's 10 MB, so that every larger body gets this answer, in every mode (docs/api.md: Errors).
MAX_REQUEST_BODY_BYTES = 1024 * 1024


class RequestTooLarge(PaymentsError):
    status = 413
    code = "request_too_large"

    def __init__(self) -> None:
        super().__init__(f"the request body is over {MAX_REQUEST_BODY_BYTES} bytes")


class ValidationFailed(PaymentsError):
    status = 422
    code = "validation_failed"


class ProviderNotConfigured(ValidationFailed):
    code = "provider_not_configured"


class NotFound(PaymentsError):
    status = 404
    code = "not_found"


class Conflict(PaymentsError):
    status = 409
    code = "conflict"


class ProviderError(PaymentsError):
    """The provider did not give a usable answer: it may have acted (but see ProviderRejected)."""

    status = 502
    code = "provider_error"


class ProviderRejected(ProviderError):
    """The provider answered and refused: nothing was created on its side."""

    code = "provider_rejected"

    def __init__(self, message: str, *, provider_code: str, provider_message: str) -> None:
        super().__init__(message)
        self.provider_code = provider_code
        self.provider_message = provider_message

    def to_body(self) -> dict[str, Any]:
        body = super().to_body()
        body["error"]["provider_code"] = self.provider_code
        body["error"]["provider_message"] = self.provider_message
        return body


class ProviderUnavailable(ProviderError):
    """Connection failed, 5xx, or a reply we could not read or trust: the outcome is unknown."""

    code = "provider_unavailable"


class ProviderDuplicateOrder(ProviderError):
    """The provider already holds an order with this id (an earlier attempt of ours may have gone
    through): ask the provider about it; never fail the order on this alone."""

    code = "provider_duplicate_order"


class PaymentActionUnavailable(PaymentsError):
    """The provider holds the order, unpaid, but gave no way to send the payer to it again."""

    status = 409
    code = "payment_action_unavailable"


class ProviderTimeout(ProviderError):
    status = 504
    code = "provider_timeout"


class StoreUnavailable(PaymentsError):
    status = 503
    code = "store_unavailable"


class ConfigurationError(PaymentsError):
    """The deployment is wrong (e.g. the provider secret does not match its schema)."""

    status = 500
    code = "configuration_error"


class NotificationRejected(PaymentsError):
    """A notification we will not apply: unverified, malformed, or for an order we do not hold.

    `claimed_order_id` is what the sender said, unverified, kept only to file the attempt.
    """

    status = 401
    code = "notification_rejected"

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        status: int = 401,
        claimed_order_id: str | None = None,
        reply_context: Mapping[str, str] | None = None,
        diagnosis: Diagnosis | None = None,
    ) -> None:
        super().__init__(message, code=reason)
        self.status = status
        self.claimed_order_id = claimed_order_id
        # Why, for the merchant (payments/refusals.py), when the refuser already knows; never sent back.
        self.diagnosis = diagnosis
        # What the provider's error acknowledgement must echo (e.g. the id of the message it answers),
        # if known.
        self.reply_context: Mapping[str, str] = reply_context or {}

    @property
    def reason(self) -> str:
        return self.code
