"""The table `make bench` prints, with each target beside its figure."""

from __future__ import annotations

from typing import Any

from bench.providers import ProviderCase, provider_cases

COLD_TARGET = 1.3
PEAK_RSS_TARGET_MB = 2048


CANCEL = "POST /orders/{id}/cancel"


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _size(count: int) -> str:
    return f"{count / 1e6:.2f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"


def _calls(row: dict[str, Any]) -> str:
    share = row.get("sequence_share", 1.0)
    return str(row.get("sequence", "")) + ("" if share >= 1.0 else f" ({share:.1%})")


def _counts(row: dict[str, Any], reads: int, writes: int, provider: int) -> str:
    ok = (row["dynamodb_reads"], row["dynamodb_writes"], row["provider_calls"]) == (reads, writes, provider)
    return f"r={reads} w={writes} prov={provider} {_mark(ok)}"


def _sequence_counts(sequence: str) -> tuple[int, int]:
    """(DynamoDB reads, writes) in a row's sequence of calls, e.g. `Q Tx` -> (1, 1)."""
    calls = sequence.split()
    reads = sum(call in ("Q", "Get", "BGet") for call in calls)
    return reads, sum(call in ("Tx", "Upd", "Put", "Del") for call in calls)


def _only_the_mark_besides(row: dict[str, Any]) -> bool:
    """Every request not in the row's usual sequence made that sequence's calls and one Put more:
    the doctor's "last accepted" mark (payments/store/notification_marks.py)."""
    usual = sorted(str(row.get("sequence", "")).split())
    return all(sorted(other.split()) == sorted([*usual, "Put"]) for other in row.get("other_sequences", {}))


def _provider_of(case: str) -> ProviderCase | None:
    """The provider (and variant) a row is for: its label, in brackets at the end."""
    label = case.split("[")[-1].rstrip("]")
    return next((provider for provider in provider_cases() if provider.label == label), None)


def _target(case: str, row: dict[str, Any]) -> str:
    """Each row's target: round trips from the design, CPU where one was set."""
    provider = _provider_of(case)
    if case.startswith("POST /notify (first)"):
        limit = provider.notify_cpu_target_ms if provider else None
        # On the usual sequence of calls: the doctor's "last accepted" mark adds one write per
        # provider and process a minute at most (payments/flows/notifications.py), in the others.
        reads, writes = _sequence_counts(str(row.get("sequence", "")))
        rounds = f"r<=1 w<=1 {_mark(reads <= 1 and writes <= 1)}"
        return rounds if limit is None else f"p50<={limit:g}ms {_mark(row['p50_ms'] <= limit)}; {rounds}"
    if case.startswith("POST /notify (refused"):
        return _counts(row, 0, 2, 0)  # the attempt (masked) and its kept request; no provider call
    if case.startswith("POST /notify (duplicate)"):
        # Accepted, so it may carry the doctor's mark too (a write a minute at most), and nothing else.
        reads, writes = _sequence_counts(str(row.get("sequence", "")))
        return f"r<=1, no write {_mark(reads <= 1 and writes == 0 and _only_the_mark_besides(row))}"
    if case.startswith("POST /orders/{id}/refunds (again)"):
        return _counts(row, 1, 0, 0)
    if case.startswith("POST /orders/{id}/refunds"):
        return _counts(row, 1, 2, 1)  # read; reserve (transaction); provider; outcome (transaction)
    if case.startswith(CANCEL):
        # read; the order's lease; provider (unless it has no cancel call); the outcome (transaction)
        calls = provider.kit.cancel_provider_calls if provider else 1
        return _counts(
            row, 1, 2, 0 if provider and not provider.kit.capabilities.cancels_unpaid_orders else calls
        )
    if case.startswith("POST /orders"):
        return _counts(row, 0, 2, 1)  # order + first event (transaction); provider; outcome
    if case.startswith("GET /orders/{id}/events"):
        ok = row["aws_calls"] == {"Query": 1, "BatchGetItem": 1}
        return f"1 Query + 1 BatchGetItem, no write {_mark(ok)}"
    if case.startswith("GET /orders"):
        ok = row["dynamodb_reads"] == 2 and row["dynamodb_writes"] == 0
        return f"2 bounded Queries, no write {_mark(ok)}"
    return ""


def render(results: dict[str, Any]) -> str:
    machine = results.get("machine", {})
    loads = machine.get("load_1min") or {}
    lines = [
        "",
        f"Machine: {machine.get('cores')} cores, Python {machine.get('python')}; 1-minute load average"
        " as each step began: "
        + (", ".join(f"{step} {load:g}" for step, load in loads.items()) or "not recorded"),
        *_steps(results),
        "",
        "1. Cold start (fresh interpreter: import handler with the layer on the path, module scope)",
        "   (wall: the elapsed time, which also counts waiting for a core on a shared machine; cpu: the",
        "   process's CPU time, which does not; each ratio is to the floor's median of the same kind)",
        f"   {'':24}{'wall ms':>8}{'p90 ms':>8}{'x floor':>8}{'cpu ms':>8}{'x floor':>8}"
        f"  target <= {COLD_TARGET}",
    ]
    for name, row in results["cold_start"].items():
        if name == "breakdown_ms":
            continue
        cpu_ratio = row.get("cpu_ratio_to_floor")  # results.json from before it was measured: none
        worst = max(row["ratio_to_floor"], cpu_ratio or 0.0)
        verdict = "" if name.startswith("floor") else _mark(worst <= COLD_TARGET)
        cpu = f"{row['cpu_median_ms']:8.1f}{cpu_ratio:8.2f}" if cpu_ratio else f"{'':16}"
        lines.append(
            f"   {name:24}{row['median_ms']:8.1f}{row['p90_ms']:8.1f}{row['ratio_to_floor']:8.2f}{cpu}"
            f"  {verdict}"
        )
    breakdown = results["cold_start"].get("breakdown_ms")
    if breakdown:
        lines.append(
            "   where NotifyFunction's init goes (cumulative ms where each package is first imported;"
        )
        lines.append("   python -X importtime, median of 5; 0 = never imported):")
        lines.append("     " + ", ".join(f"{name} {ms:.0f}" for name, ms in breakdown.items()))
        powertools = results["cold_start"].get("floor + Powertools")
        if powertools:
            lines.append(
                f"   Powertools alone (Logger, Metrics, the REST resolver) puts any handler at "
                f"{powertools['ratio_to_floor']:.2f}x the floor;"
            )
        lines.append(
            "   boto3 and pydantic are no init's (0 above): botocore clients, pydantic at the first request"
        )
        lines.append("   that needs it; SnapStart takes init out of the request path (docs/capacity.md).")
    lines += [
        "",
        "2./3. Per request: our CPU (DynamoDB and provider time excluded) and round trips",
        f"   {'case':48}{'p50 ms':>8}{'p99 ms':>8}{'1st ms':>8}{'boto':>6}"
        f"{'ddb r':>6}{'ddb w':>6}{'prov':>5}  {'calls, in order':23}target",
        "   (boto = of p50, the DynamoDB client's CPU on the calls: the table's wire (JSON, SigV4,",
        "   botocore's events: payments/store/wire.py), botocore's whole pipeline for any other call;",
        "   ddb r/w, prov = calls per",
        "   request; calls: Q Query, Tx TransactWriteItems, Upd UpdateItem, Get GetItem, BGet BatchGetItem,",
        "   Put PutItem,",
        "   prov the provider; (n%): the share of requests that made these calls, the others are in",
        "   results.json (e.g. one in 1,000 also re-reads the secret: its cache lasts 5 minutes))",
    ]
    for case, row in results["per_request"].items():
        lines.append(
            f"   {case:48}{row['p50_ms']:8.2f}{row['p99_ms']:8.2f}{row['first_ms']:8.1f}"
            f"{row.get('botocore_p50_ms', 0.0):6.2f}{row['dynamodb_reads']:6.1f}{row['dynamodb_writes']:6.1f}"
            f"{row['provider_calls']:5.1f}  {_calls(row):23}{_target(case, row)}"
        )
    rows = results["per_request"]
    floor = rows.get("botocore floor: notify's round trips")
    wire = rows.get("wire floor: notify's round trips")
    if floor:
        lines += _notify_against_floor(rows, floor["p50_ms"], wire["p50_ms"] if wire else None)
    missed = _cheapest_missed_notify(rows)
    if missed and floor:
        provider, first = missed
        boto = first.get("botocore_p50_ms", 0.0)
        lines += [
            f"   why {provider.kit.display_name} notify misses {provider.notify_cpu_target_ms:g} ms:"
            f" its two round trips (Query + transaction) cost {boto:.2f} ms of client CPU",
            f"   (the wire alone: {wire['p50_ms'] if wire else float('nan'):.2f} ms; botocore's client:"
            f" {floor['p50_ms']:.2f} ms), and {first['p50_ms'] - boto:.2f} ms is spent outside them:",
            "   routing, logging and metrics, verifying, parsing, the redacted audit event, the gate and"
            " the engine (bench/README.md).",
        ]
    cancels = [row for case, row in rows.items() if case.startswith(CANCEL)]
    if any(row["dynamodb_reads"] > 1 for row in cancels):
        lines += [
            "   cancel reads the order twice (Q Upd Q): once to check it, again after taking the lease"
            " (payments/flows/cancellation.py);",
            "   the lease's UpdateItem could return the order it wrote (ReturnValues=ALL_NEW) instead.",
        ]
        without_cancel = sorted(
            {p.kit.display_name for p in provider_cases() if not p.kit.capabilities.cancels_unpaid_orders}
        )
        if without_cancel:
            lines.append(
                f"   {', '.join(without_cancel)}, with no cancel call, "
                "takes the lease and reads again with no provider call in between."
            )
    lines += [
        "",
        "4. Package sizes (sam build)",
        f"   {'':22}{'unzipped':>12}{'zipped':>12}  boto3/botocore bundled",
    ]
    for name, row in results["package_sizes"].items():
        lines.append(
            f"   {name:22}{_size(row['unzipped_bytes']):>12}{_size(row['zipped_bytes']):>12}  "
            f"{', '.join(row['bundles_boto']) or 'no'}"
        )
    lines += ["", "5. Side by side with the official SDKs (same inputs, same run)"]
    for name, row in results["sdk_comparison"].items():
        sdk = f"{row['sdk_us']:.1f}" if row["sdk_us"] is not None else "n/a"
        ratio = f"{row['sdk_over_ours']:.2f}x" if row["sdk_over_ours"] is not None else "n/a"
        lines.append(
            f"   {name:30} ours {row['ours_us']:8.1f} us   sdk {sdk:>8} us   sdk/ours {ratio}\n"
            f"   {'':30} ({row['note']})"
        )
    lines += ["", "6. Local stack throughput (informational)"]
    for mode, row in results["local_stack_throughput"].items():
        lines.append(
            f"   {mode:28} {row['per_second']:7.1f} notifications/s ({row['notifications']} in "
            f"{row['seconds']:.1f} s, {row['workers']} workers)"
        )
    if "reconciliation" in results:
        from bench.reconcile_cost import render as reconciliation

        lines += reconciliation(results["reconciliation"])
    if "merchant_events" in results:  # results.json from before this row have none
        row = results["merchant_events"]
        lines += [
            "",
            "8. Merchant events, commit to webhook received, local stack (informational)",
            f"   one change at a time ({row['quiet_orders']} orders): p50 {_ms(row['p50_ms'])}   "
            f"p99 {_ms(row['p99_ms'])}",
            f"   burst ({row['orders']} orders created and paid by {row['workers']} clients in "
            f"{row['burst_seconds']:.1f} s): {row['per_second']:.1f} events/s, p50 "
            f"{_ms(row['burst_p50_ms'])}   p99 {_ms(row['burst_p99_ms'])}",
            f"   events received in all: {row['events']} of {row['expected']}",
            f"   ({row['note']})",
        ]
    if "dev_session" in results:
        lines += _dev_session(results["dev_session"])
    if "operator_reads" in results:  # results.json from before this row have none
        lines += _operator_reads(results["operator_reads"])
    if "hot_keys" in results:
        from bench.hot_keys import render as hot_keys

        lines += hot_keys(results["hot_keys"])
    return "\n".join(lines)


# The steps `BENCH_STEPS` can run alone, and the section each prints.
SECTIONS = {"hot_keys": "bench.hot_keys"}


def render_steps(results: dict[str, Any], chosen: list[str]) -> str:
    """The chosen steps' sections (those that have one of their own) and their time and memory."""
    import importlib

    lines = _steps(results)
    for name in chosen:
        if name in SECTIONS:
            lines += importlib.import_module(SECTIONS[name]).render(results[name])
        else:
            lines += ["", f"{name}: see bench/results.json (the full table prints it with the others)"]
    return "\n".join(lines)


def _operator_reads(results: dict[str, Any]) -> list[str]:
    """GET /orders pages at two table sizes, and a day's movements: Query requests, items the Queries
    returned, moto's milliseconds (which grow with the table; DynamoDB's do not)."""
    lines = ["", "10. Operator reads (moto): Query requests / items read / ms; target: reads flat with size"]
    sizes = sorted(results["list"], key=int)
    for row in results["list"][sizes[0]]:
        cells = []
        for size in sizes:
            figure = results["list"][size].get(row)
            cells.append(
                f"{int(size):>7,} orders: {figure['queries']} q / {figure['items_read']} items / "
                f"{figure['ms']:.0f} ms"
                if figure
                else f"{int(size):>7,} orders: -"
            )
        lines.append(f"   {row:24}" + "   ".join(cells))
    day = results["day"]
    lines.append(
        f"   a day of {day['movements']:,} movements: {day['queries']} queries (at most "
        f"{day['items_per_query_at_most']} items each) / {day['items_read']} items / {day['ms']:.0f} ms"
    )
    return lines


def _steps(results: dict[str, Any]) -> list[str]:
    """Each step's wall time and peak resident memory (its own process, or the largest it waited for)."""
    peaks = results.get("peak_rss_mb")
    if not peaks:  # results.json from before these were measured
        return []
    lines = [
        "",
        "0. Each step in a process of its own: wall time, peak resident memory",
        f"   {'step':26}{'seconds':>9}{'peak MB':>9}  target < {PEAK_RSS_TARGET_MB} MB",
    ]
    for step, peak in peaks.items():
        lines.append(
            f"   {step:26}{results.get(step + '_seconds', 0.0):9.1f}{peak:9.0f}  "
            f"{_mark(peak < PEAK_RSS_TARGET_MB)}"
        )
    return lines


def _dev_session(row: dict[str, Any]) -> list[str]:
    points = "   ".join(f"{point['orders']:>5} orders {point['rss']:6.0f} MB" for point in row["checkpoints"])
    return [
        "",
        f"9. A long `make dev` session: the local stack's process ({row['mode']}), resident memory as orders"
        " are paid",
        f"   {points}",
        f"   growth after the first checkpoint: {row['growth_mb_per_1000_orders']:.1f} MB per 1,000 orders;"
        f" peak {row['checkpoints'][-1]['peak']:.0f} MB; the tables hold {row['items_held']:,} items",
        f"   ({row['orders']} orders created and paid by {row['workers']} clients in {row['seconds']:.0f} s,"
        f" {row['events']} of {row['expected_events']} merchant events received)",
    ]


NOTIFY_TARGET_MS = 2.0  # every provider's first notification, p50


def _notify_against_floor(rows: dict[str, Any], floor_ms: float, wire_ms: float | None) -> list[str]:
    """Each provider's first notification beside what botocore's client alone needs for its two round
    trips (and the table's wire, which the handlers use)."""
    wire = f"; the wire's {wire_ms:.2f} ms" if wire_ms is not None else ""
    lines = [
        f"   notify (first), p50 and its ratio to botocore's floor ({floor_ms:.2f} ms{wire}), "
        f"target <= {NOTIFY_TARGET_MS:g} ms:"
    ]
    for provider in provider_cases():
        row = rows.get(f"POST /notify (first) [{provider.label}]")
        if row:
            lines.append(
                f"     {provider.label:24}{row['p50_ms']:6.2f} ms {row['p50_ms'] / floor_ms:5.2f}x  "
                f"{_mark(row['p50_ms'] <= NOTIFY_TARGET_MS)}"
            )
    return lines


def _cheapest_missed_notify(rows: dict[str, Any]) -> tuple[ProviderCase, dict[str, Any]] | None:
    """The first provider with the lowest notify CPU target, when its first notification misses it."""
    targeted = [p for p in provider_cases() if p.notify_cpu_target_ms is not None]
    if not targeted:
        return None
    lowest = min(p.notify_cpu_target_ms or 0.0 for p in targeted)
    for provider in targeted:
        row = rows.get(f"POST /notify (first) [{provider.label}]")
        if provider.notify_cpu_target_ms == lowest and row and row["p50_ms"] > lowest:
            return provider, row
    return None


def _ms(value: float | None) -> str:
    return f"{value:,.0f} ms" if value is not None else "n/a"
