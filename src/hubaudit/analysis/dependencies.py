"""What depends on what, from what one snapshot already holds.

A workflow *reads* a property when its enrollment, re-enrollment, goal or suppression criteria
or one of its branches test it, and *writes* it when a set-property action (``0-5``) sets it. A
workflow *uses* a pipeline stage, a pipeline or a lifecycle stage when it tests or sets the
object's stage, pipeline or ``lifecyclestage`` property with that value. A property is *in* its
group and, for a custom object, *of* the object's schema; a user *has* its roles and is *in* its
teams.

Event triggers (``UNIFIED_EVENTS`` branches) filter on the event's own properties, not the
record's, so they are not read here; neither are custom-code actions, whose source only their
authors can read. Every edge is kept even when its target is gone from the snapshot: a
workflow still pointing at a deleted property is exactly what an impact analysis must show.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hubaudit.model.changes import Change, Dependency
from hubaudit.model.history import Point
from hubaudit.model.items import (
    STANDARD_OBJECT_TYPE_IDS,
    ItemKey,
    Kind,
    SnapshotInfo,
    schema_object_type_id,
)
from hubaudit.model.view import PortalView, ViewItem

SET_PROPERTY_ACTION = "0-5"
LIFECYCLE_PROPERTY = "lifecyclestage"
LIFECYCLE_OBJECT_TYPES = frozenset({"contacts", "companies"})


def stage_property(object_type: str) -> str:
    return "dealstage" if object_type == "deals" else "hs_pipeline_stage"


def pipeline_property(object_type: str) -> str:
    return "pipeline" if object_type == "deals" else "hs_pipeline"


@dataclass(frozen=True)
class PropertyUse:
    """A workflow testing or setting one property of one object type, somewhere in it."""

    object_type: str
    property: str
    relation: str  # "reads" | "writes"
    where: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class DependencyGraph:
    edges: tuple[Dependency, ...]
    _by_target: Mapping[str, tuple[Dependency, ...]] = field(default_factory=dict)

    def dependents(self, key: str) -> tuple[Dependency, ...]:
        """What relies on ``key`` directly, each dependent and relation once."""
        return self._by_target.get(key, ())

    def dependents_of_change(self, change: Change) -> tuple[Dependency, ...]:
        """What a change touches: for a change inside one pipeline stage, only what uses that
        stage (or the pipeline as a whole)."""
        found = self.dependents(change.key)
        if change.kind is Kind.PIPELINE and len(change.path) >= 2 and change.path[0] == "stages":
            stage = str(change.path[1])
            found = tuple(d for d in found if d.part in (None, stage))
        return found

    def tree(self, key: str, depth: int = 3) -> list[tuple[int, Dependency]]:
        """Dependents of ``key`` and, under each, what depends on it in turn (a group's
        properties, then the workflows that read them), each item listed once."""
        lines: list[tuple[int, Dependency]] = []
        seen = {key}

        def visit(target: str, level: int) -> None:
            for dependency in self.dependents(target):
                lines.append((level, dependency))
                if level + 1 < depth and dependency.source not in seen:
                    seen.add(dependency.source)
                    visit(dependency.source, level + 1)

        visit(key, 0)
        return lines


@dataclass(frozen=True)
class Impact:
    """What depends on one item in one snapshot point (its stand-ins included): its direct
    dependents, and the tree of what depends on those in turn."""

    portal: str
    key: str
    point: Point
    in_snapshot: bool
    label: str | None
    direct: tuple[Dependency, ...]
    tree: tuple[tuple[int, Dependency], ...]

    @property
    def snapshot(self) -> SnapshotInfo:
        assert self.point.snapshot is not None
        return self.point.snapshot

    @property
    def workflows(self) -> int:
        """Workflows among the direct dependents."""
        return workflow_count(self.direct)


def workflow_count(dependents: tuple[Dependency, ...], *, active_only: bool = False) -> int:
    return len(
        {
            d.source
            for d in dependents
            if d.source.startswith("workflow:") and (d.active or not active_only)
        }
    )


def object_types_by_id(view: PortalView) -> dict[str, str]:
    """Object type names by objectTypeId: the standard ones and the portal's custom objects."""
    types_by_id = dict(STANDARD_OBJECT_TYPE_IDS)
    for schema in view.of_kind(Kind.OBJECT_SCHEMA):
        type_id, name = (
            schema_object_type_id(schema.canonical),
            schema.canonical.get("fullyQualifiedName"),
        )
        if isinstance(type_id, str) and isinstance(name, str):
            types_by_id[type_id] = name
    return types_by_id


def flow_object_type(flow: ViewItem, types_by_id: Mapping[str, str]) -> str | None:
    return types_by_id.get(str(flow.canonical.get("objectTypeId")))


def flows_with_uses(view: PortalView) -> list[tuple[ViewItem, str, list[PropertyUse]]]:
    """Each workflow of a known object type, with that type and the properties it tests or sets:
    found once per snapshot for the dependency graph and the policies alike."""
    return view.memo("workflow property uses", lambda: _flows_with_uses(view))


def _flows_with_uses(view: PortalView) -> list[tuple[ViewItem, str, list[PropertyUse]]]:
    types_by_id = object_types_by_id(view)
    found = []
    for flow in view.of_kind(Kind.WORKFLOW):
        object_type = flow_object_type(flow, types_by_id)
        if object_type is not None:
            uses = workflow_property_uses(flow.canonical, object_type, types_by_id)
            found.append((flow, object_type, uses))
    return found


def build_graph(view: PortalView, former: Iterable[ViewItem] = ()) -> DependencyGraph:
    """The graph of a snapshot. ``former`` are pipelines the snapshot no longer holds (the
    baseline's): their stages still name what workflows point at when a pipeline is deleted."""
    types_by_id = object_types_by_id(view)
    stages = _stage_owners([*former, *view.of_kind(Kind.PIPELINE)])
    edges: dict[tuple[str, str, str, str, str | None], Dependency] = {}

    def add(dependency: Dependency) -> None:
        edges.setdefault(
            (
                dependency.source,
                dependency.target,
                dependency.relation,
                dependency.detail,
                dependency.part,
            ),
            dependency,
        )

    for flow, _object_type, uses in flows_with_uses(view):
        for use in uses:
            for dependency in _use_dependencies(flow, use, stages):
                add(dependency)
    schemas = {
        str(s.canonical.get("fullyQualifiedName")): s.key for s in view.of_kind(Kind.OBJECT_SCHEMA)
    }
    for prop in view.of_kind(Kind.PROPERTY):
        object_type = ItemKey.parse(prop.key).object_type
        if prop.canonical.get("archived") is True:
            continue
        group = prop.canonical.get("groupName")
        if isinstance(group, str) and group:
            add(
                Dependency(
                    prop.key, f"property_group:{object_type}:{group}", "in group", "", prop.label
                )
            )
        if object_type in schemas:
            add(Dependency(prop.key, schemas[object_type], "of object", "", prop.label))
    for label in view.of_kind(Kind.ASSOCIATION_LABEL):
        from_id, to_id = ItemKey.parse(label.key).segments[:2]
        for type_id in (from_id, to_id):
            owner = schemas.get(types_by_id.get(type_id, ""))
            if owner is not None:
                add(Dependency(label.key, owner, "of object", "association label", label.label))
    for user in view.of_kind(Kind.USER):
        for role in _strings(user.canonical.get("roleIds")) | _strings(
            user.canonical.get("roleId")
        ):
            add(Dependency(user.key, f"role:{role}", "has role", "", user.label))
        teams = _strings(user.canonical.get("primaryTeamId"))
        teams |= _strings(user.canonical.get("secondaryTeamIds"))
        for team in teams:
            add(Dependency(user.key, f"team:{team}", "in team", "", user.label))
    by_target: dict[str, list[Dependency]] = {}
    for dependency in sorted(edges.values(), key=lambda d: (d.target, d.source, d.detail)):
        by_target.setdefault(dependency.target, []).append(dependency)
    return DependencyGraph(tuple(edges.values()), {k: tuple(v) for k, v in by_target.items()})


def dependent_sources(key: str) -> tuple[frozenset[Kind], frozenset[str]]:
    """The kinds, and the key prefixes, of the items :func:`build_graph` needs to find what
    depends on ``key``: a property is the source of an edge only to its group and its custom
    object, so only a group or a custom object needs properties (its own); the rest (every other
    kind) is small beside a portal's properties and names what workflows point at."""
    target = ItemKey.parse(key)
    prefixes: frozenset[str] = frozenset()
    if target.kind in (Kind.PROPERTY_GROUP, Kind.OBJECT_SCHEMA):
        # a group's key names its object type; a custom object's key is its fullyQualifiedName
        object_type = target.object_type if target.kind is Kind.PROPERTY_GROUP else target.rest
        prefixes = frozenset({f"{Kind.PROPERTY.value}:{object_type}:"})
    return frozenset(Kind) - {Kind.PROPERTY}, prefixes


def _strings(value: Any) -> set[str]:
    if isinstance(value, list):
        return {str(v) for v in value if v not in (None, "")}
    return set() if value in (None, "") else {str(value)}


def _stage_owners(pipelines: Iterable[ViewItem]) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(object type, stage id) → (pipeline key, stage label); later pipelines win."""
    owners: dict[tuple[str, str], tuple[str, str | None]] = {}
    for pipeline in pipelines:
        object_type = ItemKey.parse(pipeline.key).object_type
        stages = pipeline.canonical.get("stages")
        if isinstance(stages, Mapping):
            for stage_id, stage in stages.items():
                label = stage.get("label") if isinstance(stage, Mapping) else None
                owners[(object_type, str(stage_id))] = (
                    pipeline.key,
                    label if isinstance(label, str) else None,
                )
    return owners


def _use_dependencies(
    flow: ViewItem, use: PropertyUse, stages: Mapping[tuple[str, str], tuple[str, str | None]]
) -> Iterator[Dependency]:
    for dependency in _uses(flow, use, stages):
        yield replace(dependency, active=flow.canonical.get("isEnabled") is not False)


def _uses(
    flow: ViewItem, use: PropertyUse, stages: Mapping[tuple[str, str], tuple[str, str | None]]
) -> Iterator[Dependency]:
    values = f" = {', '.join(use.values)}" if use.values else ""
    yield Dependency(
        flow.key,
        f"property:{use.object_type}:{use.property}",
        use.relation,
        f"{use.where}{values}",
        flow.label,
    )
    verb = "sets" if use.relation == "writes" else "tests"
    if use.property == stage_property(use.object_type):
        for value in use.values:
            owner = stages.get((use.object_type, value))
            if owner is not None:
                stage_label = f" ({owner[1]})" if owner[1] else ""
                yield Dependency(
                    flow.key,
                    owner[0],
                    "uses",
                    f"{verb} stage {value}{stage_label} in {use.where}",
                    flow.label,
                    part=value,
                )
    elif use.property == pipeline_property(use.object_type):
        for value in use.values:
            yield Dependency(
                flow.key,
                f"pipeline:{use.object_type}:{value}",
                "uses",
                f"{verb} the pipeline in {use.where}",
                flow.label,
            )
    elif use.property == LIFECYCLE_PROPERTY and use.object_type in LIFECYCLE_OBJECT_TYPES:
        for value in use.values:
            yield Dependency(
                flow.key,
                f"lifecycle_stage:{use.object_type}:{value}",
                "uses",
                f"{verb} the stage in {use.where}",
                flow.label,
            )


def workflow_property_uses(
    flow: Mapping[str, Any], object_type: str, types_by_id: Mapping[str, str]
) -> list[PropertyUse]:
    """Every property a workflow (canonical v4 flow: actions keyed by id) tests or sets."""
    uses: list[PropertyUse] = []
    criteria = flow.get("enrollmentCriteria")
    if isinstance(criteria, Mapping):
        for name in ("reEnrollmentTriggersFilterBranches",):
            _walk(criteria.get(name), object_type, "re-enrollment triggers", types_by_id, uses)
        rest = {k: v for k, v in criteria.items() if k != "reEnrollmentTriggersFilterBranches"}
        _walk(rest, object_type, "enrollment criteria", types_by_id, uses)
    _walk(flow.get("goalFilterBranch"), object_type, "goal criteria", types_by_id, uses)
    _walk(
        flow.get("suppressionFilterBranch"), object_type, "suppression criteria", types_by_id, uses
    )
    actions = flow.get("actions")
    if isinstance(actions, Mapping):
        for action_id, action in sorted(actions.items(), key=lambda kv: _natural(kv[0])):
            if isinstance(action, Mapping):
                _action_uses(str(action_id), action, object_type, types_by_id, uses)
    return uses


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 62, text)


def _action_uses(
    action_id: str,
    action: Mapping[str, Any],
    object_type: str,
    types_by_id: Mapping[str, str],
    uses: list[PropertyUse],
) -> None:
    where = f"action {action_id}"
    kind = action.get("type")
    if kind == "LIST_BRANCH":
        for branch in action.get("listBranches") or []:
            if isinstance(branch, Mapping):
                name = branch.get("branchName")
                branch_where = f"branch '{name}' of {where}" if name else f"a branch of {where}"
                _walk(branch.get("filterBranch"), object_type, branch_where, types_by_id, uses)
        return
    if kind == "STATIC_BRANCH":
        value = action.get("inputValue")
        if isinstance(value, Mapping) and value.get("type") == "OBJECT_PROPERTY":
            branches = action.get("staticBranches") or []
            values = tuple(
                str(b.get("branchValue"))
                for b in branches
                if isinstance(b, Mapping) and b.get("branchValue") is not None
            )
            name = value.get("propertyName")
            if isinstance(name, str) and name:
                uses.append(PropertyUse(object_type, name, "reads", f"branch on {where}", values))
        return
    fields = action.get("fields")
    if isinstance(fields, Mapping) and action.get("actionTypeId") == SET_PROPERTY_ACTION:
        name = fields.get("property_name")
        if isinstance(name, str) and name:
            value = fields.get("value")
            static = value.get("staticValue") if isinstance(value, Mapping) else None
            values = (str(static),) if static is not None else ()
            uses.append(PropertyUse(object_type, name, "writes", where, values))
    # values taken from the record anywhere in the action: set-property fields, a custom-code
    # action's inputFields, a webhook's queryParams (the code itself is its authors' to read)
    body = {k: v for k, v in action.items() if k not in ("sourceCode", "connection")}
    for copied in _object_property_values(body):
        uses.append(PropertyUse(object_type, copied, "reads", f"a value copied in {where}"))


def _object_property_values(value: Any) -> Iterator[str]:
    """Property names a value is copied from (``{"type": "OBJECT_PROPERTY", …}``, or appended
    to: ``APPEND_OBJECT_PROPERTY``)."""
    if isinstance(value, Mapping):
        if value.get("type") == "OBJECT_PROPERTY" and isinstance(value.get("propertyName"), str):
            yield str(value["propertyName"])
        if value.get("type") == "APPEND_OBJECT_PROPERTY" and isinstance(
            value.get("appendPropertyName"), str
        ):
            yield str(value["appendPropertyName"])
        for inner in value.values():
            yield from _object_property_values(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _object_property_values(inner)


def _walk(
    node: Any,
    object_type: str | None,
    where: str,
    types_by_id: Mapping[str, str],
    uses: list[PropertyUse],
) -> None:
    """Property filters in a filter branch (or anything holding branches), recursively."""
    if isinstance(node, list):
        for inner in node:
            _walk(inner, object_type, where, types_by_id, uses)
        return
    if not isinstance(node, Mapping):
        return
    branch_type = node.get("filterBranchType")
    if branch_type == "UNIFIED_EVENTS":
        return  # an event's own properties, not the record's
    if branch_type == "ASSOCIATION":
        # filters inside test the associated object's properties
        object_type = types_by_id.get(str(node.get("objectTypeId")))
    if branch_type is not None:
        for condition in node.get("filters") or []:
            if (
                object_type is not None
                and isinstance(condition, Mapping)
                and condition.get("filterType") == "PROPERTY"
                and isinstance(condition.get("property"), str)
            ):
                uses.append(
                    PropertyUse(
                        object_type,
                        str(condition["property"]),
                        "reads",
                        where,
                        _operation_values(condition.get("operation")),
                    )
                )
        _walk(node.get("filterBranches"), object_type, where, types_by_id, uses)
        return
    for inner in node.values():
        _walk(inner, object_type, where, types_by_id, uses)


def _operation_values(operation: Any) -> tuple[str, ...]:
    if not isinstance(operation, Mapping):
        return ()
    values = operation.get("values")
    if isinstance(values, list):
        return tuple(str(v) for v in values if v is not None)
    value = operation.get("value")
    return () if value is None or isinstance(value, Mapping | list) else (str(value),)
