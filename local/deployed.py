"""A deployed stack's outputs (template.yaml's Outputs), for the operator's commands that take
STACK=<name> (`make doctor`, `make backfill`), with the caller's AWS credentials."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def stack_outputs(name: str, wanted: Sequence[str]) -> dict[str, str]:
    """The outputs `wanted` of the stack `name`; SystemExit saying why when it is unreadable or lacks one."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        described: Any = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except (ClientError, BotoCoreError) as error:
        raise SystemExit(f"stack {name}: {error}") from None
    outputs = {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}
    missing = [output for output in wanted if output not in outputs]
    if missing:
        raise SystemExit(
            f"stack {name} has no output {', '.join(missing)}: is it this bundle, deployed (make deploy)?"
        )
    return {output: str(outputs[output]) for output in wanted}
