"""Benchmark: what the architecture policies and the dependency graph add to an audit.

    .venv/bin/python bench/policies_impact.py [--properties 20000] [--workflows 2000]

Builds a portal of ``--properties`` properties over 10 object types (with groups and a few
likely duplicates), ``--workflows`` workflows whose enrollment criteria, branches and actions
read and set those properties and deal stages, pipelines and 300 users; stores it as two
snapshots in SQLite, the second with 1% of the properties changed, and measures in the same
run:

- the baseline: comparing the two snapshots from the store, as every audit does;
- loading the snapshot's view (every payload), building the dependency graph and putting
  each change's dependents on it;
- evaluating the twelve built-in policies, and tracking their findings in the database.

It prints each CPU time and its ratio to the comparison, and the peak traced memory.
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from hubaudit.analysis.canonical import make_item
from hubaudit.analysis.compare import compare
from hubaudit.analysis.dependencies import build_graph
from hubaudit.config import ImpactConfig
from hubaudit.hubspot.collectors.pipelines import canonical_pipeline
from hubaudit.hubspot.collectors.properties import canonical_property
from hubaudit.hubspot.collectors.users import canonical_user
from hubaudit.hubspot.collectors.workflows import canonical_flow
from hubaudit.model.items import ConfigItem, CoverageStatus, Kind, KindCoverage
from hubaudit.policies.builtin import evaluate
from hubaudit.policies.impact import with_impact
from hubaudit.services.audit_run import portal_view, record_findings
from hubaudit.store.engine import make_engine, upgrade
from hubaudit.store.repository import Store

T = TypeVar("T")
OBJECT_TYPES = (
    "contacts",
    "companies",
    "deals",
    "tickets",
    "products",
    "line_items",
    "quotes",
    "calls",
    "emails",
    "meetings",
)
TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tickets": "0-5"}


def prop(n: int, version: int) -> tuple[str, dict[str, Any]]:
    object_type = OBJECT_TYPES[n % len(OBJECT_TYPES)]
    raw = {
        "name": f"field_{n}" if n % 500 else f"Field{n}",
        "label": f"Field {n}" + (" (renamed)" if version else ""),
        "type": "enumeration",
        "fieldType": "select",
        "groupName": f"group_{n % 30}",
        "description": "" if n % 7 == 0 else f"What field {n} holds",
        "options": [{"label": f"V{k}", "value": f"v{k}", "displayOrder": k} for k in range(4)],
        "archived": False,
    }
    return object_type, raw


def flow(n: int, properties: int) -> dict[str, Any]:
    object_type = ("contacts", "companies", "deals", "tickets")[n % 4]
    reads = [f"field_{(n * 37 + k * 10) % properties}" for k in range(3)]
    filters = [
        {
            "filterType": "PROPERTY",
            "property": name,
            "operation": {
                "operationType": "ENUMERATION",
                "operator": "IS_ANY_OF",
                "values": ["v1"],
                "includeObjectsWithNoValueSet": False,
            },
        }
        for name in reads
    ]
    if object_type == "deals":
        filters.append(
            {
                "filterType": "PROPERTY",
                "property": "dealstage",
                "operation": {
                    "operationType": "ENUMERATION",
                    "operator": "IS_ANY_OF",
                    "values": [f"s{n % 6}"],
                    "includeObjectsWithNoValueSet": False,
                },
            }
        )
    return {
        "id": str(100000 + n),
        "type": "PLATFORM_FLOW",
        "isEnabled": n % 9 != 0,
        "objectTypeId": TYPE_IDS[object_type],
        "name": f"Workflow {n}",
        "revisionId": "1",
        "updatedAt": "2025-01-01T00:00:00.000Z",
        "enrollmentCriteria": {
            "type": "LIST_BASED",
            "shouldReEnroll": False,
            "unEnrollObjectsNotMeetingCriteria": False,
            "reEnrollmentTriggersFilterBranches": [],
            "listFilterBranch": {
                "filterBranchType": "OR",
                "filterBranchOperator": "OR",
                "filters": [],
                "filterBranches": [
                    {
                        "filterBranchType": "AND",
                        "filterBranchOperator": "AND",
                        "filters": filters,
                        "filterBranches": [],
                    }
                ],
            },
        },
        "actions": [
            {
                "type": "SINGLE_CONNECTION",
                "actionId": "1",
                "actionTypeId": "0-5",
                "actionTypeVersion": 0,
                "fields": {
                    "property_name": f"field_{(n * 11) % properties}",
                    "value": {"type": "STATIC_VALUE", "staticValue": "v2"},
                },
            },
        ],
    }


def portal(properties: int, workflows: int, changed: set[int]) -> list[ConfigItem]:
    items = []
    for n in range(properties):
        object_type, raw = prop(n, 1 if n in changed else 0)
        key = f"property:{object_type}:{raw['name']}"
        items.append(make_item(Kind.PROPERTY, key, raw, canonical_property(raw), raw["label"]))
    for object_type in OBJECT_TYPES:
        for g in range(30):
            raw = {
                "name": f"group_{g}",
                "label": f"Group {g}",
                "displayOrder": g,
                "archived": False,
            }
            key = f"property_group:{object_type}:group_{g}"
            items.append(make_item(Kind.PROPERTY_GROUP, key, raw, dict(raw)))
    for p in range(3):
        stages = [
            {
                "id": f"s{s}" if p == 0 else f"{p}{s}",
                "label": f"Stage {s}",
                "displayOrder": s,
                "metadata": {
                    "isClosed": "true" if s >= 4 else "false",
                    "probability": ("1.0", "0.0")[s - 4] if s >= 4 else f"0.{s + 1}",
                },
            }
            for s in range(6)
        ]
        raw = {"id": f"p{p}", "label": f"Pipeline {p}", "displayOrder": p, "stages": stages}
        items.append(make_item(Kind.PIPELINE, f"pipeline:deals:p{p}", raw, canonical_pipeline(raw)))
    for n in range(workflows):
        raw = flow(n, properties)
        items.append(make_item(Kind.WORKFLOW, f"workflow:{raw['id']}", raw, canonical_flow(raw)))
    for n in range(300):
        raw = {
            "id": str(n),
            "email": f"u{n}@x.example",
            "superAdmin": n < 2,
            "roleIds": [str(n % 5)],
        }
        items.append(make_item(Kind.USER, f"user:{n}", raw, canonical_user(raw)))
    return items


def measured(run: Callable[[], T]) -> tuple[T, float]:
    """The result and the CPU time it took (this process is single-threaded: CPU, not wall,
    so that a loaded machine does not blur the ratios)."""
    gc.collect()
    started = time.process_time()
    result = run()
    return result, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=20_000)
    parser.add_argument("--workflows", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(11)
    changed = set(rng.sample(range(args.properties), args.properties // 100))
    before = portal(args.properties, args.workflows, set())
    after = portal(args.properties, args.workflows, changed)
    scopes = sorted(
        {
            i.key.rsplit(":", 1)[0]
            for i in after
            if i.kind is not Kind.WORKFLOW and i.kind is not Kind.USER
        }
        | {"workflow", "user"}
    )
    coverage = [KindCoverage(Kind(s.split(":")[0]), s, CoverageStatus.COMPLETE, 0) for s in scopes]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        store = Store(engine)
        now = datetime.now(UTC)
        first = store.save_snapshot("bench", now, coverage, before)
        second = store.save_snapshot("bench", now, coverage, after)
        print(
            f"{len(after)} items: {args.properties} properties, {args.workflows} workflows; "
            f"{len(changed)} properties changed"
        )

        comparison, compare_s = measured(
            lambda: compare(
                store.snapshot_items(first.id),
                store.snapshot_items(second.id),
                dict.fromkeys(scopes, ()),
                store.load_payloads,
            )
        )
        print(
            f"baseline: compare from SQLite: {len(comparison.changes)} field changes in "
            f"{compare_s:.2f} s"
        )

        view, view_s = measured(lambda: portal_view(store, second))
        graph, graph_s = measured(lambda: build_graph(view))
        impacted, impact_s = measured(
            lambda: with_impact(comparison.changes, graph, ImpactConfig())
        )
        (breaches, _ran), policies_s = measured(lambda: evaluate(view, {}))
        gc.collect()
        tracemalloc.start()  # a second pass for memory: tracing slows what it traces
        again = portal_view(store, second)
        evaluate(again, {})
        build_graph(again)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        _tracked, findings_s = measured(lambda: record_findings(store, view, {}))
        fresh = portal_view(store, second)  # what a night's audit evaluates: a view of its own
        _again, findings_again_s = measured(lambda: record_findings(store, fresh, {}))
        engine.dispose()
    with_dependents = sum(1 for c in impacted if c.dependents)
    print(f"view (every payload): {view_s:.2f} s ({view_s / compare_s:.2f}x the comparison)")
    print(
        f"dependency graph: {len(graph.edges)} edges in {graph_s:.2f} s "
        f"({graph_s / compare_s:.2f}x); dependents on {with_dependents} changes in "
        f"{impact_s:.3f} s"
    )
    print(
        f"policies: {len(breaches)} breaches in {policies_s:.2f} s "
        f"({policies_s / compare_s:.0%} of the comparison; target <= 25%); evaluated again "
        f"and tracked as findings (a first night: all new) in {findings_s:.2f} s"
    )
    print(
        f"a second night, every finding seen again: {findings_again_s:.2f} s "
        f"({findings_again_s / compare_s:.2f}x the comparison)"
    )
    total = view_s + graph_s + impact_s + findings_s  # findings_s evaluates the policies too
    print(
        f"all of it: {total:.2f} s, {total / compare_s:.2f}x the comparison; peak traced "
        f"memory {peak / 2**20:.0f} MB"
    )


if __name__ == "__main__":
    main()
