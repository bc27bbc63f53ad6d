"""Keep moto's transactions fast on tables with a stream.

moto rolls a failed TransactWriteItems back by deep-copying every table it touches beforehand, once
per item of the transaction. A table's copy includes its stream shard, and moto never trims a stream
(DynamoDB keeps 24 hours), so each transaction copies every stream record the table ever produced:
a long test session or a long-running local stack gets slower with every change.

Stream records are never changed once written, so a copy of the shard may share them; only the list
is copied, which keeps a rollback exact. Nothing else about moto's behaviour changes.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.models.table import StreamShard


def _copy_shard(self: StreamShard, memo: dict[int, Any]) -> StreamShard:
    twin = copy.copy(self)
    memo[id(self)] = twin
    twin.table = copy.deepcopy(self.table, memo)
    twin.items = list(self.items)  # the records themselves are immutable: shared
    return twin


def share_stream_records() -> None:
    """Install the cheaper copy (idempotent)."""
    StreamShard.__deepcopy__ = _copy_shard  # type: ignore[attr-defined]
