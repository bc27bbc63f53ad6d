"""payments/records.py: a @frozen behaves as @dataclass(frozen=True, slots=True) does, method by method,
for less at import."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError, dataclass, field, fields, replace
from datetime import UTC, datetime

import pytest

from payments.records import frozen, mutable


@frozen
class Fact:
    """A record with every kind of field."""

    value: int
    currency: str
    tags: tuple[str, ...] = ()
    occurred_at: datetime | None = field(default=None, compare=False, repr=False)
    note: str = field(default="", hash=False)


@dataclass(frozen=True, slots=True)
class StdlibFact:
    """The same fields, made by dataclasses."""

    value: int
    currency: str
    tags: tuple[str, ...] = ()
    occurred_at: datetime | None = field(default=None, compare=False, repr=False)
    note: str = field(default="", hash=False)


@frozen
class One:
    """One field."""

    value: float


@frozen(kw_only=True)
class Settings:
    """Keyword-only."""

    retries: int
    name: str = "x"


@mutable
class Draft:
    """A mutable record."""

    value: int
    tags: list[str] = field(default_factory=list)
    occurred_at: datetime | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class StdlibDraft:
    """The same, made by dataclasses."""

    value: int
    tags: list[str] = field(default_factory=list)
    occurred_at: datetime | None = field(default=None, compare=False, repr=False)


@frozen
class Empty:
    """No field."""


MOMENTS = (None, datetime(2026, 12, 7, tzinfo=UTC))
CASES = [
    (1000, "EUR", (), None, ""),
    (1000, "EUR", ("a",), MOMENTS[1], ""),
    (1000, "EUR", ("a",), None, "x"),
    (999, "EUR", (), None, ""),
    (1000, "USD", (), None, ""),
]


@pytest.mark.parametrize("left", CASES)
@pytest.mark.parametrize("right", CASES)
def test_equality_and_hash_are_the_generated_ones(left: tuple, right: tuple) -> None:  # type: ignore[type-arg]
    ours, theirs = (Fact(*left), Fact(*right)), (StdlibFact(*left), StdlibFact(*right))
    assert (ours[0] == ours[1], ours[0] != ours[1]) == (theirs[0] == theirs[1], theirs[0] != theirs[1])
    if ours[0] == ours[1]:
        assert hash(ours[0]) == hash(ours[1])
    assert hash(ours[0]) == hash(theirs[0])  # both hash the tuple of the same fields


def test_repr_is_the_generated_one() -> None:
    made = Fact(5, "JPY", ("t",), MOMENTS[1], "n")
    assert repr(made) == repr(StdlibFact(5, "JPY", ("t",), MOMENTS[1], "n")).replace("StdlibFact", "Fact")
    assert repr(made) == "Fact(value=5, currency='JPY', tags=('t',), note='n')"
    assert repr(One(0.5)) == "One(value=0.5)"
    assert repr(Empty()) == "Empty()"


def test_another_class_is_never_equal_and_gets_its_own_say() -> None:
    assert Fact(1, "EUR") != StdlibFact(1, "EUR")  # type: ignore[comparison-overlap]
    assert Fact.__eq__(Fact(1, "EUR"), StdlibFact(1, "EUR")) is NotImplemented
    assert One(1.0) != 1.0  # type: ignore[comparison-overlap]
    assert One(1.0) == One(1)
    assert Empty() == Empty()
    assert hash(One(1.0)) == hash((1.0,))
    assert hash(Empty()) == hash(())


def test_it_stays_a_frozen_slotted_dataclass() -> None:
    made = Fact(1, "EUR", note="n")
    with pytest.raises(FrozenInstanceError):
        made.value = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del made.currency
    assert not hasattr(made, "__dict__")
    assert vars(Fact)["__slots__"] == tuple(f.name for f in fields(Fact))
    assert replace(made, value=3) == Fact(3, "EUR", note="n")
    assert (made.tags, replace(made, tags=("b",)).tags) == ((), ("b",))
    assert copy.deepcopy(made) == made
    assert pickle.loads(pickle.dumps(made)) == made  # noqa: S301 - our own bytes
    assert Fact.__match_args__ == ("value", "currency", "tags", "occurred_at", "note")


def test_a_class_that_writes_its_own_methods_is_refused() -> None:
    shown = type("Shown", (), {"__annotations__": {"value": "int"}, "__repr__": lambda _: "shown"})
    with pytest.raises(TypeError, match="defines __repr__"):
        frozen(shown)


def test_keyword_only_fields_are_asked_for_by_name() -> None:
    with pytest.raises(TypeError):
        Settings(3)  # type: ignore[call-arg]
    assert Settings(retries=3) == Settings(retries=3, name="x")
    assert Settings(retries=3).retries == 3
    assert repr(Settings(retries=3)) == "Settings(retries=3, name='x')"


def test_a_mutable_record_compares_and_shows_as_dataclasses_does_and_has_no_hash() -> None:
    made, theirs = Draft(1, ["a"], MOMENTS[1]), StdlibDraft(1, ["a"], MOMENTS[1])
    assert repr(made) == repr(theirs).replace("StdlibDraft", "Draft")
    assert made == Draft(1, ["a"])
    assert made != Draft(2, ["a"])
    made.value = 2
    assert made == Draft(2, ["a"])
    assert vars(Draft)["__hash__"] is None
    assert vars(StdlibDraft)["__hash__"] is None
    with pytest.raises(TypeError, match="unhashable"):
        hash(made)
    with pytest.raises(AttributeError):
        made.other = 1  # type: ignore[attr-defined]
