"""`make backfill`: the operator's index attributes set on the orders, refunds and audit events an
earlier version stored without them (payments/store/index_backfill.py), once, after an upgrade.

    make backfill STACK=<name>     a deployed stack: its table from the output OrdersTableName
    make backfill TABLE=<name>     a table by name
    options: SEGMENTS (parallel Scan segments, 4), PAGE_SIZE (items per Scan page, 100),
             RATE (requests a second at most, all segments together, 50)

Idempotent: a second run, or one run again after an interruption, updates only what is still missing.
Paced: at most RATE requests a second (Scan pages, reads of an order, updates), so that the table's
traffic keeps its capacity; the progress is printed every few seconds, the summary at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from local.deployed import stack_outputs

TABLE_OUTPUT = "OrdersTableName"
PROGRESS_EVERY_S = 5.0


class Pacer:
    """At most `rate` calls of `wait` a second, across threads: each waits for its slot."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.next_slot = clock()
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = self.clock()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class Progress:
    """The outcomes counted across segments, printed every PROGRESS_EVERY_S and at the end."""

    def __init__(self, print_line: Callable[[str], None]) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.print_line = print_line
        self.printed_at = time.monotonic()

    def add(self, outcome: str) -> None:
        with self.lock:
            self.counts["scanned"] += 1
            self.counts[outcome] += 1
            if time.monotonic() - self.printed_at >= PROGRESS_EVERY_S:
                self.printed_at = time.monotonic()
                self.print_line(self.line())

    def line(self) -> str:
        from payments.store.index_backfill import OUTCOMES

        return ", ".join(f"{self.counts[name]} {name}" for name in ("scanned", *OUTCOMES))


def backfill(
    table_name: str, segments: int, page_size: int, rate: float, print_line: Callable[[str], None]
) -> bool:
    """Every segment scanned in its own thread, the outcomes counted and printed; whether it finished."""
    from payments.errors import StoreUnavailable
    from payments.store.index_backfill import IndexBackfill
    from payments.store.table import Table

    pacer, progress = Pacer(rate), Progress(print_line)
    table = Table(table_name)  # one client, shared by the threads (botocore clients are thread-safe)

    def run(segment: int) -> None:
        worker = IndexBackfill(table, pacer.wait)
        for page in worker.pages(segment, segments, page_size):
            for item in page:
                progress.add(worker.fill(item))

    try:
        with ThreadPoolExecutor(max_workers=segments) as pool:
            list(pool.map(run, range(segments)))  # list(): a segment's exception is raised here
    except StoreUnavailable:
        print_line(
            "stopped: the table could not be read or written (it exists? your credentials may "
            "dynamodb:Scan, GetItem and UpdateItem it?); run it again: it does only what is left"
        )
        print_line("so far: " + progress.line())
        return False
    print_line("done: " + progress.line())
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", default=os.environ.get("STACK") or None)
    parser.add_argument("--table", default=os.environ.get("TABLE") or None)
    parser.add_argument("--segments", type=int, default=int(os.environ.get("SEGMENTS") or 4))
    parser.add_argument("--page-size", type=int, default=int(os.environ.get("PAGE_SIZE") or 100))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("RATE") or 50))
    args = parser.parse_args(argv)
    if bool(args.stack) == bool(args.table):
        parser.error("give STACK=<name> or TABLE=<name> (one of them)")
    if args.segments < 1 or args.page_size < 1 or args.rate <= 0:
        parser.error("SEGMENTS and PAGE_SIZE must be at least 1, RATE above 0")
    table = args.table or stack_outputs(args.stack, (TABLE_OUTPUT,))[TABLE_OUTPUT]
    print(
        f"backfilling the operator's index attributes in {table}: {args.segments} segments, "
        f"pages of {args.page_size}, at most {args.rate:g} requests a second",
        flush=True,
    )
    finished = backfill(table, args.segments, args.page_size, args.rate, lambda line: print(line, flush=True))
    return 0 if finished else 1


if __name__ == "__main__":
    sys.exit(main())
