"""The provider-credentials secret the test stack is provisioned with.

Each provider's test kit (tests/support/<provider>_kit.py) adds its own entry at import.
"""

from __future__ import annotations

from typing import Any

PROVIDER_SECRET: dict[str, dict[str, Any]] = {}

# The webhook signing key every test stack gets (deployed, Secrets Manager generates it): fixed, so the
# reliability suite's log guard can look for it in every line (tests/reliability/conftest.py).
WEBHOOK_SIGNING_SECRET = "whsec-test-7Hq2LmX9vR4tKp8ZcN3wYb6FjD1sGe5A"
