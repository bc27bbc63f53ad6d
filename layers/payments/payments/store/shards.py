"""Fixed shards for the keys every order would otherwise share (the due index, the merchant-events
listing, the operator's indexes): a key's shard comes from the order or event id, so each shard gets
about 1/SHARD_COUNT of the writes whatever the rate, and a reader queries every shard and merges.

A merged read stays bounded and exact: each shard is queried after the page's cursor (the last sort key
returned, unique and ordered across shards) for at most `limit` items, and the merge keeps the first
`limit` of them in order, so every item is on exactly one page.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
from collections.abc import Callable, Iterable
from itertools import islice

# 32: the hottest of 10,000 orders' shards stays well under 1/16 of the writes (hash noise included),
# and a merged page costs 32 small queries (SHARD_COUNT in docs/capacity.md). Changing it re-keys items.
SHARD_COUNT = 32


@functools.lru_cache(maxsize=1024)  # one commit names its order's shard under every index's key
def shard_of(key: str) -> int:
    """The shard of an order or event id: stable across processes (unlike hash())."""
    digest = hashlib.blake2b(key.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % SHARD_COUNT


def sharded(prefix: str, key: str) -> str:
    """The partition key value of `key` under `prefix`: `<prefix>#<shard, two digits>`."""
    return f"{prefix}#{shard_of(key):02d}"


def every_shard(prefix: str) -> list[str]:
    """The partition key values a merged read queries."""
    return [f"{prefix}#{shard:02d}" for shard in range(SHARD_COUNT)]


def merged[T](
    shards: Iterable[Iterable[T]], sort_key: Callable[[T], str], *, limit: int, newest_first: bool = False
) -> list[T]:
    """The first `limit` items of already sorted per-shard results, in one order."""
    return list(islice(heapq.merge(*shards, key=sort_key, reverse=newest_first), limit))
