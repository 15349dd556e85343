"""Promotion across portals: compare a sandbox with production, and plan its changes as a CR.

``compare_portals`` reads two points of two portals from the store (``latest`` with its stand-ins,
a date, a snapshot id or a baseline version, as ``diff`` takes them), matches and translates them
(``hubaudit.analysis.promotion``) and says for each difference whether production already has
it, whether
production's approved baseline has it, and which approved change request of production plans it.
``promote`` files the differences a person selects as one change request of production: its keys,
the sandbox's values. The council approves it as any CR; the audit then classifies production's
drift against it. No HubSpot call: everything comes from stored snapshots.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from hubaudit.analysis.canonical import canonical_json
from hubaudit.analysis.compare import value_at
from hubaudit.analysis.promotion import (
    ASSIGNED_FIELDS,
    CrossPortal,
    Difference,
    PortalComparison,
    Side,
    cross_compare,
    is_order_change,
    pin_problems,
)
from hubaudit.config import Config
from hubaudit.errors import ConfigError, UsageError
from hubaudit.governance.change_requests import classify_planned, resolve_field
from hubaudit.keys import key_problem, names_item
from hubaudit.model.change_requests import ChangeRequest, CRStatus, PlannedChange
from hubaudit.model.changes import Change, ChangeOp, Classification
from hubaudit.model.history import Point
from hubaudit.model.items import JSONValue, Kind, StoredItem
from hubaudit.policies.severity import DEFAULT_RULES, SeverityRule, rules_with, with_severity
from hubaudit.services.actor import Actor
from hubaudit.services.audit_run import utc_now
from hubaudit.services.timetravel import point_items, resolve_point
from hubaudit.store.council import CouncilStore
from hubaudit.store.repository import Store

DEFAULT_WINDOW = timedelta(days=90)
"""How long a promotion CR plans its changes unless told otherwise."""

_JSON_TYPES = (dict, list, str, int, float, bool, type(None))

_NOT_PROMOTED = ("displayOrder",)
"""Fields a promotion never expects: where production puts a new item among its siblings."""


# the mapping file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    sandbox_key: str
    production_key: str
    line: int | None


@dataclass(frozen=True)
class MappingFile:
    """A mapping file: renamed items pinned to their counterparts (``[pins]``)."""

    file: str
    pins: tuple[Pin, ...] = ()

    def as_dict(self) -> dict[str, str]:
        return {p.sandbox_key: p.production_key for p in self.pins}

    def error(self, sandbox_key: str, message: str) -> ConfigError:
        line = next((p.line for p in self.pins if p.sandbox_key == sandbox_key), None)
        return ConfigError(message, file=self.file, line=line, key=f"pins.{sandbox_key}")


NO_MAPPING = MappingFile("")


def load_mapping(path: Path) -> MappingFile:
    """A TOML or YAML file with one table ``pins`` of sandbox key = production key::

        [pins]
        "workflow:1301004" = "workflow:1201004"   # renamed in the sandbox

    A broken file is a :class:`ConfigError` naming the file, the line and the key."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the mapping file: {exc.strerror}", file=file) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("the mapping file is not UTF-8 text", file=file) from exc
    data: Any
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise ConfigError(f"not valid YAML: {exc}", file=file, line=line) from exc
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"^(.*?)\s*\(at line (\d+), column \d+\)$", str(exc))
            message, line = (found.group(1), int(found.group(2))) if found else (str(exc), None)
            raise ConfigError(f"not valid TOML: {message}", file=file, line=line) from exc
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError("must be a table with a [pins] table", file=file, line=1)
    unknown = sorted(set(data) - {"pins"})
    if unknown:
        raise ConfigError(
            "unknown key (a mapping file holds one table, pins)",
            file=file,
            line=_line_of(text, unknown[0]),
            key=unknown[0],
        )
    raw = data.get("pins", {})
    if not isinstance(raw, dict):
        raise ConfigError(
            'must be a table of "sandbox key" = "production key"',
            file=file,
            line=_line_of(text, "pins"),
            key="pins",
        )
    pins: list[Pin] = []
    for ours, theirs in raw.items():
        line = _line_of(text, ours)
        where = f"pins.{ours}"
        if not isinstance(theirs, str):
            raise ConfigError("must be a production key (text)", file=file, line=line, key=where)
        for key in (ours, theirs):
            problem = key_problem(key)
            if problem is not None:
                raise ConfigError(problem, file=file, line=line, key=where)
        if ours.split(":", 1)[0] != theirs.split(":", 1)[0]:
            raise ConfigError(
                f"{ours!r} and {theirs!r} are of different kinds", file=file, line=line, key=where
            )
        pins.append(Pin(ours, theirs, line))
    return MappingFile(file, tuple(pins))


def _line_of(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip().lstrip("[").strip("'\"")
        if stripped.startswith(key) or line.lstrip().startswith((f'"{key}"', f"'{key}'")):
            return number
    return None


# comparing -----------------------------------------------------------------------------------


def counterpart(config: Config, portal: str, against: str | None) -> str:
    """The production portal a sandbox is compared with: ``--against``, else its ``sandbox_of``."""
    sandbox = config.portal(portal)
    if against is not None:
        other = config.portal(against).name
    elif sandbox.sandbox_of is not None:
        other = sandbox.sandbox_of
    else:
        raise UsageError(
            f"portal {portal!r} is no sandbox_of another portal in the config: name the "
            "production portal to compare it with (--against)"
        )
    if other == sandbox.name:
        raise UsageError("a portal compared with itself has no differences to show")
    return other


def sandboxes_of(config: Config, production: str) -> list[str]:
    """The portals the config marks as sandboxes of ``production``."""
    return [p.name for p in config.portals if p.sandbox_of == production]


def _side(store: Store, point: Point) -> tuple[Side, dict[str, StoredItem]]:
    items = point_items(store, point)
    payloads = store.load_payloads({i.canonical_hash for i in items.values()})
    return Side({k: payloads[i.canonical_hash] for k, i in items.items()}, point.scopes), items


def compare_portals(
    store: Store,
    sandbox: str,
    production: str,
    *,
    sandbox_at: str = "latest",
    production_at: str = "latest",
    mapping: MappingFile = NO_MAPPING,
    severity_rules: Sequence[SeverityRule] = DEFAULT_RULES,
    now: datetime | None = None,
) -> PortalComparison:
    """Every difference between a sandbox and production at two points, with the three-way view.

    ``sandbox_at`` and ``production_at`` are points as ``diff`` takes them."""
    sandbox_point = resolve_point(store, sandbox, sandbox_at)
    production_point = resolve_point(store, production, production_at)
    ours, _ = _side(store, sandbox_point)
    theirs, _ = _side(store, production_point)
    pins = mapping.as_dict()
    problems = pin_problems(pins, ours.items.keys(), theirs.items.keys())
    if problems:
        first = sorted(problems)[0]
        raise mapping.error(first, problems[first])
    result = cross_compare(ours, theirs, pins)
    now = now or utc_now()
    production_latest = _payloads_at(store, production, "latest")
    baseline = store.latest_baseline(production)
    baseline_items = _payloads_of(store, store.baseline_items(baseline.id)) if baseline else None
    requests = [
        r
        for r in CouncilStore(store).requests(production)
        if r.status is CRStatus.APPROVED and r.valid_until > now
    ]
    sandbox_keys = {production_key: key for key, production_key in _pairs(result)}
    differences = []
    for change in result.changes:
        change = with_severity(change, severity_rules)
        after = result.translated.get(change.key)
        differences.append(
            Difference(
                change=change,
                sandbox_key=sandbox_keys.get(change.key),
                in_production=_holds(production_latest, change, after),
                in_baseline=None
                if baseline_items is None
                else _holds(baseline_items, change, after),
                planned_by=_planned_by(change, requests, after),
            )
        )
    return PortalComparison(
        sandbox,
        production,
        sandbox_point,
        production_point,
        result,
        tuple(differences),
        baseline.version if baseline else None,
        mapping.file,
    )


def _pairs(result: CrossPortal) -> list[tuple[str, str]]:
    return [(m.sandbox_key, m.production_key) for m in result.matches] + list(result.sandbox_only)


def _payloads_of(store: Store, items: Mapping[str, StoredItem]) -> dict[str, JSONValue]:
    payloads = store.load_payloads({i.canonical_hash for i in items.values()})
    return {k: payloads[i.canonical_hash] for k, i in items.items()}


def _payloads_at(store: Store, portal: str, ref: str) -> dict[str, JSONValue]:
    try:
        point = resolve_point(store, portal, ref)
    except UsageError:
        return {}
    return _payloads_of(store, point_items(store, point))


def _find(items: Mapping[str, JSONValue], key: str) -> JSONValue:
    """The item ``key`` names (by key, or by identity for an item promoted by name)."""
    if key in items:
        return items[key]
    prefix = key.split(":", 1)[0] + ":"
    for candidate, payload in items.items():
        if candidate.startswith(prefix) and names_item(key, candidate, payload):
            return payload
    return None


def _holds(items: Mapping[str, JSONValue], change: Change, after: JSONValue) -> bool:
    """Do these items hold the sandbox's side of the change?"""
    held = _find(items, change.key)
    if change.op is ChangeOp.REMOVED:
        return held is None
    if held is None:
        return False
    if change.op is ChangeOp.ADDED:
        return all(_field_is(held, name, v) for name, v in _added_expect(after).items())
    if change.field is not None and "{" in change.field:  # a stage named by its label
        return _field_is(held, change.field, change.after)
    return _same(value_at(held, change.path), change.after)


def _field_is(payload: JSONValue, field: str, value: JSONValue) -> bool:
    found = resolve_field(payload, field)  # a sentinel object when absent
    return isinstance(found, _JSON_TYPES) and _same(found, value)


def _same(a: JSONValue, b: JSONValue) -> bool:
    return canonical_json(a) == canonical_json(b)


def _planned_by(change: Change, requests: Sequence[ChangeRequest], after: JSONValue) -> int | None:
    found = classify_planned(change, requests, after)
    if found is None or found.classification is not Classification.PLANNED:
        return None
    return found.change_request


# promoting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which differences to promote: every one, or those of these kinds or key globs."""

    every: bool = False
    kinds: tuple[Kind, ...] = ()
    keys: tuple[str, ...] = ()

    def takes(self, difference: Difference) -> bool:
        if self.every:
            return True
        change = difference.change
        if change.kind in self.kinds:
            return True
        names = [change.key] + ([difference.sandbox_key] if difference.sandbox_key else [])
        return any(fnmatchcase(name, glob) for name in names for glob in self.keys)


@dataclass(frozen=True)
class Promotion:
    request: ChangeRequest
    planned: tuple[PlannedChange, ...]
    skipped: tuple[tuple[Difference, str], ...]
    """Selected differences left out, and why."""


def planned_changes(
    differences: Sequence[Difference], translated: Mapping[str, JSONValue]
) -> tuple[list[PlannedChange], list[tuple[Difference, str]]]:
    """The selected differences as planned changes, one per item: production's keys, the
    sandbox's values. Reorders, and what production already holds, are left out (and said)."""
    skipped: list[tuple[Difference, str]] = []
    by_key: dict[str, list[Difference]] = {}
    for difference in differences:
        if is_order_change(difference.change):
            skipped.append((difference, "an order of siblings is not promoted; set it by hand"))
        elif difference.in_production:
            skipped.append((difference, "production already holds it"))
        else:
            by_key.setdefault(difference.change.key, []).append(difference)
    planned: list[PlannedChange] = []
    for key, found in sorted(by_key.items()):
        op = found[0].change.op
        if op is ChangeOp.REMOVED:
            planned.append(PlannedChange(ChangeOp.REMOVED, key))
        elif op is ChangeOp.ADDED:
            planned.append(PlannedChange(ChangeOp.ADDED, key, _added_expect(translated.get(key))))
        else:
            expect: dict[str, JSONValue] = {}
            for difference in found:
                change = difference.change
                if change.after is None or change.field is None:
                    continue  # a field the sandbox dropped: no value to expect
                expect.update(_leaves(change.field, change.after))
            planned.append(PlannedChange(ChangeOp.MODIFIED, key, expect))
    return planned, skipped


def _added_expect(payload: JSONValue) -> dict[str, JSONValue]:
    """What a new item must hold: its fields but the ids the portal assigns; its stages (which
    production numbers its own way) field by field, by label."""
    if not isinstance(payload, Mapping):
        return {}
    expect: dict[str, JSONValue] = {}
    for name, value in payload.items():
        if name in ASSIGNED_FIELDS or name in _NOT_PROMOTED:
            continue
        if name == "stages" and isinstance(value, Mapping):
            for stage_id, stage in value.items():
                label = stage.get("label") if isinstance(stage, Mapping) else None
                ident = f"{{{label}}}" if isinstance(label, str) else str(stage_id)
                expect.update(_leaves(f"stages.{ident}", stage))
            continue
        expect[name] = value
    return expect


def _leaves(prefix: str, value: JSONValue) -> dict[str, JSONValue]:
    """A map as its leaves' dotted fields (``stages.{Legal review}.metadata.probability``)."""
    if not isinstance(value, Mapping) or not value:
        return {prefix: value}
    found: dict[str, JSONValue] = {}
    for name, inner in value.items():
        if name in _NOT_PROMOTED:
            continue
        found.update(_leaves(f"{prefix}.{name}", inner))
    return found


def promote_differences(
    store: Store,
    comparison: PortalComparison,
    selection: Selection,
    *,
    title: str,
    actor: Actor,
    reason: str = "",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    now: datetime | None = None,
) -> Promotion:
    """File the selected differences as one proposed change request of production."""
    if not title.strip():
        raise UsageError("a promotion needs a --title")
    selected = [d for d in comparison.differences if selection.takes(d)]
    if not selected:
        raise UsageError(
            f"no difference between {comparison.sandbox} and {comparison.production} is "
            "selected: name --kind, --key or --all (`hubaudit compare` lists them)"
        )
    planned, skipped = planned_changes(selected, comparison.result.translated)
    if not planned:
        reasons = "; ".join(sorted({why for _, why in skipped}))
        raise UsageError(f"nothing to promote: {reasons}")
    now = now or utc_now()
    start = valid_from or now
    end = valid_until or start + DEFAULT_WINDOW
    if end <= start:
        raise UsageError("--until must be after --from")
    note = reason.strip() or (
        f"promoted from {comparison.sandbox} ({comparison.sandbox_point.name})"
    )
    request = CouncilStore(store).create_request(
        comparison.production,
        title=title.strip(),
        by=actor.name,
        at=now,
        valid_from=start,
        valid_until=end,
        changes=planned,
        note=note,
    )
    return Promotion(request, tuple(planned), tuple(skipped))


def selection_kinds(names: Collection[str]) -> tuple[Kind, ...]:
    kinds = []
    for name in names:
        try:
            kinds.append(Kind(name))
        except ValueError as exc:
            known = ", ".join(k.value for k in Kind)
            raise UsageError(f"--kind {name!r} is not a kind ({known})") from exc
    return tuple(kinds)


# reports -------------------------------------------------------------------------------------


def pending_promotion_notes(
    store: Store, config: Config, production: str, now: datetime | None = None
) -> list[str]:
    """One line per sandbox of ``production`` (``sandbox_of`` in the config): what it holds that
    production does not, by their latest snapshots, for production's audit report and the
    nightly job. Never raises: a sandbox not compared says why."""
    notes = []
    for sandbox in sandboxes_of(config, production):
        try:
            comparison = compare_portals(
                store,
                sandbox,
                production,
                severity_rules=rules_with(config.severity_overrides),
                now=now,
            )
        except (UsageError, ConfigError) as exc:
            notes.append(f"pending promotion from sandbox {sandbox}: not compared ({exc})")
            continue
        differences = comparison.differences
        planned = sorted({d.planned_by for d in differences if d.planned_by is not None})
        crs = f" ({', '.join(f'CR-{i}' for i in planned)})" if planned else ""
        notes.append(
            f"pending promotion from sandbox {sandbox} "
            f"({comparison.sandbox_point.name}): {len(differences)} differences, "
            f"{sum(1 for d in differences if d.planned_by is not None)} planned by an approved "
            f"change request{crs}; see `hubaudit compare --portal {sandbox}`"
            if differences
            else f"pending promotion from sandbox {sandbox}: none, production holds everything "
            "it holds"
        )
    return notes
