"""moto fit for a long run (the bench, a test process, a `make dev` session): no request leaves
memory behind or makes the next one slower, and what DynamoDB does stays exact.

moto 5.2 as shipped:
- keeps every model object it ever made: `BaseModel.__new__` appends each one to its class's
  `instances_tracked` list (for the /moto-api dashboard), copies included: every DynamoDB item ever
  written or replaced, every copy a query or an update makes, every copy of a table, every SQS message
  ever deleted. Here models are made without it, so they live as long as something refers to them;
  but S3's, whose reset closes its objects' temporary files through that list;
- rolls a cancelled TransactWriteItems back by deep-copying each table it names before it starts
  (once per item of the transaction) and putting the copies in the tables' place: a transaction's
  cost grows with the table, and the copies were the growth above. Here a transaction notes what its
  items can change instead (each item it names as it was, whether its key existed, where each stream
  ended) and a cancelled one puts exactly that back: the table, its stream shard and every item it
  did not name stay the very same objects;
- answers a Query of the table (not of an index) by sorting every item of the table and keeping the
  partition's: a Query's cost grew with the table (6.8 ms at 1,200 items) and its walk through every
  item evicted the CPU caches our code and botocore's then ran in, so that what the bench measured of
  them grew with the table too (bench/README.md). Here such a Query reads its own partition's items,
  in the same order (moto sorts what it finds by the sort key next), as DynamoDB reads a partition;
- serialises nothing: a request in another thread (the moto server answers each in a thread of its
  own) could land in the middle of a transaction, and read its writes before it is cancelled, or
  write a stream record the undo would then cut (moto's own table copy failed outright: "dictionary
  changed size during iteration"). Here DynamoDB and DynamoDB Streams requests are answered one at a
  time: a transaction is isolated, as DynamoDB's are.
"""

from __future__ import annotations

import copy
import inspect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from moto.core.common_models import BaseModel
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

_TRACKED_MODULES = ("moto.s3.",)
_ANSWERING = threading.RLock()
_ABSENT = object()


@dataclass
class _TouchedItem:
    """One item a transaction names, as it was: restored if the transaction is cancelled."""

    table: Table
    hash_key: DynamoType
    range_key: DynamoType | None
    had_partition: bool  # a range-keyed table's partition (moto's reads create empty ones)
    before: Item | object  # a copy (an update changes the item in place), or _ABSENT
    order: list[DynamoType] | None  # the keys beside it in order, when a delete may move it

    def container(self) -> dict[Any, Any]:
        return self.table.items[self.hash_key] if self.range_key is not None else self.table.items

    def restore(self) -> None:
        if self.range_key is not None and not self.had_partition:
            self.table.items.pop(self.hash_key, None)  # everything under it is the transaction's
            return
        container = self.container()
        key = self.range_key if self.range_key is not None else self.hash_key
        if self.before is _ABSENT:
            container.pop(key, None)
        else:
            container[key] = self.before
        if self.order is not None:
            _reorder(container, self.order)


def _reorder(container: dict[Any, Any], order: list[Any]) -> None:
    """A deleted item put back where it was, not at the end (moto's Scan follows this order)."""
    entries = {key: container[key] for key in order if key in container}
    entries.update(container)
    container.clear()
    container.update(entries)


@dataclass
class _StreamEnd:
    shard: StreamShard
    records: list[StreamRecord]
    length: int

    def restore(self) -> None:
        del self.records[self.length :]
        self.shard.items = self.records


class _Undo:
    """What a transaction can change, noted before it starts."""

    def __init__(self, backend: DynamoDBBackend, transact_items: Iterable[dict[str, Any]]) -> None:
        self.items: list[_TouchedItem] = []
        self.streams: dict[str, _StreamEnd] = {}
        for transact_item in transact_items:
            op_type, op = next(iter(transact_item.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue  # moto refuses the item before writing anything for it
            if table.stream_shard is not None and table.name not in self.streams:
                shard = table.stream_shard
                self.streams[table.name] = _StreamEnd(shard, shard.items, len(shard.items))
            touched = _touched_item(backend, table, op_type, op)
            if touched is not None:
                self.items.append(touched)

    def restore(self) -> None:
        for touched in reversed(self.items):
            touched.restore()
        for stream in self.streams.values():
            stream.restore()


def _touched_item(
    backend: DynamoDBBackend, table: Table, op_type: str, op: dict[str, Any]
) -> _TouchedItem | None:
    """The item an operation names, read as moto reads it; None when moto cannot read the key, in which
    case moto fails that operation before it writes."""
    try:
        if op_type == "Put":
            names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
            key = {name: op["Item"][name] for name in names}
        else:
            key = op["Key"]
        hash_key, range_key = backend.get_keys_value(table, key)
    except Exception:  # the same failure moto meets, before it writes
        return None
    if range_key is not None:
        had_partition = hash_key in table.items
        container: dict[Any, Any] = table.items[hash_key] if had_partition else {}
        key_in_container: DynamoType = range_key
    else:
        had_partition = True
        container = table.items
        key_in_container = hash_key
    before = container.get(key_in_container, _ABSENT)
    return _TouchedItem(
        table=table,
        hash_key=hash_key,
        range_key=range_key,
        had_partition=had_partition,
        before=before if before is _ABSENT else copy.deepcopy(before),
        order=list(container) if op_type == "Delete" and before is not _ABSENT else None,
    )


class _TablesNotCopied:
    """`copy` as moto's DynamoDB backend module sees it: a table is not copied (the transaction's
    _Undo keeps what it can change), anything else is, as before."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _undone_when_cancelled(transact: Callable[..., None]) -> Callable[..., None]:
    @wraps(transact)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        undo = _Undo(self, transact_items)
        try:
            transact(self, transact_items)
        except BaseException:
            undo.restore()  # a refused transaction writes nothing, whatever refused it
            raise

    return transact_write_items


def _one_at_a_time(answer: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(answer)
    def call_action(*args: Any, **kwargs: Any) -> Any:
        with _ANSWERING:
            return answer(*args, **kwargs)

    return call_action


_every_item = Table.all_items
_QUERY = inspect.signature(Table.query)
_reading = threading.local()  # the (table, partition key) a base-table Query is reading


def _items_read(self: Table) -> list[Item]:
    """All items (Scan, an index's Query), or only the partition a base-table Query names."""
    partition = getattr(_reading, "partition", None)
    if partition is None or partition[0] is not self:
        return _every_item(self)
    hash_key = partition[1]
    if self.range_key_attr:
        return list(self.items.get(hash_key, {}).values())
    found = self.items.get(hash_key)
    return [found] if found is not None else []


def _partition_read(query: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(query)
    def read(self: Table, *args: Any, **kwargs: Any) -> Any:
        asked = _QUERY.bind(self, *args, **kwargs).arguments
        if asked.get("index_name") or asked.get("hash_key") is None:
            return query(self, *args, **kwargs)
        _reading.partition = (self, asked["hash_key"])
        try:
            return query(self, *args, **kwargs)
        finally:
            _reading.partition = None

    return read


_track = BaseModel.__new__


def _new_model(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
    if cls.__module__.startswith(_TRACKED_MODULES):
        return _track(cls, *args, **kwargs)
    return super(BaseModel, cls).__new__(cls)


def fit_moto_for_long_runs() -> None:
    """Install all of the above (idempotent)."""
    if BaseModel.__new__ is _new_model:
        return
    BaseModel.__new__ = staticmethod(_new_model)  # type: ignore[method-assign]
    dynamodb_models.copy = _TablesNotCopied  # type: ignore[attr-defined, assignment]
    DynamoDBBackend.transact_write_items = _undone_when_cancelled(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
    Table.all_items = _items_read  # type: ignore[method-assign]
    Table.query = _partition_read(Table.query)  # type: ignore[method-assign]
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        handler.call_action = _one_at_a_time(handler.call_action)  # type: ignore[method-assign]
