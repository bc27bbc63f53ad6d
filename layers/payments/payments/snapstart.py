"""What must run after Lambda SnapStart restores a function from its snapshot.

With SnapStart on (template parameter EnableSnapStart), Lambda runs the init code once, when a version
is published, snapshots the memory, and resumes every new execution environment from that snapshot,
possibly days later. Whatever init left in memory is then shared by every restored copy:

- `random`'s generator state: every copy would draw the same backoff jitter (payments/store/table.py),
  so retries after a conflict would collide again. Reseeded from the OS. (Ids and nonces — `uuid4`,
  `secrets` — read the kernel's generator on every call, which Lambda keeps unique across restores.)
- Credentials: the botocore session clients are made from (payments/aws_clients.py) keeps what it
  resolved at init, and payments/secret_values.py caches the secrets and its Secrets Manager client.
  Both are dropped, so clients made from now on resolve AWS credentials afresh and the provider
  credentials (perhaps rotated since) are read again. A client made at init (the orders store's,
  and the credentials its wire signs with: payments/store/wire.py) keeps its own: under SnapStart
  Lambda serves credentials from its container-credentials endpoint, which botocore refreshes before
  they expire.
- Pooled connections to the providers: their sockets did not survive the snapshot. Closed.

The hooks are registered with `snapshot_restore_py`, which Lambda's Python runtime provides (with
awslambdaric); without it (tests, the local stack in-process) registering does nothing, and without
SnapStart the runtime never calls them. Modules the function never imported are left alone, so the
get function still loads neither requests nor the secrets' cache.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable

_registered: list[Callable[[], None]] = []


def refresh_after_restore() -> None:
    from payments import aws_clients  # every function has it loaded already (the orders store)

    random.seed()  # from os.urandom
    aws_clients.forget_session()  # the next client resolves credentials again
    secrets = sys.modules.get("payments.secret_values")
    if secrets is not None:
        secrets.clear_cache()  # cached values and their client
    http = sys.modules.get("payments.http")
    if http is not None:
        http.default_http().drop_connections()


def register_runtime_hooks() -> bool:
    """Register `refresh_after_restore` with the Lambda runtime, once per process. Call it at module
    level in every handler. True if the runtime's hook library is there."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return False
    if refresh_after_restore not in _registered:
        register_after_restore(refresh_after_restore)
        _registered.append(refresh_after_restore)
    return True
