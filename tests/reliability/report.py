"""The reliability suite's figures: counters the tests add to, printed as a table at the end of the run
and written to reliability-report.json.

`python -m tests.reliability.report` prints the table of the last run again.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# RELIABILITY_REPORT: elsewhere (tests/unit/test_reliability_figures.py runs suites of its own).
REPORT_PATH = Path(os.environ.get("RELIABILITY_REPORT") or ROOT / "reliability-report.json")
# Every provider: each folder of local/providers with a kit (read from the tree, not imported: the table
# is made where the project's own modules may not be importable).
PROVIDERS = tuple(sorted(path.parent.name for path in (ROOT / "local" / "providers").glob("*/kit.py")))


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    label: str
    required: str = ""  # "": informational; "==N", ">=N"

    def check(self, value: int | None) -> bool | None:
        if not self.required:
            return None
        if value is None:
            return False
        op, bound = self.required[:2], int(self.required[2:])
        compare: dict[str, Callable[[int, int], bool]] = {
            "==": lambda a, b: a == b,
            ">=": lambda a, b: a >= b,
        }
        return compare[op](value, bound)


def _rows() -> list[tuple[str, list[Row]]]:
    forged = [
        row
        for p in PROVIDERS
        for row in (
            Row(f"forged.{p}.tried", f"{p}: forged notifications tried", ">=200"),
            Row(f"forged.{p}.rejected", f"{p}: rejected (4xx / signed F ack)", ""),
            Row(f"forged.{p}.recorded", f"{p}: attempts recorded with a reason", ""),
            Row(f"forged.{p}.applied", f"{p}: state changes applied by forgeries", "==0"),
            Row(f"forged.{p}.in_history", f"{p}: lines written into the order's history", "==0"),
            Row(f"forged.{p}.coded", f"{p}: refusals recorded with a doctor's code", ""),
            Row(f"forged.{p}.applied_by_replay", f"{p}: forgeries applied by a replay", "==0"),
            Row(f"forged.{p}.via_handler", f"{p}: of which through the real handler", ""),
        )
    ]
    sections = [
        ("1. Forged notifications", forged),
        (
            "2. Repeats and reordering of pay, refund and chargeback notifications (hypothesis)",
            [
                Row("repeats.sequences", "sequences (fresh order each)", ">=100"),
                Row("repeats.deliveries", "valid notifications delivered", ""),
                Row("repeats.transitions", "transitions applied", ""),
                Row("repeats.lost", "lost transitions", "==0"),
                Row("repeats.duplicated", "duplicated transitions", "==0"),
                Row(
                    "repeats.refund_changes",
                    "refund ledger changes applied (pay/refund/chargeback mixes)",
                    "",
                ),
                Row(
                    "repeats.refund_total_wrong",
                    "orders whose refunded total != sum of distinct refunds",
                    "==0",
                ),
            ],
        ),
        (
            "2b. The money gate: reports that do not add up on their own (over the handlers)",
            [
                Row("gate.mismatch.orders", "refund reported for a payment of a tenth of the amount", ">=10"),
                Row("gate.mismatch.deliveries", "... its genuine reports delivered (each three times)", ""),
                Row("gate.mismatch.applied", "... orders moved or refunded by them", "==0"),
                Row("gate.mismatch.paid_claims", "... transitions to paid (order.paid events)", "==0"),
                Row("gate.mismatch.unflagged", "... orders not flagged amount_mismatch", "==0"),
                Row("gate.mismatch.repeat_lines", "... history lines added by the repeats", "==0"),
                Row("gate.out_of_order.runs", "refunds completed in a random order (runs)", ">=20"),
                Row("gate.out_of_order.completions", "... completions reported", ""),
                Row("gate.out_of_order.total_wrong", "... steps where refunded != sum of succeeded", "==0"),
                Row(
                    "gate.out_of_order.held_after", "... orders with an amount held after all settled", "==0"
                ),
                Row("gate.out_of_order.nobody_made", "... refunds recorded that nobody made", "==0"),
                Row("gate.out_of_order.unsettled", "... refunds not succeeded at the end", "==0"),
                Row("gate.watch.orders", "orders cancelled here at a provider without a cancel call", ">=10"),
                Row("gate.watch.paid", "... paid afterwards, notification lost", ""),
                Row("gate.watch.missed", "... payments never found", "==0"),
                Row("gate.watch.late", "... found after the checkout's lifetime + the run interval", "==0"),
                Row("gate.watch.unflagged", "... found without the late_payment flag", "==0"),
                Row("gate.watch.unpaid_still_watched", "... unpaid ones moved or still due after", "==0"),
            ],
        ),
        (
            "3. Races (threads over HTTP, moto server)",
            [
                Row("races.orders", "orders raced", ""),
                Row("races.deliveries", "concurrent deliveries", ">=50"),
                Row("races.conflicts_injected", "TransactionConflicts injected", ""),
                Row("races.orders_with_one_terminal", "orders paid exactly once / with one unpaid end", ""),
                Row("races.orders_not_one_terminal", "orders with != 1 terminal transition", "==0"),
                Row("races.lost", "lost or duplicated transitions", "==0"),
                Row("races.unanswered", "deliveries not acknowledged", "==0"),
                Row("retries.concurrent", "overlapping retries of an unknown order (x6 cases)", ">=120"),
                Row("retries.provider_orders_extra", "second provider orders made by them", "==0"),
                Row("retries.failed_while_live", "orders failed while the provider held them live", "==0"),
                Row("retries.crashed", "retries that crashed", "==0"),
                Row(
                    "refund_races.requests",
                    "concurrent refund requests on one paid order, over HTTP (x3 providers)",
                    ">=150",
                ),
                Row("refund_races.over_reserved", "orders with more reserved + refunded than paid", "==0"),
                Row("refund_races.provider_over", "orders refunded beyond the amount at the provider", "==0"),
                Row("refund_races.twice_at_provider", "refund_ids that reached the provider twice", "==0"),
                Row("refund_races.crashed", "refund requests that crashed", "==0"),
            ],
        ),
        (
            "3b. Reconciliation (lost notifications, unclear creates and refunds, provider faults)",
            [
                Row("reconcile.orders", "orders in mixed states, 3 providers", ">=100"),
                Row("reconcile.runs", "scheduled runs", ""),
                Row("reconcile.items_checked", "items checked", ""),
                Row("reconcile.provider_errors", "provider faults met (retried at a later run)", ""),
                Row("reconcile.wrong_state", "orders not in the provider's state at the end", "==0"),
                Row("reconcile.double_transitions", "transitions applied twice", "==0"),
                Row("reconcile.table_scans", "table scans", "==0"),
                Row("reconcile.dynamodb_calls", "DynamoDB calls in all runs", ""),
                Row("overlap.runs", "runs started at once (x3 providers)", ""),
                Row("overlap.items", "due items they found (x3 providers)", ""),
                Row("overlap.items_checked_twice", "items asked about twice", "==0"),
                Row("overlap.transitions_applied_twice", "transitions applied twice by them", "==0"),
            ],
        ),
        (
            "3c. Merchant events (stream -> EventBridge + signed webhooks, flaky receiver)",
            [
                Row("merchant_events.changes", "committed changes", ">=1000"),
                Row("merchant_events.orders", "orders", ">=100"),
                Row("merchant_events.published", "events published", ""),
                Row("merchant_events.refused_deliveries", "deliveries the receiver refused", ""),
                Row("merchant_events.lost", "events never received", "==0"),
                Row("merchant_events.out_of_order", "orders whose events arrived out of sequence", "==0"),
                Row("merchant_events.repeats_of_an_id", "repeats (each a retry of the same id)", ""),
            ],
        ),
        (
            "4. Provider faults on create",
            [
                Row("provider_faults.cases", "provider x fault cases", ""),
                Row("provider_faults.kept", "orders kept (unknown / failed)", ""),
                Row("provider_faults.retries", "retries of the same order_id", ""),
                Row("provider_faults.second_orders", "second provider orders created", "==0"),
                Row(
                    "resume_mismatch.cases",
                    "resumed orders the provider holds paid at another amount",
                    ">=16",
                ),
                Row("resume_mismatch.applied", "of which applied", "==0"),
                Row("resume_mismatch.flagged", "of which flagged amount_mismatch", ">=16"),
            ],
        ),
        (
            "5. DynamoDB faults",
            [
                Row("store_faults.cases", "fault cases", ""),
                Row("store_faults.retries", "retried attempts observed", ""),
                Row("store_faults.unavailable", "503 store_unavailable answers", ""),
                Row("store_faults.half_written", "half-written orders", "==0"),
            ],
        ),
        (
            "6. Merchant API fuzzing",
            [
                Row("fuzz.cases", "requests", ">=2000"),
                Row("fuzz.4xx", "4xx answers", ""),
                Row("fuzz.5xx", "5xx answers", "==0"),
                Row("fuzz.bad_error_shape", "4xx outside the documented error shape", "==0"),
                Row(
                    "fuzz_actions.cases",
                    "refund and cancel requests (paid, pending, unknown orders)",
                    ">=400",
                ),
                Row("fuzz_actions.5xx_ours", "... answered 5xx by us (not a provider's 502/504)", "==0"),
                Row("fuzz_actions.bad_error_shape", "... 4xx outside the documented error shape", "==0"),
                Row("fuzz_operator.cases", "operator reads: GET /orders, GET /reports/daily", ">=600"),
                Row("fuzz_operator.5xx", "... answered 5xx", "==0"),
                Row("fuzz_operator.bad_shape", "... answers outside the documented shapes", "==0"),
                Row("fuzz_operator.pages_with_repeats", "... next pages listing an order again", "==0"),
            ],
        ),
        (
            "7. Secrets and personal data",
            [
                Row("logs.lines", "log records checked (and all stdout/stderr)", ""),
                Row("logs.leaks", "secrets / personal data found in logs", "==0"),
                Row("logs.flow_leaks", "... in replies and stored events (flows)", "==0"),
            ],
        ),
        (
            "8. Least privilege (tests/unit/test_template.py + used-vs-granted)",
            [
                Row("iam.functions", "functions checked", ""),
                Row("iam.unused_grants", "granted but never used", "==0"),
                Row("iam.missing_grants", "used but not granted", "==0"),
            ],
        ),
        *provider_sections(),
    ]
    return sorted(sections, key=lambda section: _number(section[0]))


def provider_sections() -> list[tuple[str, list[Row]]]:
    """Sections about one provider's own ways: its folder's tests/providers/<name>/reliability_figures.py
    (`SECTIONS`), numbered to fall where they belong in the table."""
    return [
        section
        for name in PROVIDERS
        if (ROOT / "tests" / "providers" / name / "reliability_figures.py").exists()
        for section in importlib.import_module(f"tests.providers.{name}.reliability_figures").SECTIONS
    ]


def _number(title: str) -> tuple[int, str]:
    """A section's place: "3b. Reconciliation" -> (3, "b")."""
    found = re.match(r"(\d+)([a-z]*)\.", title)
    if not found:
        raise ValueError(f"a section title starts with its number: {title!r}")
    return int(found[1]), found[2]


class Figures:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, key: str, value: int = 1) -> None:
        self.counts[key] += value

    def merge(self, counts: Mapping[str, int]) -> None:
        """Add another process's counters (a pytest-xdist worker's) to these."""
        self.counts.update(counts)

    def as_json(self) -> dict[str, object]:
        sections = []
        for title, rows in _rows():
            entries = []
            for row in rows:
                value = self.counts.get(row.key)
                entries.append(
                    {
                        "key": row.key,
                        "label": row.label,
                        "value": value,
                        "required": row.required or None,
                        "ok": row.check(value),
                    }
                )
            sections.append({"section": title, "figures": entries})
        extra = {key: value for key, value in sorted(self.counts.items()) if "." in key}
        return {"sections": sections, "counters": extra}


FIGURES = Figures()


def unmet(report: dict[str, object], *, require_all: bool) -> list[str]:
    """Rows whose requirement fails; with `require_all`, also rows that never ran (no value)."""
    problems = []
    for section in report["sections"]:  # type: ignore[attr-defined]
        for entry in section["figures"]:
            if entry["ok"] is False and (entry["value"] is not None or require_all):
                shown = "not run" if entry["value"] is None else entry["value"]
                problems.append(f"{entry['key']} = {shown}, required {entry['required']}")
    return problems


def render(report: dict[str, object]) -> str:
    lines: list[str] = []
    width = 58
    for section in report["sections"]:  # type: ignore[attr-defined]
        lines.append(section["section"])
        for entry in section["figures"]:
            value = "-" if entry["value"] is None else str(entry["value"])
            required = entry["required"] or ""
            verdict = {True: "ok", False: "FAIL", None: ""}[entry["ok"]]
            if entry["value"] is None and entry["required"]:
                verdict = "not run"
            lines.append(f"  {entry['label']:<{width}} {value:>9}  {required:<7} {verdict}")
    return "\n".join(lines)


def main() -> int:
    if not REPORT_PATH.exists():
        print(f"no {REPORT_PATH.name}: run `pytest tests/reliability` first", file=sys.stderr)
        return 1
    print(render(json.loads(REPORT_PATH.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
