"""The merchant API's request model and its translation of validation errors into our error shape."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from payments.errors import ValidationFailed
from payments.money import CURRENCY_EXPONENTS
from payments.orders import ORDER_ID_PATTERN, Wallet
from payments.provider_names import provider_names
from payments.request_body import json_object, parse_empty_body

__all__ = [
    "CreateOrderRequest",
    "RefundRequest",
    "parse_create_order",
    "parse_empty_body",
    "parse_refund_request",
]

MAX_JSON_SAFE_INT = 2**53 - 1  # beyond this, JavaScript clients silently round amounts
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Text = Annotated[StrictStr, Field(min_length=1, max_length=200)]


def _plain_text(value: str) -> str:
    if "<" in value or ">" in value:
        raise PydanticCustomError("html_not_allowed", "must be plain text: '<' and '>' are not allowed")
    if _CONTROL_CHARS.search(value):
        raise PydanticCustomError("control_characters", "must not contain control characters")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class AmountIn(_Model):
    value: Annotated[StrictInt, Field(gt=0, le=MAX_JSON_SAFE_INT)]
    currency: StrictStr

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str) -> str:
        if value not in CURRENCY_EXPONENTS:
            raise PydanticCustomError(
                "unknown_currency", "must be an ISO 4217 currency code in upper case, e.g. EUR"
            )
        return value


class CustomerIn(_Model):
    first_name: Text | None = None
    last_name: Text | None = None
    email: Annotated[StrictStr, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone: Annotated[StrictStr, Field(max_length=32, pattern=r"^\+?[0-9 ()-]{4,32}$")] | None = None
    ip_address: StrictStr | None = None
    locale: Annotated[StrictStr, Field(pattern=r"^[a-z]{2}_[A-Z]{2}$")] | None = None
    country: Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}$")] | None = None
    address1: Text | None = None
    address2: Text | None = None
    house_number: Annotated[StrictStr, Field(min_length=1, max_length=20)] | None = None
    zip_code: Annotated[StrictStr, Field(min_length=1, max_length=20)] | None = None
    city: Text | None = None
    state: Text | None = None

    @field_validator("first_name", "last_name", "address1", "address2", "city", "state")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else _plain_text(value)

    @field_validator("ip_address")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise PydanticCustomError("invalid_ip_address", "must be an IPv4 or IPv6 address") from None


class ItemIn(_Model):
    name: Text
    description: Annotated[StrictStr, Field(max_length=500)] | None = None
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]
    unit_price: Annotated[StrictInt, Field(ge=0, le=MAX_JSON_SAFE_INT)]

    @field_validator("name", "description")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else _plain_text(value)


class CreateOrderRequest(_Model):
    order_id: Annotated[StrictStr, Field(pattern=ORDER_ID_PATTERN)]
    provider: Annotated[StrictStr, Field(min_length=1, max_length=40)]
    wallet: Wallet | None = None  # None: the provider's default (its capabilities' default_wallet)
    amount: AmountIn
    description: Text
    # Asked for where the provider sends the payer there (its capabilities' payer_urls).
    return_url: StrictStr | None = None
    cancel_url: StrictStr | None = None
    flow: Literal["redirect", "direct"] = "redirect"
    terminal_type: Literal["WEB", "WAP", "APP"] = "WEB"
    os_type: Literal["IOS", "ANDROID"] | None = None  # the payer's device, for WAP payments
    customer: CustomerIn | None = None
    items: Annotated[list[ItemIn], Field(max_length=100)] | None = None
    expires_in_seconds: Annotated[StrictInt, Field(ge=60, le=7 * 24 * 3600)] | None = None
    metadata: (
        Annotated[dict[StrictStr, Annotated[StrictStr, Field(max_length=500)]], Field(max_length=20)] | None
    ) = None

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value not in provider_names():
            raise PydanticCustomError("unknown_provider", "must be one of: " + ", ".join(provider_names()))
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return _plain_text(value)

    @field_validator("return_url", "cancel_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) > 2000:
            raise PydanticCustomError("invalid_url", "must be at most 2000 characters")
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            raise PydanticCustomError("invalid_url", "must be an absolute https URL") from None
        if not host or _CONTROL_CHARS.search(value) or " " in value:
            raise PydanticCustomError("invalid_url", "must be an absolute https URL")
        if parts.scheme == "https" or (parts.scheme == "http" and host in LOCAL_HOSTS):
            return value
        raise PydanticCustomError("invalid_url", "must use https (http is allowed only for localhost)")

    @field_validator("metadata")
    @classmethod
    def _metadata_keys(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,40}", key):
                raise PydanticCustomError(
                    "invalid_metadata_key", "keys must be 1-40 characters of letters, digits and _.:-"
                )
        return value

    @model_validator(mode="after")
    def _items_add_up(self) -> CreateOrderRequest:
        # A cart that does not add up to the charge is a merchant bug worth stopping at the door.
        if self.items:
            total = sum(item.quantity * item.unit_price for item in self.items)
            if total != self.amount.value:
                raise PydanticCustomError(
                    "items_total_mismatch",
                    "the sum of quantity x unit_price over all items must equal amount.value",
                )
        return self

    def fingerprint(self) -> str:
        """Identity of the request's meaning, for idempotent retries (defaults filled in)."""
        meaning = self.model_dump(mode="json")
        if meaning["wallet"] is None:
            del meaning["wallet"]  # as before the field existed: the retries of those orders still match
        canonical = json.dumps(meaning, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


# pydantic error types -> our codes; anything under `amount.value` is an invalid amount.
_ERROR_CODES = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
}
# Raised by our own validators (PydanticCustomError): their messages are ours already.
_CUSTOM_CODES = frozenset(
    {
        "html_not_allowed",
        "control_characters",
        "items_total_mismatch",
        "unknown_currency",
        "unknown_provider",
        "invalid_ip_address",
        "invalid_url",
        "invalid_metadata_key",
    }
)
# pydantic's error types our models can raise, in our words (`{…}`: the error's context).
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "string_too_short": "must be at least {min_length} character(s) long",
    "string_too_long": "must be at most {max_length} characters long",
    "too_short": "must have at least {min_length} item(s)",
    "too_long": "must have at most {max_length} items",
    "literal_error": "must be {expected}",
    "string_pattern_mismatch": "is not in the expected form",
}
# What a pattern asks for, by the field's name (the last part of its path).
_PATTERN_MESSAGES = {
    "order_id": "must be 1-50 characters of A-Z a-z 0-9 . _ -",
    "refund_id": "must be 1-50 characters of A-Z a-z 0-9 . _ -",
    "email": "must be an email address, e.g. mei@example.com",
    "phone": "must be a phone number: 4-32 digits, spaces, ( ) or -, with an optional leading +",
    "locale": "must be a locale such as zh_CN",
    "country": "must be an ISO 3166 country code in upper case, e.g. CN",
}


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _message(error: Any) -> str:
    """One of pydantic's errors in the project's words (never pydantic's own text)."""
    error_type = error["type"]
    if error_type in _CUSTOM_CODES:
        return str(error["msg"])
    loc = tuple(error["loc"])
    if error_type == "string_pattern_mismatch" and loc and str(loc[-1]) in _PATTERN_MESSAGES:
        return _PATTERN_MESSAGES[str(loc[-1])]
    template = _MESSAGES.get(error_type, "is not valid")
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        return template.format(**context)
    except KeyError:  # a context this version of pydantic does not give: the words without it
        return _MESSAGES["string_pattern_mismatch"] if "{" in template else template


def validation_failure(error: ValidationError) -> ValidationFailed:
    details = error.errors(include_input=False, include_url=False)
    # An unknown provider first: what else is wrong depends on which provider was meant.
    details.sort(key=lambda detail: tuple(detail["loc"])[:1] != ("provider",))
    first = details[0]
    loc = tuple(first["loc"])
    error_type = first["type"]
    if loc[:2] == ("amount", "value"):
        code = "invalid_amount"
    elif error_type in _ERROR_CODES:
        code = _ERROR_CODES[error_type]
    elif error_type in _CUSTOM_CODES:
        code = error_type
    else:
        code = "invalid_field"
    field = _field_path(loc) or ("items" if error_type == "items_total_mismatch" else "")
    return ValidationFailed(
        f"{field}: {_message(first)}",
        field=field,
        code=code,
        details=[{"field": _field_path(tuple(d["loc"])), "message": _message(d)} for d in details],
    )


class RefundRequest(_Model):
    """POST /orders/{order_id}/refunds. `amount` defaults to everything still refundable."""

    refund_id: Annotated[StrictStr, Field(pattern=ORDER_ID_PATTERN)]
    amount: AmountIn | None = None
    reason: Text | None = None

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        return None if value is None else _plain_text(value)

    def fingerprint(self) -> str:
        """Identity of the request as sent (an omitted amount stays omitted), for idempotent retries."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def parse_create_order(body: str | bytes | None) -> CreateOrderRequest:
    return _parse(CreateOrderRequest, body)


def parse_refund_request(body: str | bytes | None) -> RefundRequest:
    return _parse(RefundRequest, body)


def _parse[M: _Model](model: type[M], body: str | bytes | None) -> M:
    parsed = json_object(body)
    try:
        return model.model_validate(parsed)
    except ValidationError as exc:
        raise validation_failure(exc) from None
