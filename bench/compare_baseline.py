"""Benchmark: compare a 100,000-item baseline with a snapshot where 1% of the items changed.

    .venv/bin/python bench/compare_baseline.py [--items 100000] [--changed 0.01] [--no-naive]

Prints, for hubaudit's comparison (hashes first, deepdiff only on the items whose hash moved):
wall time and peak traced memory, once on payloads in memory and once read back from a SQLite
store as `audit` does; and, measured in the same run, a naive deepdiff of the whole payload set
(every item, keyed by item key) with its time and peak memory. Targets (issue 6): under 3 s and
under 500 MB, and far ahead of the naive way.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from deepdiff import DeepDiff

from hubaudit.analysis.canonical import make_item
from hubaudit.analysis.compare import compare
from hubaudit.model.items import ConfigItem, CoverageStatus, Kind, KindCoverage, StoredItem
from hubaudit.store.engine import make_engine, upgrade
from hubaudit.store.repository import Store

T = TypeVar("T")


def payload(i: int, version: int = 0) -> dict[str, Any]:
    return {
        "name": f"p{i}",
        "label": f"Property {i}" + (" (renamed)" if version else ""),
        "type": "enumeration",
        "fieldType": "select",
        "groupName": f"group_{i % 40}",
        "description": f"Description of property {i}",
        "displayOrder": i % 100 + version,
        "hidden": False,
        "formField": True,
        "hasUniqueValue": False,
        "options": {
            f"v{k}": {"label": f"Value {k}", "displayOrder": k, "hidden": False, "description": ""}
            for k in range(i % 6)
        },
        "modificationMetadata": {"archivable": True, "readOnlyDefinition": False},
    }


def items(count: int, changed: set[int]) -> tuple[list[ConfigItem], list[ConfigItem]]:
    before, after = [], []
    for i in range(count):
        key = f"property:obj{i % 20}:p{i}"
        before.append(make_item(Kind.PROPERTY, key, payload(i), payload(i)))
        body = payload(i, 1 if i in changed else 0)
        after.append(make_item(Kind.PROPERTY, key, body, body))
    return before, after


def measured(run: Callable[[], T]) -> tuple[T, float, float]:
    gc.collect()
    started = time.perf_counter()
    result = run()
    wall = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    run()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, wall, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--no-naive", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    changed = set(rng.sample(range(args.items), int(args.items * args.changed)))
    before, after = items(args.items, changed)
    scopes = {f"property:obj{n}": () for n in range(20)}
    bodies = {i.canonical_hash: i.canonical for i in before + after}

    def as_stored(group: list[ConfigItem]) -> dict[str, StoredItem]:
        return {i.key: StoredItem(i.kind, i.key, i.canonical_hash, i.raw_hash) for i in group}

    baseline, snapshot = as_stored(before), as_stored(after)

    def load(hashes: Any) -> dict[str, Any]:
        return {h: bodies[h] for h in hashes}

    result, wall, peak = measured(lambda: compare(baseline, snapshot, scopes, load))
    print(f"{args.items} items, {len(changed)} changed ({args.changed:.0%})")
    print(
        f"hubaudit, in memory:    {len(result.changes)} field changes in {wall:.2f} s, "
        f"peak {peak:.0f} MB"
    )

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        store = Store(engine)
        coverage = [KindCoverage(Kind.PROPERTY, s, CoverageStatus.COMPLETE, 0) for s in scopes]
        now = datetime.now(UTC)
        first = store.save_snapshot("bench", now, coverage, before)
        second = store.save_snapshot("bench", now, coverage, after)

        def from_store() -> Any:
            return compare(
                store.snapshot_items(first.id),
                store.snapshot_items(second.id),
                scopes,
                store.load_payloads,
            )

        stored_result, stored_wall, stored_peak = measured(from_store)
        engine.dispose()
    print(
        f"hubaudit, from SQLite:  {len(stored_result.changes)} field changes in "
        f"{stored_wall:.2f} s, peak {stored_peak:.0f} MB (target < 3 s, < 500 MB)"
    )

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS so far (data, store and comparisons): {rss:.0f} MB")

    if not args.no_naive:
        whole_before = {i.key: i.canonical for i in before}
        whole_after = {i.key: i.canonical for i in after}
        gc.collect()
        started = time.perf_counter()
        naive = DeepDiff(whole_before, whole_after, threshold_to_diff_deeper=0)
        naive_wall = time.perf_counter() - started
        found = sum(len(v) for v in naive.values())
        naive_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"naive deepdiff of all:  {found} differences in {naive_wall:.2f} s "
            f"(process peak RSS {naive_rss:.0f} MB); hubaudit in memory is "
            f"{naive_wall / wall:.0f}x faster, from SQLite {naive_wall / stored_wall:.0f}x"
        )


if __name__ == "__main__":
    main()
