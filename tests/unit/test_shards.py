"""The fixed shards: stable, spread, and a merged read that pages every item exactly once."""

from collections import Counter

from payments.store.shards import SHARD_COUNT, every_shard, merged, shard_of, sharded


def test_a_key_keeps_its_shard() -> None:
    assert shard_of("order-1") == shard_of("order-1")
    assert sharded("DUE", "order-1") == f"DUE#{shard_of('order-1'):02d}"
    assert len(set(every_shard("DUE"))) == SHARD_COUNT


def test_no_shard_takes_more_than_a_sixteenth_of_ten_thousand_orders() -> None:
    counts = Counter(shard_of(f"order-{n}") for n in range(10_000))
    assert len(counts) == SHARD_COUNT
    assert max(counts.values()) < 10_000 / 16


def test_merged_pages_give_every_item_once_in_order() -> None:
    items = [f"{n:05d}" for n in range(1_000)]
    by_shard: dict[int, list[str]] = {}
    for item in items:
        by_shard.setdefault(shard_of(item), []).append(item)
    pages: list[list[str]] = []
    after = ""
    while True:
        page = merged(
            ([i for i in shard if i > after][:25] for shard in by_shard.values()), lambda i: i, limit=25
        )
        if not page:
            break
        pages.append(page)
        after = page[-1]
    assert [item for page in pages for item in page] == items
    newest = merged(
        (sorted(shard, reverse=True) for shard in by_shard.values()), lambda i: i, limit=3, newest_first=True
    )
    assert newest == ["00999", "00998", "00997"]
