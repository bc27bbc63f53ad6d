"""The provider directory: each configured adapter, built from its settings in the credentials secret
(payments/secret_values.py: read with botocore, cached 5 minutes), validated per provider, never
logged or returned."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from payments import secret_values
from payments.errors import ConfigurationError, ProviderNotConfigured
from payments.http import HttpClient, default_http
from payments.providers import provider_class, provider_names
from payments.providers.base import Provider, ProviderBase

if TYPE_CHECKING:
    from pydantic import ValidationError

SECRET_ENV = "PROVIDER_SECRET_ARN"  # noqa: S105 - the name of a variable, not a secret
SECRET_MAX_AGE_S = 300


def describe_validation_error(prefix: str, error: ValidationError) -> str:
    """Field paths and what is wrong with them — never the offending values."""
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        location = ".".join(str(part) for part in (prefix, *item["loc"]))
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)


class ProviderDirectory:
    """Builds provider adapters from the secret, rebuilding one only when its entry changes."""

    def __init__(self, http: HttpClient | None = None) -> None:
        self._http = http
        # by name: (the entry's fingerprint, its adapter, the entry as the secret's cache holds it)
        self._built: dict[str, tuple[str, Provider, dict[str, Any]]] = {}

    @staticmethod
    def _secret_id() -> str:
        secret_id = os.environ.get(SECRET_ENV)
        if not secret_id:
            raise ConfigurationError(f"{SECRET_ENV} is not set")
        return secret_id

    def _secret(self) -> dict[str, Any]:
        try:
            value = secret_values.get_secret(self._secret_id(), as_json=True, max_age=SECRET_MAX_AGE_S)
        except secret_values.SecretNotJson:
            raise ConfigurationError("the provider secret is not a JSON object") from None
        except secret_values.SecretUnavailable:
            raise ConfigurationError("the provider secret could not be read") from None
        if not isinstance(value, dict):
            raise ConfigurationError("the provider secret is not a JSON object")
        return value

    def refresh_secret(self) -> bool:
        """Read the secret again now, a signature check having failed (the key may have just been
        rotated): the adapters `get` returns next follow it. Whether Secrets Manager was asked: not when
        it was asked less than `secret_values.MIN_REFRESH_INTERVAL_S` ago by this process."""
        secret_id = os.environ.get(SECRET_ENV)
        if not secret_id:  # nothing to read again (the regular read reports it)
            return False
        try:
            asked = secret_values.refresh(secret_id, as_json=True) is not None
        except (secret_values.SecretNotJson, secret_values.SecretUnavailable):
            asked = True  # the value read before stays (the next regular read reports the fault)
        if asked:
            _count_refresh()
        return asked

    @property
    def http(self) -> HttpClient:
        return self._http or default_http()

    def entries(self) -> dict[str, Any]:
        """Each provider's entry in the credentials secret, as it stands (for the doctor's checks)."""
        return {name: entry for name, entry in self._secret().items() if name in provider_names()}

    def get(self, name: str) -> Provider:
        """The configured adapter for `name`; ProviderNotConfigured if unknown or absent."""
        if name not in provider_names():
            raise ProviderNotConfigured(
                f"unknown provider; expected one of {provider_names()}",
                field="provider",
                code="unknown_provider",
            )
        entry = self._secret().get(name)
        if not isinstance(entry, dict):
            raise ProviderNotConfigured(f"provider '{name}' is not configured", field="provider")
        cached = self._built.get(name)
        if cached and cached[2] is entry:  # the secret's cached value, as last time: nothing to compare
            return cached[1]
        fingerprint = json.dumps(entry, sort_keys=True)
        if cached and cached[0] == fingerprint:  # read again, unchanged
            self._built[name] = (fingerprint, cached[1], entry)
            return cached[1]
        factory = provider_class(name)
        from pydantic import ValidationError  # with the adapter, at the first request: not at init

        try:
            settings = factory.settings_model.model_validate(entry)
        except ValidationError as exc:
            raise ConfigurationError(
                "provider secret is invalid: " + describe_validation_error(name, exc)
            ) from None
        provider = factory(settings, self.http)
        if isinstance(provider, ProviderBase):  # a reply failing its signature: the key may be rotated
            provider.when_key_suspected(self.refresh_secret)
        self._built[name] = (fingerprint, provider, entry)
        return provider


def _count_refresh() -> None:
    """The metric `ProviderSecretRefreshes`: Secrets Manager asked again after a failed signature check.
    Powertools loaded here, on that path only, not at the init of every function that reads the secret."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    Metrics().add_metric(name="ProviderSecretRefreshes", unit=MetricUnit.Count, value=1)
