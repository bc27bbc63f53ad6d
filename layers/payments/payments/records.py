"""`@frozen` and `@mutable`: slotted dataclasses whose equality, hash and repr are shared functions
rather than generated ones.

dataclasses compiles each method it generates with exec() as the class is made: six for a frozen
class, about 0.1 ms each, and a handler's init makes some 30 of this layer's classes (15 ms of
CreateOrderFunction's cold start, measured by bench/run.py's cold-start step). Equality, hash and repr
built here from the fields behave as the generated ones do (the same fields in the same order,
`compare=False`, `hash=` and `repr=False` honoured, NotImplemented for another class, no hash for a
mutable class) without a compile; __init__ and the frozen guard are dataclasses' own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import Field, dataclass, fields
from operator import attrgetter
from typing import Any, dataclass_transform, overload

_SHARED = ("__eq__", "__hash__", "__repr__")


def _values(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A function from an instance to the tuple of those fields' values (always a tuple)."""
    if not names:
        return lambda _: ()
    if len(names) == 1:
        only = attrgetter(names[0])
        return lambda instance: (only(instance),)
    return attrgetter(*names)


def _hashed(field: Field[Any]) -> bool:
    return field.compare if field.hash is None else field.hash


def _made[T](cls: type[T], *, is_frozen: bool, kw_only: bool) -> type[T]:
    defined = [name for name in _SHARED if name in cls.__dict__]
    if defined:
        raise TypeError(f"{cls.__qualname__} defines {', '.join(defined)}: use @dataclass for it")
    made: Any = dataclass(frozen=is_frozen, slots=True, kw_only=kw_only, eq=False, repr=False)(cls)
    every = fields(made)
    compared = _values([field.name for field in every if field.compare])
    hashed = _values([field.name for field in every if _hashed(field)])
    shown = [(field.name, attrgetter(field.name)) for field in every if field.repr]

    def equal(self: Any, other: object) -> Any:
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def hash_of(self: Any) -> int:
        return hash(hashed(self))

    def shown_as(self: Any) -> str:
        inside = ", ".join(f"{name}={value(self)!r}" for name, value in shown)
        return f"{self.__class__.__qualname__}({inside})"

    # A mutable class that compares by value has no hash, as dataclasses leaves it.
    for name, method in zip(_SHARED, (equal, hash_of if is_frozen else None, shown_as), strict=True):
        if method is not None:
            method.__name__, method.__qualname__ = name, f"{made.__qualname__}.{name}"
        setattr(made, name, method)
    return made  # type: ignore[no-any-return]


@overload
def frozen[T](cls: type[T], /) -> type[T]: ...
@overload
def frozen[T](*, kw_only: bool = False) -> Callable[[type[T]], type[T]]: ...
@dataclass_transform(frozen_default=True)
def frozen[T](cls: type[T] | None = None, /, *, kw_only: bool = False) -> Any:
    """`@dataclass(frozen=True, slots=True)` (`kw_only` as there), for less at import."""
    if cls is None:
        return lambda later: _made(later, is_frozen=True, kw_only=kw_only)
    return _made(cls, is_frozen=True, kw_only=kw_only)


@dataclass_transform()
def mutable[T](cls: type[T]) -> type[T]:
    """`@dataclass(slots=True)`, for less at import."""
    return _made(cls, is_frozen=False, kw_only=False)
