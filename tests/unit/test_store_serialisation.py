"""The store writes and reads DynamoDB values as boto3's TypeSerializer / TypeDeserializer do, without
importing boto3 (payments/store/table.py: its import was a share of every cold start)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from payments.store.table import attribute_value, deserialize, python_value, serialize


class Status(StrEnum):
    PAID = "paid"


VALUES: list[Any] = [
    "",
    "tea set",
    "带汉字",
    Status.PAID,
    0,
    -7,
    2**53 - 1,
    10**37,
    Decimal("12.50"),
    Decimal("-0.001"),
    True,
    False,
    None,
    b"\x00\xff",
    {"flow": "redirect", "nested": {"n": 3, "s": "x", "none": None}},
    ["a", 1, {"b": False}],
    ("a", 2),
    {},
    [],
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_value_is_written_as_boto3_writes_it(value: Any) -> None:
    assert attribute_value(value) == TypeSerializer().serialize(value)


@pytest.mark.parametrize("value", [v for v in VALUES if not isinstance(v, bytes)], ids=repr)
def test_a_value_is_read_as_boto3_reads_it(value: Any) -> None:
    written = TypeSerializer().serialize(value)
    assert python_value(written) == TypeDeserializer().deserialize(written)


@pytest.mark.parametrize(
    "written",
    [{"SS": ["a", "b"]}, {"NS": ["1", "2.5"]}, {"N": "1E+2"}, {"N": "0.000"}, {"B": b"\x01"}],
    ids=repr,
)
def test_what_only_others_write_is_read_as_boto3_reads_it(written: dict[str, Any]) -> None:
    theirs = TypeDeserializer().deserialize(written)  # type: ignore[arg-type]
    assert python_value(written) == (theirs.value if kind_is_binary(written) else theirs)


def kind_is_binary(written: dict[str, Any]) -> bool:
    return "B" in written  # boto3 wraps bytes in its Binary; the layer never stores any


@pytest.mark.parametrize("value", [1.5, {1, 2}, object(), 10**38])
def test_what_boto3_refuses_or_we_never_store_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        attribute_value(value)


def test_an_item_round_trips_as_with_boto3() -> None:
    item = {"pk": "ORDER#o-1", "amount_value": 1000, "metadata": {"k": "v"}, "flags": ["a"], "gone": None}
    written = serialize(item)
    assert "gone" not in written  # None at the top level: the attribute is left out
    ours, theirs = deserialize(written), {k: TypeDeserializer().deserialize(v) for k, v in written.items()}
    assert (
        ours
        == theirs
        == {"pk": "ORDER#o-1", "amount_value": Decimal(1000), "metadata": {"k": "v"}, "flags": ["a"]}
    )
