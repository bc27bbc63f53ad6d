"""A JSON-aware scan of raw bytes: where each top-level member's value starts and ends, exactly as it
arrived. For a provider that signs the exact text of one member's value (never a re-serialisation, e.g.
an envelope's `request` or `response`), that text is found here without parsing and re-encoding it.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Byte-level is safe for UTF-8: every byte of a multi-byte character is >= 0x80, so none can be
# mistaken for a quote, backslash or bracket. The patterns step over whole tokens in one call each
# (a byte-by-byte loop in Python cost ~0.5 ms for a 1 kB notification).
_WHITESPACE = re.compile(rb"[ \t\r\n]*")
# A string: runs of plain bytes between escapes, each escape skipped whole (\" never ends it).
_STRING = re.compile(rb'"[^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*"', re.DOTALL)
# Inside a container: everything up to its next bracket, strings (and the brackets in them) included.
_TO_BRACKET = re.compile(rb'(?:[^"{}\[\]]+|"[^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*")*', re.DOTALL)
_SCALAR = re.compile(rb"[^,}\] \t\r\n]+")  # a number, true, false or null
_CLOSERS = {ord("{"): ord("}"), ord("["): ord("]")}


class _Scanner:
    """Walks JSON tokens over raw bytes to find where each top-level member's value starts and ends.
    Strings are skipped token by token, so braces and escaped quotes inside them never count."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.i = 0

    def fail(self) -> ValueError:
        return ValueError(f"not JSON at byte {self.i}")

    def skip_whitespace(self) -> None:
        self.i = _WHITESPACE.match(self.raw, self.i).end()  # type: ignore[union-attr]  # matches ""

    def peek(self) -> int:
        if self.i >= len(self.raw):
            raise self.fail()
        return self.raw[self.i]

    def string(self) -> tuple[int, int]:
        start = self.i
        found = _STRING.match(self.raw, start)
        if found is None:
            raise self.fail()
        self.i = found.end()
        return start, self.i

    def value(self) -> tuple[int, int]:
        start = self.i
        char = self.peek()
        if char == ord('"'):
            return self.string()
        if char in _CLOSERS:
            expected = [_CLOSERS[char]]
            self.i += 1
            while expected:
                self.i = _TO_BRACKET.match(self.raw, self.i).end()  # type: ignore[union-attr]  # matches ""
                char = self.peek()
                if char in _CLOSERS:
                    expected.append(_CLOSERS[char])
                elif char != expected.pop():  # a closer that does not match, or a stray quote
                    raise self.fail()
                self.i += 1
            return start, self.i
        found = _SCALAR.match(self.raw, start)
        if found is None:
            raise self.fail()
        self.i = found.end()
        return start, self.i

    def members(self) -> dict[str, tuple[int, int]]:
        spans: dict[str, tuple[int, int]] = {}
        self.skip_whitespace()
        if self.peek() != ord("{"):
            raise self.fail()
        self.i += 1
        self.skip_whitespace()
        if self.peek() == ord("}"):
            self.i += 1
        else:
            while True:
                self.skip_whitespace()
                key_start, key_end = self.string()
                key = json.loads(self.raw[key_start:key_end])  # "\u0072equest" is "request"
                if key in spans:
                    raise ValueError("a top-level key is repeated")
                self.skip_whitespace()
                if self.peek() != ord(":"):
                    raise self.fail()
                self.i += 1
                self.skip_whitespace()
                spans[key] = self.value()
                self.skip_whitespace()
                if self.peek() == ord(","):
                    self.i += 1
                    continue
                if self.peek() != ord("}"):
                    raise self.fail()
                self.i += 1
                break
        self.skip_whitespace()
        if self.i != len(self.raw):
            raise self.fail()
        return spans


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"value":"100","value":"1"} must not mean whichever a parser happens to keep.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError("repeated key")
        result[key] = value
    return result


def members(raw: bytes) -> dict[str, tuple[int, int]]:
    """Byte spans of the top-level members of a JSON object body, exactly as they arrived.

    Raises ValueError unless the whole body is one valid UTF-8 JSON object with no repeated keys.
    """
    try:
        json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("not a JSON object") from None
    return _Scanner(raw).members()


def object_at(raw: bytes, span: tuple[int, int] | None) -> dict[str, Any] | None:
    """The JSON object at `span`, or None."""
    if span is None:
        return None
    value = json.loads(raw[span[0] : span[1]])
    return value if isinstance(value, dict) else None


def string_at(raw: bytes, span: tuple[int, int] | None) -> str | None:
    """The JSON string at `span`, or None."""
    if span is None:
        return None
    value = json.loads(raw[span[0] : span[1]])
    return value if isinstance(value, str) else None
