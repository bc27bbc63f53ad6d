"""The raw-envelope scanner: the signed text is found exactly as it arrived, whatever its strings hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.providers.alipay_intl.adapter import expire_time, function_url, rfc3339
from payments.providers.json_scan import members as envelope_members
from tests.providers.alipay_intl.fixtures import NOW

TRICKY = [
    '茶具 {"set"} \\"x\\"',
    "}}}{{{",
    '"},"signature":"forged',
    "\\",
    "emoji 🍵 and \u2028 line separator",
    "[[[",
    '\',"request":{}',
]


def span_text(raw: bytes, name: str) -> bytes:
    start, end = envelope_members(raw)[name]
    return raw[start:end]


def request_value(title: str) -> dict[str, Any]:
    return {
        "head": {"reqMsgId": "m-1", "reserve": "{}"},
        "body": {"order": {"orderTitle": title}, "n": [1, {}]},
    }


@pytest.mark.parametrize("title", TRICKY)
@pytest.mark.parametrize("style", ["compact", "ascii", "pretty"])
def test_the_request_text_is_found_byte_for_byte(title: str, style: str) -> None:
    value = request_value(title)
    if style == "compact":
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    elif style == "ascii":
        text = json.dumps(value)
    else:
        text = json.dumps(value, ensure_ascii=False, indent=3)
    raw = ('{ "request" :\n' + text + ' ,\t"signature": "c2ln"\r\n}').encode()
    assert span_text(raw, "request") == text.encode()
    assert span_text(raw, "signature") == b'"c2ln"'


def test_signature_before_request_and_extra_members() -> None:
    raw = b'{"signature":"c2ln","x":[1,{"a":"}"}],"request":{"head":{},"body":{"t":"\\"}"}}}'
    assert span_text(raw, "request") == b'{"head":{},"body":{"t":"\\"}"}}'
    assert span_text(raw, "x") == b'[1,{"a":"}"}]'


# codec="utf-8": a lone surrogate cannot be sent as UTF-8 bytes; it arrives only as a \u escape,
# which test_an_escaped_lone_surrogate_is_delimited_too covers.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(value=json_values, ascii_only=st.booleans(), indent=st.sampled_from([None, 0, 2]))
def test_any_json_value_is_delimited_exactly(value: Any, ascii_only: bool, indent: int | None) -> None:
    text = json.dumps({"head": {}, "body": {"v": value}}, ensure_ascii=ascii_only, indent=indent)
    raw = ('{"request":' + text + ',"signature":"c2ln"}').encode()
    assert span_text(raw, "request") == text.encode()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"[]",
        b'"request"',
        b'{"request":{}',  # unbalanced
        b'{"request":{}} trailing',
        b'{"request":{},"request":{}}',  # which one would be signed?
        b'{"request":{},"\\u0072equest":{}}',  # the same key, spelled with an escape
        b'{"request":{"a":1,"a":2}}',  # repeated inside
        b'{"request":{"t":"\xff"}}',  # not UTF-8
        b'{"request":{"t":"unterminated}}',
        b'{"request":{]}',
        b'{"request":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
)
def test_what_is_not_one_clean_json_object_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the scanner has one error type
        envelope_members(raw)


def test_an_escaped_lone_surrogate_is_delimited_too() -> None:
    raw = b'{"request":{"head":{},"body":{"v":"\\ud800"}},"signature":"c2ln"}'
    assert span_text(raw, "request") == b'{"head":{},"body":{"v":"\\ud800"}}'


def test_an_escaped_key_is_the_key_it_spells() -> None:
    assert envelope_members(b'{"\\u0072equest":{}}')["request"] == (16, 18)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (60, "1min"),
        (90, "90s"),
        (600, "10min"),
        (3600, "1h"),
        (5400, "90min"),
        (86400, "1d"),
        (7 * 86400, "7d"),
    ],
)
def test_expire_time_uses_the_largest_exact_unit_never_months(seconds: int, expected: str) -> None:
    assert expire_time(seconds) == expected


def test_function_urls_follow_the_documented_pattern() -> None:
    assert (
        function_url("https://open-sea.alipay.com", "alipay.intl.acquiring.cashier.prepareForRedirect")
        == "https://open-sea.alipay.com/api/alipay/intl/acquiring/cashier/prepareForRedirect.htm"
    )
    assert function_url("http://127.0.0.1:4010", "alipay.intl.acquiring.cashier.payQuery").endswith(
        "/api/alipay/intl/acquiring/cashier/payQuery.htm"
    )


def test_times_are_rfc3339_with_an_offset() -> None:
    assert rfc3339(NOW.replace(microsecond=123456)) == "2026-11-22T12:00:00+00:00"
