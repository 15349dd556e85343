"""Benchmark: compare a 100,000-item baseline from the database with a snapshot where a
realistic mix of 1% of the items changed, and check that it stays linear up to 300,000.

    .venv/bin/python bench/compare_baseline.py [--items 100000] [--scale 300000]
                                               [--changed 0.01] [--no-deepdiff]
                                               [--compare-src OTHER_CHECKOUT/src]

The portal holds properties with options, pipelines with stages, workflows with actions, users,
teams and property groups, in their canonical forms (the collectors' own canonicalisers). The
snapshot differs from the baseline by a mix of what happens to a portal: options added and
removed and relabelled, stage metadata edited and a stage inserted, workflow actions edited and
added, users' roles changed, and items added and removed of every kind.

Both are stored in SQLite; then a fresh process (so that its peak RSS is the comparison's, not
the benchmark's own synthetic data) compares them from the database as ``audit`` does: the
snapshot's and baseline's items, the payloads of what differs, and the field changes. It prints
wall and CPU time and the process's peak RSS (``resource.getrusage``), and, in the same
process on the same data, the comparison with DeepDiff at field level (the way hubaudit took
field changes before the walk) as the baseline. ``--compare-src`` compares the same database
in one more fresh process with another checkout's code (its ``src``), as a second baseline of the
same run. With ``--scale`` it does the same at that size and prints the ratio of the two times
beside the ratio of the sizes (linear: equal ratios). CPU time (user + system) is the figure to
read on a shared machine: wall time there is mostly waiting for a core.

Targets (issue 20): at 100,000 items under 2 s and under 400 MB peak RSS, linear to 300,000.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fresh_process import last_json_line

from hubaudit.analysis.canonical import make_item
from hubaudit.hubspot.collectors.pipelines import canonical_pipeline
from hubaudit.hubspot.collectors.properties import canonical_property
from hubaudit.hubspot.collectors.users import canonical_team, canonical_user
from hubaudit.hubspot.collectors.workflows import canonical_flow
from hubaudit.model.items import ConfigItem, Kind

OBJECT_TYPES = ("contacts", "companies", "deals", "tickets", "products")
# of every 100 items: 84 properties, 10 workflows, 4 users, 1 pipeline, 1 group or team
SHARES = ((Kind.PROPERTY, 84), (Kind.WORKFLOW, 10), (Kind.USER, 4), (Kind.PIPELINE, 1))


def kind_at(n: int) -> Kind:
    slot = n % 100
    for kind, share in SHARES:
        if slot < share:
            return kind
        slot -= share
    return Kind.PROPERTY_GROUP if n % 200 < 100 else Kind.TEAM


def raw_item(n: int, change: str | None) -> tuple[Kind, str, dict[str, Any]] | None:
    """Item ``n`` as HubSpot returns it, with ``change`` applied (``None``: as it was)."""
    kind = kind_at(n)
    object_type = OBJECT_TYPES[n % len(OBJECT_TYPES)]
    if change == "remove":
        return None
    if kind is Kind.PROPERTY:
        options = [
            {"label": f"Option {k}", "value": f"o{k}", "displayOrder": k, "hidden": False}
            for k in range(n % 9)
        ]
        raw = {
            "name": f"field_{n}",
            "label": f"Field {n}",
            "type": "enumeration",
            "fieldType": "select",
            "groupName": f"group_{n % 30}",
            "description": f"What field {n} holds",
            "options": options,
            "displayOrder": n % 50,
            "hasUniqueValue": False,
            "hidden": False,
            "formField": True,
            "modificationMetadata": {"archivable": True, "readOnlyDefinition": False},
            "updatedAt": "2025-01-01T00:00:00Z",
        }
        if change == "edit" and n % 3 == 0:  # an option added (numbered after the others)
            options.append(
                {"label": "New", "value": "new", "displayOrder": len(options), "hidden": False}
            )
        elif change == "edit" and n % 3 == 1 and options:  # an option removed, one relabelled
            options.pop(0)
            if options:
                options[-1]["label"] += " (renamed)"
        elif change == "edit":
            raw["label"] += " (renamed)"
            raw["description"] = ""
        return kind, f"property:{object_type}:field_{n}", raw
    if kind is Kind.WORKFLOW:
        actions = [
            {
                "type": "SINGLE_CONNECTION",
                "actionId": str(a),
                "actionTypeId": "0-5",
                "actionTypeVersion": 0,
                "connection": {"edgeType": "STANDARD", "nextActionId": str(a + 1)},
                "fields": {"property_name": f"field_{(n + a) % 1000}", "value": f"v{a}"},
            }
            for a in range(1, 6)
        ]
        raw = {
            "id": str(100_000 + n),
            "type": "PLATFORM_FLOW",
            "isEnabled": True,
            "objectTypeId": "0-3",
            "name": f"Workflow {n}",
            "revisionId": "1",
            "updatedAt": "2025-01-01T00:00:00Z",
            "actions": actions,
            "enrollmentCriteria": {"type": "EVENT_BASED", "shouldReEnroll": False},
        }
        if change == "edit" and n % 2 == 0:  # an action's value edited
            actions[2]["fields"]["value"] = "changed"
        elif change == "edit":  # an action added
            actions.append({**actions[-1], "actionId": "9", "fields": {"value": "added"}})
            raw["isEnabled"] = False
        return kind, f"workflow:{raw['id']}", raw
    if kind is Kind.USER:
        raw = {
            "id": str(n),
            "email": f"user{n}@example.com",
            "roleIds": [str(n % 7)],
            "primaryTeamId": str(n % 11),
            "superAdmin": False,
        }
        if change == "edit":
            raw["roleIds"] = [str(n % 7), "99"]
            raw["superAdmin"] = n % 2 == 0
        return kind, f"user:{n}", raw
    if kind is Kind.PIPELINE:
        stages = [
            {
                "id": f"{n}-s{s}",
                "label": f"Stage {s}",
                "displayOrder": s,
                "archived": False,
                "metadata": {"isClosed": "false", "probability": f"0.{s + 1}"},
                "updatedAt": "2025-01-01T00:00:00Z",
            }
            for s in range(8)
        ]
        raw = {"id": str(n), "label": f"Pipeline {n}", "displayOrder": n % 10, "stages": stages}
        if change == "edit" and n % 2 == 0:  # stage metadata edited
            stages[3]["metadata"] = {"isClosed": "false", "probability": "0.35"}
        elif change == "edit":  # a stage inserted: its siblings renumbered, one change
            stages.insert(
                2, {**stages[2], "id": f"{n}-new", "label": "Legal review", "displayOrder": 2}
            )
            for s, stage in enumerate(stages):
                stage["displayOrder"] = s
        return kind, f"pipeline:{object_type}:{n}", raw
    if kind is Kind.PROPERTY_GROUP:
        raw = {"name": f"group_{n}", "label": f"Group {n}", "displayOrder": n % 30}
        if change == "edit":
            raw["label"] += " (renamed)"
        return kind, f"property_group:{object_type}:group_{n}", raw
    raw = {"id": str(n), "name": f"Team {n}", "userIds": [str(n % 50)], "secondaryUserIds": []}
    if change == "edit":
        raw["userIds"] = [str(n % 50), str(n % 51)]
    return kind, f"team:{n}", raw


CANONICAL = {
    Kind.PROPERTY: canonical_property,
    Kind.WORKFLOW: canonical_flow,
    Kind.USER: canonical_user,
    Kind.PIPELINE: canonical_pipeline,
    Kind.PROPERTY_GROUP: dict,
    Kind.TEAM: canonical_team,
}


def portal(count: int, changes: Mapping[int, str]) -> Iterator[ConfigItem]:
    """The portal's items; with ``changes``, edited, removed, and ``add`` ones added."""
    for n in range(count):
        made = raw_item(n, changes.get(n))
        if made is not None:
            kind, key, raw = made
            yield make_item(kind, key, raw, CANONICAL[kind](raw))
    for n in sorted(n for n, what in changes.items() if what == "add"):
        made = raw_item(n, None)
        assert made is not None
        kind, key, raw = made
        yield make_item(kind, key, raw, CANONICAL[kind](raw))


def mix(count: int, share: float, rng: random.Random) -> dict[int, str]:
    """Which items change, and how: of every ten, eight edited, one removed, one added."""
    picked = rng.sample(range(count), int(count * share))
    changes: dict[int, str] = {}
    for i, n in enumerate(picked):
        changes[n] = "remove" if i % 10 == 0 else "edit"
    for i in range(len(picked) // 10):
        changes[count + i] = "add"  # beyond the baseline's items
    return changes


def scopes_of(database: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(database) as connection:
        keys = [row[0] for row in connection.execute("select distinct key from item_versions")]
    return sorted({k.rsplit(":", 1)[0] if k.count(":") >= 2 else k.split(":")[0] for k in keys})


def build(database: Path, count: int, share: float) -> dict[str, int]:
    from hubaudit.store.engine import make_engine, upgrade
    from hubaudit.store.repository import Store

    changes = mix(count, share, random.Random(7))
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    store = Store(engine)
    now = datetime.now(UTC)
    store.save_snapshot("bench", now, [], portal(count, {}))
    store.save_snapshot("bench", now, [], portal(count, changes))
    engine.dispose()
    counts: dict[str, int] = {}
    for what in changes.values():
        counts[what] = counts.get(what, 0) + 1
    return counts


def peak_rss_mb() -> tuple[float, float]:
    """This process's peak RSS: ``getrusage`` (which, on Linux, a child starts with its parent's
    peak at the fork) and the kernel's high-water mark of this process's own memory (VmHWM)."""
    rusage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return rusage, int(line.split()[1]) / 1024
    return rusage, rusage


def child(database: Path, deepdiff: bool) -> None:
    """Compare the two stored snapshots as an audit does, in this fresh process."""
    from hubaudit.analysis import compare as compare_module
    from hubaudit.store.engine import make_engine
    from hubaudit.store.repository import Store

    engine = make_engine(f"sqlite:///{database}")
    store = Store(engine)
    scopes = dict.fromkeys(scopes_of(database), ())
    rss_before = peak_rss_mb()[1]

    def run() -> tuple[int, float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        result = compare_module.compare(
            store.snapshot_items(1), store.snapshot_items(2), scopes, store.load_payloads
        )
        return len(result.changes), time.perf_counter() - wall, time.process_time() - cpu

    found, wall, cpu = run()
    figures: dict[str, Any] = {
        "changes": found,
        "wall": wall,
        "cpu": cpu,
        "rss_before": rss_before,
    }
    figures["rusage"], figures["rss"] = peak_rss_mb()
    if deepdiff:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from test_compare_oracle import deepdiff_field_changes

        compare_module.field_changes = deepdiff_field_changes  # type: ignore[assignment]
        old_found, old_wall, old_cpu = run()
        figures |= {"deepdiff_changes": old_found, "deepdiff_wall": old_wall}
        figures["deepdiff_cpu"] = old_cpu
    engine.dispose()
    print(json.dumps(figures))


def measure(
    count: int, share: float, deepdiff: bool, compare_src: Path | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "compare.db"
        started = time.perf_counter()
        # built in a process of its own too, so that this one stays small: a child's getrusage
        # peak starts at its parent's
        counts = last_json_line([__file__, "--build", str(database), str(count), str(share)])
        built = time.perf_counter() - started
        figures = compared(database, ["--deepdiff"] if deepdiff else [])
        if compare_src is not None:
            figures["other"] = compared(database, [], compare_src)
    return figures | {"counts": counts, "built": built}


def compared(database: Path, options: list[str], src: Path | None = None) -> dict[str, Any]:
    """The figures of the comparison of ``database`` in a fresh process (with the code of
    ``src``, another checkout's, if given)."""
    return last_json_line([__file__, "--child", str(database), *options], src)


def report(count: int, figures: Mapping[str, Any]) -> None:
    counts = figures["counts"]
    print(
        f"{count} items: {counts.get('edit', 0)} edited, {counts.get('remove', 0)} removed, "
        f"{counts.get('add', 0)} added (stored in {figures['built']:.0f} s)"
    )
    print(
        f"  walk, from SQLite:     {figures['changes']} changes in CPU {figures['cpu']:.2f} s "
        f"(wall {figures['wall']:.2f} s); process peak RSS {figures['rss']:.0f} MB "
        f"(getrusage {figures['rusage']:.0f} MB; {figures['rss_before']:.0f} MB before the "
        "comparison) (target < 2 s, < 400 MB)"
    )
    if "other" in figures:
        other = figures["other"]
        print(
            f"  baseline, other code:  {other['changes']} changes in CPU {other['cpu']:.2f} s "
            f"(wall {other['wall']:.2f} s); peak RSS {other['rss']:.0f} MB; this code takes "
            f"{figures['cpu'] / other['cpu']:.2f}x its CPU"
        )
    if "deepdiff_wall" in figures:
        print(
            f"  baseline, DeepDiff:    {figures['deepdiff_changes']} changes in CPU "
            f"{figures['deepdiff_cpu']:.2f} s (wall {figures['deepdiff_wall']:.2f} s); "
            f"the walk takes {figures['cpu'] / figures['deepdiff_cpu']:.2f}x its CPU"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--scale", type=int, default=300_000, help="0: no linearity check")
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--no-deepdiff", action="store_true")
    parser.add_argument(
        "--compare-src", type=Path, help="another checkout's src: its comparison, same database"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--deepdiff", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build is not None:
        print(json.dumps(build(Path(args.build[0]), int(args.build[1]), float(args.build[2]))))
        return
    if args.child is not None:
        child(args.child, args.deepdiff)
        return
    small = measure(args.items, args.changed, not args.no_deepdiff, args.compare_src)
    report(args.items, small)
    if args.scale:
        large = measure(args.scale, args.changed, not args.no_deepdiff, args.compare_src)
        report(args.scale, large)
        print(
            f"linearity: {args.scale / args.items:.1f}x the items took "
            f"{large['cpu'] / small['cpu']:.2f}x the CPU and {large['wall'] / small['wall']:.2f}x "
            f"the wall time ({args.items // 1000}k/{args.scale // 1000}k CPU ratio "
            f"{small['cpu'] / large['cpu']:.2f}, wall ratio {small['wall'] / large['wall']:.2f}, "
            f"size ratio {args.items / args.scale:.2f}) and {large['rss'] / small['rss']:.2f}x "
            "the peak RSS"
        )


if __name__ == "__main__":
    main()
