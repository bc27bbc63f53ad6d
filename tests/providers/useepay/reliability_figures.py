"""UseePay's own rows of the reliability table (tests/reliability/report.py): the re-cut notifications of
tests/providers/useepay/test_reliability_recut.py, per sign type. Only rows here: the table is made
where the project's other modules may not be importable."""

from __future__ import annotations

from tests.reliability.report import Row

SIGN_TYPES = ("MD5", "RSA")  # local/providers/useepay/kit.py's variants
SECTIONS = [
    (
        "1b. Re-cut UseePay notifications (same string to sign, other fields)",
        [
            row
            for label in (f"useepay-{sign_type}" for sign_type in SIGN_TYPES)
            for row in (
                Row(
                    f"recut.{label}.tried", f"{label}: re-cut notifications tried (signature valid)", ">=200"
                ),
                Row(f"recut.{label}.refused", f"{label}: refused", ""),
                Row(f"recut.{label}.applied", f"{label}: orders changed by them", "==0"),
            )
        ],
    )
]
