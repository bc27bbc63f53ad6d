"""The mocked AWS of a test process: kept on this machine, and made cheap to set up.

- No AWS call leaves the machine: one that neither moto in-process nor a moto server on loopback
  answers fails at once (`keep_aws_calls_local`), and a run without moto (`WITHOUT_MOTO=1`, `make
  unit`) cannot import it (`forbid_moto`).
- One moto for the whole process, started by the first test that needs AWS (tests/conftest.py's
  `mocked_aws`, which `stack` asks for; such tests are marked `aws`): starting moto for every test cost
  ~0.4 s each, a new boto3 default session (whose clients then read every service model from disk
  again) and every backend rebuilt from nothing (a KMS key, i.e. an RSA key generation, for each
  encrypted table). Instead, `empty_stack_services` gives every test that provisions the stack a
  DynamoDB, Secrets Manager, SQS and EventBridge holding nothing but its own.
- One boto3 client per service for the tests' own calls (provisioning, reading the table back):
  making a client costs ~10 ms even from a warm session, and moto answers any client alike.
- One botocore data loader per process: a client made from a new session (the handlers' after
  `aws_clients.forget_session()`, or a test's own boto3 session) parsed its service's JSON models
  again, ~0.1 s a client. The models are read-only data botocore already caches per loader.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.httpsession
import botocore.loaders
import botocore.session
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse

# The AWS services the stack is provisioned in (local/template.py) and the only ones tests use
# (DynamoDB's streams are read from DynamoDB's backend).
STACK_SERVICES = ("dynamodb", "secretsmanager", "sqs", "events")

_loaders: dict[Any, botocore.loaders.Loader] = {}
_loaders_lock = threading.Lock()
_create_loader = botocore.loaders.create_loader


def _shared_loader(search_path_string: Any = None) -> botocore.loaders.Loader:
    with _loaders_lock:
        loader = _loaders.get(search_path_string)
        if loader is None:
            loader = _loaders[search_path_string] = _create_loader(search_path_string)
        return loader


def share_botocore_data_loader() -> None:
    """Every botocore session of this process reads service models through one cached loader."""
    botocore.session.create_loader = _shared_loader


@functools.cache
def client(service: str) -> Any:
    """The tests' own client of `service` (the handlers make theirs, as on Lambda)."""
    return boto3.client(service)  # type: ignore[call-overload]


def clear_parameter_caches() -> None:
    """The handlers' cached secrets and their client dropped: the next read asks again."""
    from payments import secret_values

    secret_values.clear_cache()


def empty_stack_services() -> None:
    """The stack's services as moto starts them: no table, secret, queue or bus, in any account or region."""
    from moto.backends import get_backend

    for service in STACK_SERVICES:
        for account_backends in get_backend(service).values():  # type: ignore[call-overload]
            account_backends.reset()


LOOPBACK = ("127.0.0.1", "localhost", "::1")


class AwsCallOutsideMoto(RuntimeError):
    """An AWS call that no moto answered: the test needs `mocked_aws` (directly or through `stack`)."""


_send = botocore.httpsession.URLLib3Session.send
REFUSED: list[str] = []  # every call refused, so that a test whose code swallowed one fails anyway


def _send_to_loopback_only(
    sender: botocore.httpsession.URLLib3Session, request: AWSRequest | AWSPreparedRequest
) -> AWSResponse:
    host = urlsplit(request.url or "").hostname
    if host not in LOOPBACK:
        REFUSED.append(
            f"{request.method} {host}: an AWS call with no moto to answer it (a test that calls AWS "
            "asks for the `mocked_aws` or `stack` fixture)"
        )
        raise AwsCallOutsideMoto(REFUSED[-1])
    return _send(sender, request)


def keep_aws_calls_local() -> None:
    """Botocore's HTTP sender (reached only when moto in-process did not answer) sends to loopback
    only, i.e. to a moto server: an AWS call with no moto fails at once instead of leaving the machine."""
    # botocore's own sender, replaced on its class (a method assigned: mypy checks it as if bound)
    botocore.httpsession.URLLib3Session.send = _send_to_loopback_only  # type: ignore[method-assign,assignment]


class NoMotoFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] == "moto":
            raise ImportError(f"{fullname}: this run is without moto (WITHOUT_MOTO=1)", name=fullname)
        return None


def forbid_moto() -> None:
    """Make moto unimportable in this process: a run of the tests that need no AWS proves it."""
    loaded = sorted(name for name in sys.modules if name.partition(".")[0] == "moto")
    if loaded:
        raise RuntimeError(f"moto is already imported ({loaded[0]}): WITHOUT_MOTO=1 came too late")
    sys.meta_path.insert(0, NoMotoFinder())
