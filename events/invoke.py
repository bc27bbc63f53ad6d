"""`make invoke EVENT=events/<provider>/<what>.json`: `sam local invoke` of the function that event's
route reaches, against the deployed table and secret named in an --env-vars file (default
events/env.json).

Needs Docker (sam runs the function in Lambda's image) and AWS credentials that can reach the stack.
Checks what it can first, so that a mistake fails here with one line rather than inside a container:
the event file, the function it routes to, and an env-vars file without placeholders left in it.
`--print` shows the sam command instead of running it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.testing import (  # noqa: E402
    Template,
    match_route,
)

SAM = ROOT / ".venv-sam" / "bin" / "sam"
DEFAULT_ENV_VARS = ROOT / "events" / "env.json"
OUTPUTS_HINT = ".venv-sam/bin/sam list stack-outputs --stack-name alipay-payments --region eu-west-1"


class InvokeError(Exception):
    """What is wrong, and what to do about it, in one line."""


def load_event(path: Path) -> dict[str, Any]:
    try:
        event = json.loads(path.read_text())
    except OSError as exc:
        raise InvokeError(
            f"EVENT={path}: cannot read it ({exc.strerror or exc}); see events/README.md"
        ) from None
    except ValueError as exc:
        raise InvokeError(f"EVENT={path} is not JSON ({exc})") from None
    if not isinstance(event, dict) or ("httpMethod" not in event and event.get("source") != SCHEDULER):
        raise InvokeError(
            f"EVENT={path} is neither an API Gateway proxy event (no httpMethod) nor a scheduled one"
        )
    return event


SCHEDULER = "aws.scheduler"  # the `source` of what EventBridge Scheduler sends a scheduled function


def function_for(event: dict[str, Any], template: Template) -> str:
    """The logical id of the function the event's route reaches, as API Gateway would route it; for a
    scheduled event, the template's scheduled function."""
    specs = template.functions()
    if event.get("source") == SCHEDULER:
        scheduled = [spec.logical_id for spec in specs if spec.scheduled]
        if len(scheduled) != 1:
            raise InvokeError(f"template.yaml has {len(scheduled)} scheduled functions: say which with sam")
        return scheduled[0]
    path = str(event.get("resource") or event.get("path") or "")
    method = str(event["httpMethod"])
    for spec in specs:
        if match_route(spec.routes, method, path):
            return spec.logical_id
    raise InvokeError(f"no function in template.yaml serves {method} {path}")


def check_env_vars(path: Path, template: Template) -> None:
    """An env-vars file sam can use: {FunctionLogicalId: {VARIABLE: value}}, every value filled in."""
    try:
        values = json.loads(path.read_text())
    except OSError as exc:
        raise InvokeError(
            f"ENV_VARS={path}: cannot read it ({exc.strerror or exc}); start from events/env.json"
        ) from None
    except ValueError as exc:
        raise InvokeError(f"ENV_VARS={path} is not JSON ({exc})") from None
    functions = {spec.logical_id for spec in template.functions()}
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise InvokeError(
            f'ENV_VARS={path} must look like {{"CreateOrderFunction": {{"ORDERS_TABLE_NAME": …}}}}'
        )
    unknown = sorted(set(values) - functions - {"Parameters"})
    if unknown:
        raise InvokeError(f"ENV_VARS={path} names no such function: {', '.join(unknown)}")
    placeholders = sorted(
        {
            key
            for variables in values.values()
            for key, value in variables.items()
            if not isinstance(value, str) or value.startswith("<")
        }
    )
    if placeholders:
        raise InvokeError(
            f"fill in {path} from your deployed stack's outputs ({OUTPUTS_HINT}); "
            f"still placeholders: {', '.join(placeholders)}"
        )


def command(sam: Path, function: str, event: Path, env_vars: Path, extra: list[str]) -> list[str]:
    return [str(sam), "local", "invoke", function, "--event", str(event), "--env-vars", str(env_vars), *extra]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("event", type=Path, help="a sample event, e.g. events/<provider>/create_order.json")
    parser.add_argument("--env-vars", type=Path, default=DEFAULT_ENV_VARS)
    parser.add_argument("--sam", type=Path, default=SAM)
    parser.add_argument("--print", action="store_true", help="print the sam command instead of running it")
    parser.add_argument("--sam-args", default="", help="more sam local invoke options, e.g. '--profile x'")
    args = parser.parse_args(argv)
    template = Template()
    try:
        function = function_for(load_event(args.event), template)
        check_env_vars(args.env_vars, template)
    except InvokeError as exc:
        print(f"make invoke: {exc}", file=sys.stderr)
        return 2
    argv_out = command(args.sam, function, args.event, args.env_vars, shlex.split(args.sam_args))
    if args.print:
        print(shlex.join(argv_out))
        return 0
    shown = [os.path.relpath(argv_out[0]), *argv_out[1:]]
    print(f"make invoke: {shlex.join(shown)}", flush=True)
    os.execv(argv_out[0], argv_out)  # noqa: S606 - sam from .venv-sam, with checked arguments


if __name__ == "__main__":
    sys.exit(main())
