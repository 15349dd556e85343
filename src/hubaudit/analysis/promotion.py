"""Two portals compared: a sandbox's items matched to production's, translated, and diffed.

HubSpot gives each portal its own ids, so items are matched by what identifies them for a person
(``identity``): properties and groups by name, pipelines by label (then id), stages by label within
their pipeline, lifecycle stages by value, workflows by name, association labels by object pair and
label, custom objects by name, users by email, teams and roles by name. A mapping file may pin a
renamed item to its counterpart. The sandbox's items are then written in production's terms: its
keys, and every id of the sandbox inside a payload (a stage id in a workflow, a pipeline id, a user
id of a team) replaced by production's id through the match, so that an item that differs only by
id is no difference. An item production does not hold keeps the sandbox's name, and one whose key
would be an id production never gave is named by its identity (``workflow:{Renewal reminder}``,
a new stage ``stages.{Legal review}``), as change requests name it. The differences are then the
drift engine's (``compare``): production is "before", the translated sandbox "after".

Pure: payloads in, matches and changes out. ``services/promotion.py`` reads the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hubaudit.analysis.canonical import content_hash
from hubaudit.analysis.compare import compare
from hubaudit.keys import IDENTITY_FIELDS, KEY_FORMS, identity_key, identity_of
from hubaudit.model.changes import Change, ChangeOp
from hubaudit.model.history import Point
from hubaudit.model.items import JSONValue, Kind, StoredItem

Payloads = Mapping[str, Mapping[str, JSONValue]]
"""Canonical payloads by item key: one portal at one point."""

ASSIGNED_FIELDS = ("id", "uuid", "objectTypeId", "fullyQualifiedName", "typeId")
"""Fields whose values the portal assigns: translated through a match, never promoted."""

_INT_ID_FIELDS = frozenset({"associationTypeId", "typeId"})
"""Fields that hold an association type id as a number (the id map holds text)."""


@dataclass(frozen=True)
class Side:
    """One portal at one point: its items' canonical payloads and the parts it read completely
    (each with its filters of items it could not read, as ``Point.scopes``)."""

    items: Payloads
    scopes: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Match:
    kind: Kind
    sandbox_key: str
    production_key: str
    identity: str
    """What matched them, as a person reads it: ``label 'Partner Pipeline'``."""
    pinned: bool = False


@dataclass(frozen=True)
class Ambiguous:
    """Items that share one identity on a side: none of them is compared."""

    kind: Kind
    identity: str
    sandbox_keys: tuple[str, ...]
    production_keys: tuple[str, ...]


@dataclass(frozen=True)
class CrossPortal:
    matches: tuple[Match, ...]
    ambiguous: tuple[Ambiguous, ...]
    sandbox_only: tuple[tuple[str, str], ...]
    """(sandbox key, production-side key) of items production does not hold."""
    production_only: tuple[str, ...]
    changes: tuple[Change, ...]
    """Every difference, in production's keys with the sandbox's (translated) values."""
    translated: Payloads
    """The sandbox's items in production's terms, by production-side key."""
    not_compared: tuple[str, ...]
    """Parts only one side read completely."""
    ids: Mapping[str, str] = field(default_factory=dict)
    """Sandbox id → production id, for every id the match translates."""


@dataclass(frozen=True)
class Difference:
    """One difference, in production's keys with the sandbox's values, and where it stands."""

    change: Change
    sandbox_key: str | None
    """The sandbox's key of the item (``None`` for an item only production holds)."""
    in_production: bool
    """Production's latest snapshot already holds the sandbox's value."""
    in_baseline: bool | None
    """Production's approved baseline holds it (``None``: production has no approved one)."""
    planned_by: int | None
    """The approved change request of production that plans exactly this."""


@dataclass(frozen=True)
class PortalComparison:
    sandbox: str
    production: str
    sandbox_point: Point
    production_point: Point
    result: CrossPortal
    differences: tuple[Difference, ...]
    baseline_version: int | None
    mapping_file: str = ""

    @property
    def notes(self) -> list[str]:
        """Parts of either point taken from an earlier snapshot (they could not be read)."""
        return [f"{self.sandbox}: {n}" for n in self.sandbox_point.notes()] + [
            f"{self.production}: {n}" for n in self.production_point.notes()
        ]


# identity ------------------------------------------------------------------------------------


def _segments(key: str) -> tuple[Kind, list[str]]:
    kind_name, _, rest = key.partition(":")
    kind = Kind(kind_name)
    return kind, rest.split(":", len(KEY_FORMS[kind]) - 1)


def _identity(
    kind: Kind, key: str, payload: Mapping[str, JSONValue], types: Mapping[str, str]
) -> tuple[str, ...] | None:
    """What identifies an item across portals; object types already in production's terms."""
    _, parts = _segments(key)
    if kind in (Kind.PROPERTY, Kind.PROPERTY_GROUP, Kind.LIFECYCLE_STAGE):
        return (types.get(parts[0], parts[0]), parts[1])
    if kind is Kind.PIPELINE:
        label = payload.get("label")
        return (types.get(parts[0], parts[0]), label if isinstance(label, str) else parts[1])
    if kind is Kind.ASSOCIATION_LABEL:
        ends = (types.get(parts[0], parts[0]), types.get(parts[1], parts[1]), parts[2])
        label = payload.get("label")
        if parts[2] == "HUBSPOT_DEFINED":  # HubSpot's own types have one id in every portal
            return (*ends, f"#{parts[3]}")
        return (*ends, label if isinstance(label, str) else "")
    found = identity_of(kind, payload)
    return None if found is None else (found,)


def describe_identity(kind: Kind, identity: tuple[str, ...]) -> str:
    """``label 'Partner Pipeline'``, ``email 'ada@…'``: how two items were matched."""
    if kind in (Kind.PROPERTY, Kind.PROPERTY_GROUP):
        return f"name {identity[-1]!r}"
    if kind is Kind.LIFECYCLE_STAGE:
        return f"value {identity[-1]!r}"
    if kind is Kind.ASSOCIATION_LABEL:
        pair = f"{identity[0]} → {identity[1]}"
        last = identity[-1]
        if last.startswith("#"):
            return f"{pair} HubSpot-defined type {last[1:]}"
        return f"{pair} label {last!r}" if last else f"{pair} unlabelled"
    return f"{IDENTITY_FIELDS.get(kind, 'label')} {identity[-1]!r}"


# matching ------------------------------------------------------------------------------------


@dataclass
class _Matching:
    matches: list[Match] = field(default_factory=list)
    ambiguous: list[Ambiguous] = field(default_factory=list)
    sandbox_only: list[str] = field(default_factory=list)
    production_only: list[str] = field(default_factory=list)


def _by_kind(items: Payloads) -> dict[Kind, list[str]]:
    found: dict[Kind, list[str]] = defaultdict(list)
    for key in sorted(items):
        found[Kind(key.split(":", 1)[0])].append(key)
    return found


def _match_kind(
    kind: Kind,
    sandbox: Payloads,
    production: Payloads,
    sandbox_keys: Iterable[str],
    production_keys: Iterable[str],
    types: Mapping[str, str],
    result: _Matching,
) -> None:
    groups: dict[tuple[str, ...], tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for key in sandbox_keys:
        ident = _identity(kind, key, sandbox[key], types) or ("#" + key,)
        groups[ident][0].append(key)
    for key in production_keys:
        ident = _identity(kind, key, production[key], {}) or ("#" + key,)
        groups[ident][1].append(key)
    lone_sandbox: list[str] = []
    lone_production: list[str] = []
    for ident, (ours, theirs) in sorted(groups.items()):
        if len(ours) == 1 and len(theirs) == 1:
            result.matches.append(Match(kind, ours[0], theirs[0], describe_identity(kind, ident)))
        elif (ours and theirs) or len(ours) > 1:  # several of production's alone are its own
            result.ambiguous.append(
                Ambiguous(kind, describe_identity(kind, ident), tuple(ours), tuple(theirs))
            )
        else:
            lone_sandbox += ours
            lone_production += theirs
    if kind is Kind.PIPELINE:  # by label, then by id
        for key in list(lone_sandbox):
            if key in lone_production:
                result.matches.append(Match(kind, key, key, f"id {key.rsplit(':', 1)[1]!r}"))
                lone_sandbox.remove(key)
                lone_production.remove(key)
    result.sandbox_only += lone_sandbox
    result.production_only += lone_production


# translation ---------------------------------------------------------------------------------


class _Ids:
    """Sandbox id → production id; an id that two matches translate differently is dropped."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}
        self.conflicts: set[str] = set()

    def add(self, ours: object, theirs: object) -> None:
        if isinstance(ours, bool) or isinstance(theirs, bool):
            return
        if not isinstance(ours, str | int) or not isinstance(theirs, str | int):
            return
        a, b = str(ours), str(theirs)
        if not a or a == b or a in self.conflicts:
            return
        if self.found.get(a, b) != b:
            self.conflicts.add(a)
            del self.found[a]
            return
        self.found[a] = b


def _translate(value: Any, ids: Mapping[str, str], name: str | None = None) -> Any:
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, int) and not isinstance(value, bool) and name in _INT_ID_FIELDS:
        found = ids.get(str(value))
        return int(found) if found is not None and found.isdigit() else value
    if isinstance(value, list):
        return [_translate(v, ids, name) for v in value]
    if isinstance(value, Mapping):
        return {k: _translate(v, ids, k) for k, v in value.items()}
    return value


def _type_of(key: str, types: Mapping[str, str]) -> str:
    """A key with its object types (custom objects' names and type ids) in production's terms."""
    kind, parts = _segments(key)
    if kind in (Kind.PROPERTY, Kind.PROPERTY_GROUP, Kind.PIPELINE, Kind.LIFECYCLE_STAGE):
        parts[0] = types.get(parts[0], parts[0])
    elif kind is Kind.ASSOCIATION_LABEL:
        parts[0], parts[1] = types.get(parts[0], parts[0]), types.get(parts[1], parts[1])
    return ":".join([kind.value, *parts])


def translate_scope(scope: str, types: Mapping[str, str]) -> str:
    """A part's name (``property:p123_cars``) in production's terms."""
    kind_name, _, rest = scope.partition(":")
    if not rest:
        return scope
    parts = rest.split(":")
    return ":".join([kind_name, *(types.get(p, p) for p in parts)])


def cross_compare(
    sandbox: Side, production: Side, pins: Mapping[str, str] | None = None
) -> CrossPortal:
    """Match the sandbox's items to production's and diff them (production before, sandbox
    after). ``pins`` maps sandbox keys to production keys (both held, same kind)."""
    pins = dict(pins or {})
    result = _Matching()
    for ours, theirs in sorted(pins.items()):
        result.matches.append(Match(Kind(ours.split(":", 1)[0]), ours, theirs, "pinned", True))
    pinned_theirs = set(pins.values())
    ours_by_kind = _by_kind({k: v for k, v in sandbox.items.items() if k not in pins})
    theirs_by_kind = _by_kind({k: v for k, v in production.items.items() if k not in pinned_theirs})
    # custom objects first: their names and type ids are in the keys of everything else
    types: dict[str, str] = {}
    _match_kind(
        Kind.OBJECT_SCHEMA,
        sandbox.items,
        production.items,
        ours_by_kind.get(Kind.OBJECT_SCHEMA, []),
        theirs_by_kind.get(Kind.OBJECT_SCHEMA, []),
        {},
        result,
    )
    for match in result.matches:
        if match.kind is Kind.OBJECT_SCHEMA:
            ours_payload = sandbox.items[match.sandbox_key]
            theirs_payload = production.items[match.production_key]
            for name in ("fullyQualifiedName", "objectTypeId"):
                a, b = ours_payload.get(name), theirs_payload.get(name)
                if isinstance(a, str) and isinstance(b, str):
                    types[a] = b
    for kind in Kind:
        if kind is Kind.OBJECT_SCHEMA:
            continue
        _match_kind(
            kind,
            sandbox.items,
            production.items,
            ours_by_kind.get(kind, []),
            theirs_by_kind.get(kind, []),
            types,
            result,
        )
    ids = _Ids()
    for a, b in types.items():
        ids.add(a, b)
    stage_keys: dict[str, dict[str, str]] = {}
    for match in result.matches:
        ours_payload = sandbox.items[match.sandbox_key]
        theirs_payload = production.items[match.production_key]
        ids.add(match.sandbox_key.rsplit(":", 1)[1], match.production_key.rsplit(":", 1)[1])
        for name in ASSIGNED_FIELDS:
            ids.add(ours_payload.get(name), theirs_payload.get(name))
        if match.kind is Kind.PIPELINE:
            stage_keys[match.sandbox_key] = _match_stages(
                ours_payload, theirs_payload, ids, result, (match.sandbox_key, match.production_key)
            )
    translated: dict[str, Mapping[str, JSONValue]] = {}
    production_key = {m.sandbox_key: m.production_key for m in result.matches}
    sandbox_only: list[tuple[str, str]] = []
    for key in result.sandbox_only:
        payload = sandbox.items[key]
        kind = Kind(key.split(":", 1)[0])
        side_key = _type_of(key, types)
        identity = identity_of(kind, payload)
        if (
            kind in IDENTITY_FIELDS
            and identity is not None
            and not (kind is Kind.ASSOCIATION_LABEL and ":HUBSPOT_DEFINED:" in key)
        ):
            field_value = str(payload.get(IDENTITY_FIELDS[kind]))
            side_key = identity_key(side_key.rsplit(":", 1)[0], field_value)
        production_key[key] = side_key
        sandbox_only.append((key, side_key))
        if kind is Kind.PIPELINE:
            stage_keys[key] = _match_stages(payload, {}, ids, result, (key, side_key))
    for key, side_key in production_key.items():
        payload = _translate(sandbox.items[key], ids.found)
        if key in stage_keys and isinstance(payload.get("stages"), Mapping):
            renamed = stage_keys[key]
            payload["stages"] = {renamed.get(s, s): v for s, v in payload["stages"].items()}
        translated[side_key] = payload
    scopes_ours = {translate_scope(s, types): f for s, f in sandbox.scopes.items()}
    comparable = {
        scope: tuple(sorted({*filters, *scopes_ours[scope]}))
        for scope, filters in production.scopes.items()
        if scope in scopes_ours
    }
    excluded = {k for a in result.ambiguous for k in a.production_keys}
    theirs_items = {k: _stored(k, v) for k, v in production.items.items() if k not in excluded}
    ours_items = {k: _stored(k, v) for k, v in translated.items()}
    by_hash = {i.canonical_hash: translated[k] for k, i in ours_items.items()}
    by_hash |= {i.canonical_hash: production.items[k] for k, i in theirs_items.items()}

    def load(hashes: Iterable[str]) -> dict[str, Mapping[str, JSONValue]]:
        return {h: by_hash[h] for h in hashes}

    comparison = compare(theirs_items, ours_items, comparable, load)
    return CrossPortal(
        matches=tuple(sorted(result.matches, key=lambda m: m.production_key)),
        ambiguous=tuple(result.ambiguous),
        sandbox_only=tuple(sorted(sandbox_only)),
        production_only=tuple(sorted(result.production_only)),
        changes=tuple(comparison.changes),
        translated=translated,
        not_compared=tuple(sorted(set(scopes_ours) ^ set(production.scopes))),
        ids=dict(ids.found),
    )


def _match_stages(
    ours: Mapping[str, JSONValue],
    theirs: Mapping[str, JSONValue],
    ids: _Ids,
    result: _Matching,
    keys: tuple[str, str],
) -> dict[str, str]:
    """A pipeline's stages matched by label: sandbox stage id → production stage id, or the
    stage's label in braces for a stage production's pipeline does not have. A label two
    stages of a side share is ambiguous (listed; those stages keep their ids)."""
    ours_stages, theirs_stages = ours.get("stages"), theirs.get("stages")
    if not isinstance(ours_stages, Mapping):
        return {}
    by_label: dict[str, list[str]] = defaultdict(list)
    if isinstance(theirs_stages, Mapping):
        for stage_id, stage in theirs_stages.items():
            if isinstance(stage, Mapping) and isinstance(stage.get("label"), str):
                by_label[stage["label"]].append(stage_id)
    labels = [s.get("label") for s in ours_stages.values() if isinstance(s, Mapping)]
    renamed: dict[str, str] = {}
    for stage_id, stage in ours_stages.items():
        label = stage.get("label") if isinstance(stage, Mapping) else None
        if not isinstance(label, str):
            continue
        found = by_label.get(label, [])
        if labels.count(label) > 1 or len(found) > 1:
            shared = sorted(i for i, v in ours_stages.items() if _label_of(v) == label)
            if shared[0] == stage_id:  # once per label
                result.ambiguous.append(
                    Ambiguous(
                        Kind.PIPELINE,
                        f"stage label {label!r}",
                        tuple(f"{keys[0]} stages.{i}" for i in shared),
                        tuple(f"{keys[1]} stages.{i}" for i in sorted(found)),
                    )
                )
            continue
        if len(found) == 1:
            ids.add(stage_id, found[0])
            renamed[stage_id] = found[0]
        elif not found and not (isinstance(theirs_stages, Mapping) and stage_id in theirs_stages):
            renamed[stage_id] = f"{{{label}}}"
    return renamed


def _label_of(value: JSONValue) -> str | None:
    label = value.get("label") if isinstance(value, Mapping) else None
    return label if isinstance(label, str) else None


def _stored(key: str, payload: Mapping[str, JSONValue]) -> StoredItem:
    digest = content_hash(payload)
    return StoredItem(Kind(key.split(":", 1)[0]), key, digest, digest)


def pin_problems(
    pins: Mapping[str, str], sandbox: Collection[str], production: Collection[str]
) -> dict[str, str]:
    """Why each bad pin cannot be used, by its sandbox key."""
    problems: dict[str, str] = {}
    targets: dict[str, str] = {}
    for ours, theirs in pins.items():
        if ours not in sandbox:
            problems[ours] = f"the sandbox holds no {ours!r}"
        elif theirs not in production:
            problems[ours] = f"production holds no {theirs!r}"
        elif ours.split(":", 1)[0] != theirs.split(":", 1)[0]:
            problems[ours] = f"{ours!r} and {theirs!r} are of different kinds"
        elif theirs in targets:
            problems[ours] = f"{theirs!r} is pinned to {targets[theirs]!r} already"
        targets.setdefault(theirs, ours)
    return problems


def is_order_change(change: Change) -> bool:
    """A change of siblings' relative order (``stages order``), reported on their parent."""
    return change.field is not None and change.field.endswith(" order")


def op_word(change: Change) -> str:
    return {ChangeOp.ADDED: "+", ChangeOp.REMOVED: "-", ChangeOp.MODIFIED: "~"}[change.op]
