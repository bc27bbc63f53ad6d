"""A request's JSON body, read strictly: one object, no repeated key. Apart from the request models
(payments/api.py, pydantic) so that a route taking no input reads its body without loading them."""

from __future__ import annotations

import json
from typing import Any

from payments.errors import MalformedRequest, ValidationFailed


class _DuplicateKey(ValueError):
    pass


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # {"value": 100, "value": 100000} must not be read as whichever came last.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def json_object(body: str | bytes | None) -> dict[str, Any]:
    """The body as a JSON object; MalformedRequest for anything else."""
    if not body:
        raise MalformedRequest("request body is empty; expected a JSON object", code="malformed_json")
    try:
        parsed: Any = json.loads(body, object_pairs_hook=_reject_duplicate_keys)
    except _DuplicateKey as exc:
        raise MalformedRequest(f"request body repeats the key '{exc}'", code="malformed_json") from None
    except (ValueError, UnicodeDecodeError):
        raise MalformedRequest("request body is not valid JSON", code="malformed_json") from None
    except RecursionError:  # '[[[[…' a few thousand deep: not a request, and not worth a 500
        raise MalformedRequest("request body is nested too deeply", code="malformed_json") from None
    if not isinstance(parsed, dict):
        raise MalformedRequest("request body must be a JSON object", code="malformed_json")
    return parsed


def parse_empty_body(body: str | bytes | None) -> None:
    """Routes that take no input (cancel, sync, redeliver): nothing, or `{}`."""
    if body and json_object(body) != {}:
        raise ValidationFailed("this route takes no fields: send an empty body or {}", code="unknown_field")
