"""The `sam local invoke` steps of events/README.md, as far as they go without Docker: make invoke picks
the function each event routes to, refuses an env-vars file with placeholders left, and sam itself
(the one make installed) reads our template, event and env-vars file and gives each function the
deployed table and secret; it then stops where it needs a container runtime.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local.testing import ROOT, kits
from tests.e2e.conftest import BUILD, require_build

SAM = ROOT / ".venv-sam" / "bin" / "sam"
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
EVENTS = ROOT / "events"
# Every provider's sample events (events/<provider>/<what>.json), and one to invoke for the checks that
# need only some event.
SAMPLE_EVENTS = sorted(
    path.relative_to(ROOT).as_posix()
    for path in [*EVENTS.glob("*/*.json"), *EVENTS.glob("*.json")]
    if '"httpMethod"' in path.read_text() or '"aws.scheduler"' in path.read_text()
)
A_CREATE_EVENT = f"events/{min(kits())}/create_order.json"
A_GET_EVENT = f"events/{min(kits())}/get_order.json"
DEPLOYED = {
    "ORDERS_TABLE_NAME": "alipay-payments-OrdersTable-1A2B3C4D5E6F",
    "PROVIDER_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:Credentials-AbCdEf",
    "PUBLIC_BASE_URL": "https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1",
    "EVENT_BUS_NAME": "alipay-payments-merchant-events",
    "WEBHOOK_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/alipay-payments-WebhookQueue.fifo",
    "WEBHOOK_DEAD_LETTER_QUEUE_URL": (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/alipay-payments-WebhookDeadLetterQueue.fifo"
    ),
    "WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:WebhookSigning-AbCdEf",
    "WEBHOOK_URL": "https://merchant.example/payments-events",
}
EXPECTED_FUNCTION = {
    "create_order": "CreateOrderFunction",
    "get_order": "GetOrderFunction",
    "notify": "NotifyFunction",
    "refund_order": "OrderActionsFunction",
    "cancel_order": "OrderActionsFunction",
    "sync_order": "OrderActionsFunction",
    "reconcile_scheduled": "ReconcileFunction",
    "find_orders": "OperatorReadsFunction",
    "daily_report": "OperatorReadsFunction",
    "rejected_": "DoctorFunction",
}


def filled_env_vars(tmp_path: Path) -> Path:
    """events/env.json with the placeholders replaced by a deployed stack's outputs."""
    sample = json.loads((EVENTS / "env.json").read_text())
    filled = {name: {key: DEPLOYED[key] for key in variables} for name, variables in sample.items()}
    path = tmp_path / "env.json"
    path.write_text(json.dumps(filled))
    return path


def invoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "events.invoke", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("event", SAMPLE_EVENTS)
def test_each_event_is_sent_to_the_function_of_its_route(event: str, tmp_path: Path) -> None:
    result = invoke(event, "--env-vars", str(filled_env_vars(tmp_path)), "--print")
    assert result.returncode == 0, result.stderr
    function = next(fn for prefix, fn in EXPECTED_FUNCTION.items() if Path(event).name.startswith(prefix))
    assert f"local invoke {function} --event {event} --env-vars " in result.stdout


def test_every_provider_has_sample_events() -> None:
    assert {Path(event).parent.name for event in SAMPLE_EVENTS} == {*kits(), "events"}


def test_the_committed_sample_is_refused_until_filled_in() -> None:
    result = invoke(A_CREATE_EVENT, "--print")
    assert result.returncode == 2
    placeholders = (
        "EVENT_BUS_NAME, ORDERS_TABLE_NAME, PROVIDER_SECRET_ARN, PUBLIC_BASE_URL, "
        "WEBHOOK_DEAD_LETTER_QUEUE_URL, WEBHOOK_QUEUE_URL"
    )
    assert f"still placeholders: {placeholders}, WEBHOOK_SECRET_ARN, WEBHOOK_URL" in result.stderr
    assert "sam list stack-outputs" in result.stderr


def test_bad_input_is_named(tmp_path: Path) -> None:
    assert "cannot read it" in invoke("events/nope.json", "--print").stderr
    wrong = tmp_path / "env.json"
    wrong.write_text('{"CreateOrder": {"ORDERS_TABLE_NAME": "t"}}')
    reply = invoke(A_GET_EVENT, "--env-vars", str(wrong), "--print")
    assert "names no such function: CreateOrder" in reply.stderr


# Run by sam's own Python: the environment `sam local invoke` would give each function.
RESOLVE = """
import json, sys
from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

stacks, _ = SamLocalStackProvider.get_stacks(sys.argv[1])
provider = SamFunctionProvider(stacks)
with open(sys.argv[2]) as env_vars:
    runner = LocalLambdaRunner(None, provider, cwd=".", real_path=".", env_vars_values=json.load(env_vars))
print(json.dumps({f.name: runner._make_env_vars(f).resolve() for f in provider.get_all()}))
"""


def test_sam_gives_each_function_the_deployed_table_and_secret(tmp_path: Path) -> None:
    require_build()
    result = subprocess.run(
        [str(SAM_PYTHON), "-c", RESOLVE, str(BUILD / "template.yaml"), str(filled_env_vars(tmp_path))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
        },
    )
    assert result.returncode == 0, result.stderr
    environments = json.loads(result.stdout)
    assert set(environments) == {
        "CreateOrderFunction",
        "GetOrderFunction",
        "NotifyFunction",
        "OrderActionsFunction",
        "ReconcileFunction",
        "PublishEventsFunction",
        "DeliverWebhooksFunction",
        "EventsApiFunction",
        "OperatorReadsFunction",
        "ConsoleFunction",  # reads nothing: not in env.json (the table's name it has from Globals is unused)
        "DoctorFunction",
    }
    for name, env in environments.items():
        if name == "ConsoleFunction":
            continue
        assert env["ORDERS_TABLE_NAME"] == DEPLOYED["ORDERS_TABLE_NAME"], name
    for name in (
        "CreateOrderFunction",
        "NotifyFunction",
        "OrderActionsFunction",
        "ReconcileFunction",
        "DoctorFunction",
    ):
        assert environments[name]["PROVIDER_SECRET_ARN"] == DEPLOYED["PROVIDER_SECRET_ARN"]
    for name in ("CreateOrderFunction", "OrderActionsFunction"):
        assert environments[name]["PUBLIC_BASE_URL"] == DEPLOYED["PUBLIC_BASE_URL"]
    for name in ("PublishEventsFunction", "DeliverWebhooksFunction", "EventsApiFunction"):
        assert environments[name]["WEBHOOK_QUEUE_URL"] == DEPLOYED["WEBHOOK_QUEUE_URL"], name
    assert environments["DeliverWebhooksFunction"]["WEBHOOK_SECRET_ARN"] == DEPLOYED["WEBHOOK_SECRET_ARN"]
    assert "PROVIDER_SECRET_ARN" not in environments["GetOrderFunction"]  # least privilege, as deployed


def _container_runtime_running() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.mark.skipif(_container_runtime_running(), reason="with Docker running, sam would really invoke it")
def test_sam_local_invoke_accepts_everything_and_stops_at_the_container(tmp_path: Path) -> None:
    require_build()
    result = subprocess.run(
        [
            str(SAM),
            "local",
            "invoke",
            "CreateOrderFunction",
            "--event",
            A_CREATE_EVENT,
            "--env-vars",
            str(filled_env_vars(tmp_path)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_EC2_METADATA_DISABLED": "true"},
    )
    assert result.returncode != 0
    assert "requires a container runtime" in result.stderr, result.stderr
