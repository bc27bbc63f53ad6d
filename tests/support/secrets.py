"""The provider-credentials secret the test stack is provisioned with.

Each provider's test kit (tests/support/<provider>_kit.py) adds its own entry at import.
"""

from __future__ import annotations

from typing import Any

PROVIDER_SECRET: dict[str, dict[str, Any]] = {}
