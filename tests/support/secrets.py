"""The provider-credentials secret the test stack is provisioned with.

Every provider's entry, from its kit (local/providers/<name>/kit.py): fresh credentials per test run.
"""

from __future__ import annotations

from typing import Any

from local.testing import kits

PROVIDER_SECRET: dict[str, dict[str, Any]] = {name: kit.test_secret_entry() for name, kit in kits().items()}

# The webhook signing key every test stack gets (deployed, Secrets Manager generates it): fixed, so the
# reliability suite's log guard can look for it in every line (tests/reliability/conftest.py).
WEBHOOK_SIGNING_SECRET = "whsec-test-7Hq2LmX9vR4tKp8ZcN3wYb6FjD1sGe5A"
