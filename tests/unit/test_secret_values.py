"""The secrets' cache (payments/secret_values.py) keeps Powertools Parameters' semantics: fetched at
first use, served from memory for `max_age` seconds, fetched again after that or when forced."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from payments import secret_values

ARN = "arn:aws:secretsmanager:eu-west-1:1:secret:providers"


class FakeSecretsManager:
    def __init__(self, value: str) -> None:
        self.value = value
        self.calls = 0
        self.fail = False

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:  # noqa: N803 - botocore's name
        self.calls += 1
        if self.fail:
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "GetSecretValue")
        assert SecretId == ARN
        return {"SecretString": self.value}


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSecretsManager]:
    fake = FakeSecretsManager(json.dumps({"acme": {"api_key": "k1"}}))
    secret_values.clear_cache()
    monkeypatch.setattr(secret_values, "_client", fake)
    yield fake
    secret_values.clear_cache()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    at = Clock()
    monkeypatch.setattr(time, "monotonic", at)  # the module reads time.monotonic()
    return at


def test_a_value_is_fetched_once_then_served_until_it_is_five_minutes_old(
    manager: FakeSecretsManager, clock: Clock
) -> None:
    first = secret_values.get_secret(ARN, as_json=True)
    clock.now += 299
    assert secret_values.get_secret(ARN, as_json=True) is first  # parsed once, the same object
    assert manager.calls == 1
    manager.value = json.dumps({"acme": {"api_key": "k2"}})
    clock.now += 1
    assert secret_values.get_secret(ARN, as_json=True) == {"acme": {"api_key": "k2"}}
    assert manager.calls == 2


def test_a_forced_fetch_asks_again_at_once(manager: FakeSecretsManager, clock: Clock) -> None:
    secret_values.get_secret(ARN, as_json=True)
    manager.value = json.dumps({"rotated": True})
    assert secret_values.get_secret(ARN, as_json=True, force_fetch=True) == {"rotated": True}
    assert secret_values.age(ARN, as_json=True) == 0
    assert manager.calls == 2


def test_the_string_and_the_json_form_are_cached_apart(manager: FakeSecretsManager, clock: Clock) -> None:
    assert secret_values.get_secret(ARN) == manager.value
    assert secret_values.get_secret(ARN, as_json=True) == json.loads(manager.value)
    assert manager.calls == 2


def test_a_value_that_is_not_json_is_refused_and_not_cached(
    manager: FakeSecretsManager, clock: Clock
) -> None:
    manager.value = "not json"
    with pytest.raises(secret_values.SecretNotJson):
        secret_values.get_secret(ARN, as_json=True)
    assert secret_values.age(ARN, as_json=True) is None


def test_a_failed_read_says_so_without_the_value_and_is_tried_again(
    manager: FakeSecretsManager, clock: Clock
) -> None:
    manager.fail = True
    with pytest.raises(secret_values.SecretUnavailable) as raised:
        secret_values.get_secret(ARN)
    assert "api_key" not in str(raised.value)
    manager.fail = False
    assert secret_values.get_secret(ARN) == manager.value
    assert manager.calls == 2


def test_a_refresh_asks_again_at_most_once_a_minute_per_secret(
    manager: FakeSecretsManager, clock: Clock
) -> None:
    secret_values.get_secret(ARN, as_json=True)
    manager.value = json.dumps({"rotated": True})
    assert secret_values.refresh(ARN, as_json=True) == {"rotated": True}
    assert secret_values.get_secret(ARN, as_json=True) == {"rotated": True}  # the cache holds the fresh one
    clock.now += secret_values.MIN_REFRESH_INTERVAL_S - 1
    assert [secret_values.refresh(ARN, as_json=True) for _ in range(100)] == [None] * 100
    assert manager.calls == 2
    clock.now += 1
    assert secret_values.refresh(ARN, as_json=True) == {"rotated": True}
    assert manager.calls == 3


def test_a_refresh_that_fails_keeps_the_value_and_waits_its_minute(
    manager: FakeSecretsManager, clock: Clock
) -> None:
    first = secret_values.get_secret(ARN, as_json=True)
    manager.fail = True
    with pytest.raises(secret_values.SecretUnavailable):
        secret_values.refresh(ARN, as_json=True)
    assert secret_values.get_secret(ARN, as_json=True) is first
    assert secret_values.refresh(ARN, as_json=True) is None  # Secrets Manager is not asked again at once
    assert manager.calls == 2
