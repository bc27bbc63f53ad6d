"""`make bench`: cold start, per-request CPU, round trips, package sizes, SDK comparisons, local-stack
throughput, reconciliation's cost per item and per run, merchant events from commit to webhook, a long
`make dev` session's memory; each step in a process of its own, its wall time and peak resident
memory noted. Prints a table and writes bench/results.json.
Figures, not pass/fail: targets are shown beside them. Run on an otherwise idle machine; 2 cores here.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "payments")]

BUILD = ROOT / ".aws-sam" / "build"
RUNTIME_PYTHON = ROOT / ".venv-runtime" / "bin" / "python"
COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "15"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000"))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def functions() -> list[str]:
    """Every function in template.yaml, by logical id."""
    from local.testing import Template

    return [spec.logical_id for spec in Template().functions()]


# -- 1. cold start ---------------------------------------------------------------------------------
# Each script prints its wall time and its CPU time (ms) from its first line on. On a machine shared
# with other work the wall time also counts the time the process waited for a core; its CPU time
# does not, so the CPU ratios move far less with the load (an init is CPU-bound: imports and the
# clients' set-up, from files in the page cache).
CLOCKS = "import time; t, c = time.perf_counter(), time.process_time()\n"
ELAPSED = "\nprint((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)\n"
FLOOR_SCRIPT = (
    CLOCKS
    + """import botocore.session
botocore.session.get_session().create_client("dynamodb", region_name="eu-west-1")"""
    + ELAPSED
)
# The floor plus what the guide's choice of libraries costs any handler before it does anything:
# Powertools Logger, Metrics and the REST resolver (imported and built, as our handlers do).
POWERTOOLS_SCRIPT = (
    CLOCKS
    + """import botocore.session
botocore.session.get_session().create_client("dynamodb", region_name="eu-west-1")
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
Logger(); Metrics(); APIGatewayRestResolver()"""
    + ELAPSED
)
INIT_SCRIPT = CLOCKS + "import app" + ELAPSED


def _fresh_interpreter(script: str, cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    out = subprocess.run(
        [str(RUNTIME_PYTHON), "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


# What the functions' environments refer to, as deployed (any well-formed value: nothing is called).
COLD_REFS = {
    "OrdersTable": "orders",
    "OrdersTable.Arn": "arn:aws:dynamodb:eu-west-1:1:table/orders",
    "ProviderCredentialsSecret": "arn:aws:secretsmanager:eu-west-1:1:secret:providers",
    "WebhookSigningSecret": "arn:aws:secretsmanager:eu-west-1:1:secret:webhooks",
    "MerchantEventBus": "merchant-events",
    "WebhookQueue": "https://sqs.eu-west-1.amazonaws.com/1/webhooks.fifo",
    "WebhookDeadLetterQueue": "https://sqs.eu-west-1.amazonaws.com/1/webhooks-dlq.fifo",
}
COLD_PARAMETERS = {"WebhookUrl": "https://shop.example.com/webhooks"}  # the publisher makes both clients


def cold_start() -> dict[str, Any]:
    """Lambda's init: a fresh interpreter imports the handler (layer on the path) and runs module scope.
    The floor: a fresh interpreter that imports botocore and creates a DynamoDB client."""
    from local.testing import Template

    template = Template()
    refs = COLD_REFS
    base_env = {
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_SESSION_TOKEN": "x",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    layer = BUILD / "PaymentsLayer" / "python"
    specs = {spec.logical_id: spec for spec in template.functions()}
    samples: dict[str, list[tuple[float, float]]] = {
        "floor": [],
        "floor + Powertools": [],
        **{name: [] for name in specs},
    }

    def env_for(name: str) -> dict[str, str]:
        return {
            **base_env,
            **template.environment(specs[name], refs, COLD_PARAMETERS),
            "PYTHONPATH": f"{layer}:{BUILD / name}",
            "LAMBDA_TASK_ROOT": str(BUILD / name),
        }

    for _ in range(COLD_RUNS):  # interleaved, so drift hits all alike
        samples["floor"].append(_fresh_interpreter(FLOOR_SCRIPT, ROOT, base_env))
        samples["floor + Powertools"].append(
            _fresh_interpreter(POWERTOOLS_SCRIPT, ROOT, {**base_env, "PYTHONPATH": str(layer)})
        )
        for name in specs:
            samples[name].append(_fresh_interpreter(INIT_SCRIPT, BUILD / name, env_for(name)))
    floor = statistics.median(wall for wall, _ in samples["floor"])
    floor_cpu = statistics.median(cpu for _, cpu in samples["floor"])
    result: dict[str, Any] = {}
    for name, values in samples.items():
        walls, cpus = [wall for wall, _ in values], [cpu for _, cpu in values]
        result[name] = {
            "median_ms": statistics.median(walls),
            "p90_ms": percentile(walls, 0.9),
            "ratio_to_floor": statistics.median(walls) / floor,
            "cpu_median_ms": statistics.median(cpus),
            "cpu_ratio_to_floor": statistics.median(cpus) / floor_cpu,
            "runs": len(values),
        }
    result["breakdown_ms"] = _import_breakdown(env_for)
    return result


# Where a cold start goes: cumulative import time of the heavy packages, each counted where it is
# first imported (so nothing is counted twice), from `python -X importtime`, median of 5 runs.
BREAKDOWN = (
    "botocore.session",  # botocore's own package is a small __init__: its weight is the session's
    "boto3",
    "pydantic",
    "payments.api",
    "aws_lambda_powertools.event_handler.api_gateway",  # its package's __init__ never runs (coldstart.py)
    "aws_lambda_powertools.utilities.parameters",
    "requests",
    "cryptography",
)


def _import_breakdown(env_for: Callable[[str], dict[str, str]], runs: int = 5) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in BREAKDOWN}
    for _ in range(runs):
        out = subprocess.run(
            [str(RUNTIME_PYTHON), "-X", "importtime", "-c", "import app"],
            cwd=BUILD / "NotifyFunction",
            env=env_for("NotifyFunction"),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        seen: dict[str, float] = {}
        for line in out.stderr.splitlines():
            parts = line.split("|")
            if len(parts) != 3 or not parts[1].strip().isdigit():
                continue
            module = parts[2].strip()
            if module in BREAKDOWN and module not in seen:
                seen[module] = int(parts[1]) / 1000
        for name in BREAKDOWN:
            samples[name].append(seen.get(name, 0.0))
    return {name: statistics.median(values) for name, values in samples.items()}


# -- 4. package sizes -------------------------------------------------------------------------------
def package_sizes() -> dict[str, Any]:
    sizes: dict[str, Any] = {}
    for name in ("PaymentsLayer", *functions()):
        folder = BUILD / name
        files = [path for path in folder.rglob("*") if path.is_file()]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(folder))
        bundled = sorted(
            {
                p.relative_to(folder).parts[1]
                for p in files
                if len(p.relative_to(folder).parts) > 1
                and p.relative_to(folder).parts[1] in ("boto3", "botocore")
            }
        )
        sizes[name] = {
            "unzipped_bytes": sum(p.stat().st_size for p in files),
            "zipped_bytes": len(buffer.getvalue()),
            "files": len(files),
            "bundles_boto": bundled,
        }
    return sizes


# -- 5. side by side with the official SDKs ---------------------------------------------------------
def sdk_comparison(n: int = 2000) -> dict[str, Any]:
    """Each provider's own comparison with its official SDK (bench/providers/<name>/sdk_comparison.py)."""
    from bench.providers import sdk_comparisons

    return sdk_comparisons(n)


HANDLER_LOG = ROOT / ".local-logs" / "bench-handlers.log"


@contextmanager
def handlers_output_to(path: Path) -> Iterator[None]:
    """The in-process handlers' own output (a log line and an EMF metrics line per request, as on
    Lambda) goes to a file instead of burying the table: still written, so its CPU still counts."""
    path.parent.mkdir(exist_ok=True)
    sys.stdout.flush()
    saved = os.dup(1)
    with path.open("wb") as sink:
        os.dup2(sink.fileno(), 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _per_request_quietly() -> dict[str, Any]:
    from bench.requests_cost import per_request_cost

    with handlers_output_to(HANDLER_LOG):
        return per_request_cost()


def _reconciliation_quietly() -> dict[str, Any]:
    from bench.reconcile_cost import reconcile_cost

    with handlers_output_to(HANDLER_LOG):
        return reconcile_cost()


def _dev_session() -> dict[str, Any]:
    from bench.dev_session import dev_session_memory

    return dev_session_memory()


def _throughput() -> dict[str, Any]:
    from bench.throughput import local_stack_throughput

    return local_stack_throughput()


def _hot_keys_quietly() -> dict[str, Any]:
    from bench.hot_keys import hot_keys

    with handlers_output_to(HANDLER_LOG):
        return hot_keys()


def _merchant_events() -> dict[str, Any]:
    from bench.merchant_events import commit_to_webhook

    return commit_to_webhook()


def _operator_reads() -> dict[str, Any]:
    from bench.operator_reads import operator_reads

    return operator_reads()


STEPS: dict[str, Callable[[], dict[str, Any]]] = {
    "cold_start": cold_start,
    "package_sizes": package_sizes,
    "per_request": _per_request_quietly,
    "reconciliation": _reconciliation_quietly,
    "sdk_comparison": sdk_comparison,
    "local_stack_throughput": _throughput,
    "merchant_events": _merchant_events,
    "hot_keys": _hot_keys_quietly,
    "operator_reads": _operator_reads,
    "dev_session": _dev_session,
}


def _in_a_process_of_its_own(name: str) -> tuple[dict[str, Any], float]:
    """The step's results, and the peak resident memory of its largest process (MB): the step's own
    process, or any it started and waited for (a local stack, a fresh interpreter). One process per
    step, so no step's memory counts in another's."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        step = subprocess.Popen([sys.executable, "-m", "bench.run", "--step", name, str(out)], cwd=ROOT)
        _, status, usage = os.wait4(step.pid, 0)
        step.returncode = os.waitstatus_to_exitcode(status)
        if step.returncode != 0:
            raise SystemExit(f"bench: step {name} failed (exit {step.returncode})")
        return json.loads(out.read_text()), usage.ru_maxrss / 1024  # Linux: kB


def main(argv: list[str]) -> int:
    if argv[:1] == ["--step"]:  # one step, in the process the whole run started for it
        name, out = argv[1:3]
        Path(out).write_text(json.dumps(STEPS[name]()))
        return 0
    # BENCH_STEPS=hot_keys,dev_session: only those steps, their figures merged into bench/results.json.
    chosen = [name for name in os.environ.get("BENCH_STEPS", "").split(",") if name]
    unknown = [name for name in chosen if name not in STEPS]
    if unknown:
        raise SystemExit(f"bench: no step {', '.join(unknown)} (steps: {', '.join(STEPS)})")
    results: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]}}
    # Other work on the machine moves every figure: the 1-minute load average as each step starts,
    # and at the end, goes into the results and the table.
    loads: dict[str, float] = {}
    results["machine"]["load_1min"] = loads
    peaks: dict[str, float] = {}
    results["peak_rss_mb"] = peaks
    for name in chosen or STEPS:
        loads[name] = round(os.getloadavg()[0], 2)
        started = time.perf_counter()
        print(f"… {name}", file=sys.stderr, flush=True)
        if name in ("per_request", "reconciliation", "hot_keys"):
            print(
                f"  (the handlers' log and metrics lines: {HANDLER_LOG.relative_to(ROOT)})", file=sys.stderr
            )
        results[name], peaks[name] = _in_a_process_of_its_own(name)
        results[name + "_seconds"] = round(time.perf_counter() - started, 1)
    loads["end"] = round(os.getloadavg()[0], 2)
    from bench.report import render, render_steps

    if chosen:
        print(render_steps(results, chosen))
        results = _merged_into_the_last_run(results, chosen)
    else:
        print(render(results))
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2))
    return 0


def _merged_into_the_last_run(results: dict[str, Any], chosen: list[str]) -> dict[str, Any]:
    """The last full run's results with the chosen steps' figures (and their time and memory) replaced."""
    path = ROOT / "bench" / "results.json"
    last: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    for name in chosen:
        last[name] = results[name]
        last[name + "_seconds"] = results[name + "_seconds"]
        for figure in ("peak_rss_mb",):
            last.setdefault(figure, {})[name] = results[figure][name]
        last.setdefault("machine", results["machine"]).setdefault("load_1min", {})[name] = results["machine"][
            "load_1min"
        ][name]
    return last


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
