"""What a function's init (importing its handler, as Lambda does) must not load: each of these was a
measured share of the cold start (bench/run.py's cold-start step; bench/README.md) and none is
needed before a request asks for it.

- boto3 (and s3transfer, which it imports): the layer makes botocore clients (payments/aws_clients.py)
  and reads secrets with one (payments/secret_values.py), so Powertools Parameters is not loaded.
- pydantic: the provider settings load with the first adapter a request builds
  (payments/providers/settings.py), the request models in the routes that read one.
- requests and cryptography: with the first provider call, and only for providers that sign with RSA.
- the doctor's diagnosis of a refused notification (payments/providers/diagnosis.py, and the refusal
  codes of payments/refusals.py): on the refusal path only.
- Powertools' other resolvers (AppSync and with it asyncio, Bedrock agents, VPC Lattice): in Lambda
  the `event_handler` package is imported without its `__init__` (payments/coldstart.py); the
  handlers use the REST resolver's module only.

And every handler ends its init with `coldstart.init_done()`: in Lambda the garbage collector is paused
while init runs (payments/coldstart.py), and a handler that forgot would leave it off for good.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.run import COLD_PARAMETERS, COLD_REFS
from local.testing import ROOT, Template

NOT_AT_INIT = (
    "boto3",
    "s3transfer",
    "pydantic",
    "aws_lambda_powertools.utilities.parameters",
    "requests",
    "cryptography",
    "payments.providers.diagnosis",
    "payments.refusals",
    "aws_lambda_powertools.event_handler.appsync",
    "aws_lambda_powertools.event_handler.vpc_lattice",
)
TEMPLATE = Template()
FUNCTIONS = {spec.logical_id: spec for spec in TEMPLATE.functions()}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_init_loads_none_of_what_a_request_may_load_later(function: str) -> None:
    spec = FUNCTIONS[function]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        **TEMPLATE.environment(spec, COLD_REFS, COLD_PARAMETERS),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "payments"), str(ROOT / spec.code_uri)]),
        "LAMBDA_TASK_ROOT": str(ROOT / spec.code_uri),  # as in Lambda: the collector paused during init
    }
    code = (
        "import gc, sys; before = gc.get_freeze_count(); import app; "
        f"print(' '.join(m for m in {NOT_AT_INIT!r} if m in sys.modules) or '-', "
        "gc.isenabled(), gc.get_freeze_count() > before)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT / spec.code_uri, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    loaded, collecting, frozen = out.stdout.split()
    assert loaded == "-"
    assert (collecting, frozen) == ("True", "True"), "the handler module ends without coldstart.init_done()"


def test_outside_lambda_importing_the_layer_leaves_the_collector_alone() -> None:
    code = (
        "import gc; before = gc.get_freeze_count(); import payments.web; "
        "print(gc.isenabled(), gc.get_freeze_count() - before)"
    )
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "layers" / "payments")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "0"]


@pytest.mark.parametrize("function", ["NotifyFunction", "CreateOrderFunction"])
def test_a_snapshot_init_loads_what_the_first_request_would(function: str) -> None:
    """Under SnapStart (or provisioned concurrency) nobody waits for init: the handler preloads what
    its requests load later, so that it is in the snapshot."""
    spec = FUNCTIONS[function]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "eu-west-1",
        **TEMPLATE.environment(spec, COLD_REFS, COLD_PARAMETERS),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "payments"), str(ROOT / spec.code_uri)]),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
    }
    code = "import sys, app; print(all(m in sys.modules for m in ('pydantic', *app.LOADED_BY_REQUESTS)))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT / spec.code_uri, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "True"


def in_lambda(code: str) -> str:
    """`code`'s output, run where the layer believes it is in Lambda (its init's deferrals on)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT / "layers" / "payments"),
        "LAMBDA_TASK_ROOT": str(ROOT),
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_the_deferred_resolvers_package_still_gives_every_name_it_has() -> None:
    """A name the package's __init__ re-exports is the submodule's own object, and loads only it."""
    code = """
import sys, payments, aws_lambda_powertools.event_handler as package
from aws_lambda_powertools.event_handler.api_gateway import Response
deferred = "aws_lambda_powertools.event_handler.appsync" not in sys.modules
from aws_lambda_powertools.event_handler import AppSyncResolver, Response as Exported
from aws_lambda_powertools.event_handler import content_types
print(deferred, Exported is Response, package is sys.modules[package.__name__],
      AppSyncResolver.__module__, content_types.__name__,
      "aws_lambda_powertools.event_handler.bedrock_agent" in sys.modules)
"""
    assert in_lambda(code).split() == [
        "True",
        "True",
        "True",
        "aws_lambda_powertools.event_handler.appsync",
        "aws_lambda_powertools.event_handler.content_types",
        "False",
    ]


def test_a_name_the_deferred_package_does_not_have_is_an_import_error() -> None:
    code = """
import payments
try:
    from aws_lambda_powertools.event_handler import NoSuchResolver
except ImportError as error:
    print(type(error).__name__, "NoSuchResolver" in str(error))
"""
    assert in_lambda(code).split() == ["ImportError", "True"]


def test_in_lambda_the_resolver_still_answers_a_request() -> None:
    """The layer's app, built from the REST resolver's own module, routes and answers as before."""
    code = """
import json, payments
from payments import web
app = web.create_app()
@app.get("/ping")
def ping():
    return web.json_response(200, {"pong": True})
event = {"httpMethod": "GET", "path": "/ping", "resource": "/ping", "headers": {}, "body": None,
         "requestContext": {"requestId": "r-1", "stage": "prod"}, "pathParameters": None}
answer = app.resolve(event, None)
missing = app.resolve({**event, "path": "/nothing", "resource": "/nothing"}, None)
print(answer["statusCode"], json.loads(answer["body"])["pong"], missing["statusCode"])
"""
    assert in_lambda(code).split() == ["200", "True", "404"]
