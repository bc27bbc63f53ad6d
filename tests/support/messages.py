"""Is a message in the project's words? Never pydantic's own: none of the fixed text of any of its
error messages (pydantic_core lists every one) may appear in what the API says."""

from __future__ import annotations

from pydantic_core import _pydantic_core

# The text of each of pydantic's message templates before its first placeholder, e.g. "Input should
# be a valid integer", "String should match pattern '".
PYDANTIC_PHRASES = sorted(
    {
        phrase
        for error in _pydantic_core.list_all_errors()
        if (phrase := error["message_template_python"].split("{")[0].strip())
    }
)


def pydantic_phrases_in(message: str) -> list[str]:
    """The phrases of pydantic's messages found in `message` (none, for a message of ours)."""
    return [phrase for phrase in PYDANTIC_PHRASES if phrase in message]
