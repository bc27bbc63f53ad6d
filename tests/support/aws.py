"""The mocked AWS of a test process, made cheap to set up (speed only: nothing a test sees changes).

- One moto for the whole process (tests/conftest.py starts it): starting moto for every test cost
  ~0.4 s each, a new boto3 default session (whose clients then read every service model from disk
  again) and every backend rebuilt from nothing (a KMS key, i.e. an RSA key generation, for each
  encrypted table). Instead, `empty_stack_services` gives every test that provisions the stack a
  DynamoDB, Secrets Manager, SQS and EventBridge holding nothing but its own.
- One boto3 client per service for the tests' own calls (provisioning, reading the table back):
  making a client costs ~10 ms even from a warm session, and moto answers any client alike.
- One botocore data loader per process: a boto3 client made from a new session (Powertools'
  SecretsProvider makes one each time `parameters.clear_caches()` dropped it) parsed its service's
  JSON models again, ~0.1 s a client. The models are read-only data botocore already caches per loader.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from moto.backends import get_backend

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


def empty_stack_services() -> None:
    """The stack's services as moto starts them: no table, secret, queue or bus, in any account or region."""
    for service in STACK_SERVICES:
        for account_backends in get_backend(service).values():  # type: ignore[call-overload]
            account_backends.reset()
