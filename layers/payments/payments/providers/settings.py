"""The base of every adapter's settings: its entry in the provider-credentials secret, validated by
pydantic. Apart from payments/providers/base.py so that pydantic loads with the first adapter a
function builds (at its first request, with the secret), not at every function's init."""

from __future__ import annotations

from pydantic import BaseModel, field_validator


class ProviderSettings(BaseModel, frozen=True, extra="forbid"):
    """Each adapter's entry in the provider-credentials secret."""

    base_url: str

    @field_validator("base_url")
    @classmethod
    def _https_or_loopback(cls, value: str) -> str:
        # Credentials travel to this URL: TLS, except for a sandbox on this machine.
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https URL")
        return value
