"""The architecture commands: ``impact``, ``findings`` and ``policies``. An edge like ``cli``:
arguments in, text out."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, TextIO

from hubaudit.config import Config
from hubaudit.dependencies import build_graph, workflow_count
from hubaudit.errors import UsageError
from hubaudit.keys import key_problem
from hubaudit.policies.builtin import BUILTIN_POLICIES
from hubaudit.report.escape import terminal_safe
from hubaudit.report.history import stand_in_lines, stand_ins_document
from hubaudit.report.json_report import dependency_document
from hubaudit.store.keys import key_ever_held, unknown_key
from hubaudit.store.repository import Store
from hubaudit.timetravel import snapshot_point, snapshot_view

Handler = Callable[[argparse.Namespace, Config, Store, TextIO], int]


def add_commands(commands: Any) -> None:
    impact = commands.add_parser("impact", help="what depends on an item (workflows, properties…)")
    impact.add_argument("key", help="an item key, e.g. property:contacts:lifecyclestage")
    impact.add_argument("--portal", required=True)
    impact.add_argument("--snapshot", default="latest", metavar="ID", help="default: latest")
    impact.add_argument(
        "--depth", type=int, default=3, choices=range(1, 6), help="levels (default 3)"
    )
    impact.add_argument("--json", action="store_true")

    policies = commands.add_parser("policies", help="the architecture policies and their settings")
    policy_actions = policies.add_subparsers(
        dest="policies_command", required=True, metavar="ACTION"
    )
    policy_list = policy_actions.add_parser("list", help="every policy: on or off, severity, why")
    policy_list.add_argument("--json", action="store_true")


def impact_command(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
    problem = key_problem(args.key)
    if problem is not None:
        raise UsageError(problem)
    point = snapshot_point(store, args.portal, args.snapshot)
    assert point.snapshot is not None
    snapshot = point.snapshot
    view = snapshot_view(store, point)
    graph = build_graph(view)
    direct = graph.dependents(args.key)
    tree = graph.tree(args.key, args.depth)
    present = args.key in view.items
    if not present and not direct and not key_ever_held(store, args.portal, args.key):
        # "nothing depends on it" would read as "safe to delete" for a key that is a typo
        raise UsageError(unknown_key(store, args.portal, args.key))
    if args.json:
        document = {
            "portal": args.portal,
            "key": args.key,
            "snapshot": {
                "id": snapshot.id,
                "taken_at": snapshot.taken_at.isoformat(),
                "stand_ins": stand_ins_document(point),
            },
            "in_snapshot": present,
            "workflows": workflow_count(direct),
            "dependents": [dependency_document(d) for d in direct],
            "tree": [{"level": level, **dependency_document(d)} for level, d in tree],
        }
        print(json.dumps(document, indent=2), file=out)
        return 0
    label = view.items[args.key].label if present else None
    named_as = f' "{terminal_safe(label)}"' if label else ""
    print(
        f"impact of {terminal_safe(args.key)}{named_as} in snapshot #{snapshot.id} "
        f"({snapshot.taken_at:%Y-%m-%d %H:%M} UTC): {len(direct)} direct dependents, "
        f"{workflow_count(direct)} workflows",
        file=out,
    )
    for line in stand_in_lines(point):
        print(f"  {line}", file=out)
    if not present:
        print("  (the item is not in this snapshot; these still point to it)", file=out)
    if not tree:
        print("  nothing in this snapshot depends on it", file=out)
    for level, d in tree:
        dependent = d.source
        item_label = f' "{terminal_safe(d.label)}"' if d.label else ""
        detail = f" ({terminal_safe(d.detail)})" if d.detail else ""
        target = "" if level == 0 else f" {terminal_safe(d.target)}"
        print(
            f"{'  ' * (level + 1)}← {terminal_safe(dependent)}{item_label} {d.relation}"
            f"{target}{detail}",
            file=out,
        )
    return 0


def policies_command(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    rows = []
    for policy in BUILTIN_POLICIES:
        settings = config.policies.get(policy.id)
        rules = policy.rules(settings)
        options = {
            name: value
            for name, value in (
                ("object_types", list(rules.settings.object_types or []) or None),
                ("patterns", dict(rules.settings.patterns) or None),
                ("max_days", rules.settings.max_days),
                ("max", rules.settings.max),
                ("stages", {k: list(v) for k, v in rules.settings.stages.items()} or None),
            )
            if value is not None
        }
        rows.append(
            {
                "id": policy.id,
                "enabled": settings is None or settings.enabled,
                "severity": rules.severity.value,
                "checks": policy.checks,
                "reason": rules.reason,
                "options": options,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2), file=out)
        return 0
    for row in rows:
        state = "on " if row["enabled"] else "off"
        print(f"{state} {row['id']:<30} {row['severity']:<8} {row['checks']}", file=out)
        if row["options"]:
            print(f"      options: {json.dumps(row['options'], sort_keys=True)}", file=out)
    return 0


HANDLERS: dict[str, Handler] = {
    "impact": impact_command,
    "policies": policies_command,
}
