"""The defect lifecycle as a pure plan: what one audit's changes do to the defects already known.

One defect per item and drift: the unplanned changes of one item in one audit are one
:class:`Drift`, fingerprinted by portal, key, operation and content (each field's path and
drifted value), so the same drift seen again is the same defect (``last_seen``,
``occurrences``).

Matching a drift to a known defect, in this order:

1. a defect with the same fingerprint: the same drift. Open or acknowledged, it is seen again;
   waived, it stays waived; closed (resolved, accepted), it reopens;
2. else the item's open, acknowledged or waived defect, when the drift is of the same operation:
   the drift moved on (another value, a field more or less). It stays the same defect, takes the
   new content and fingerprint, and its timeline says ``changed``; a waived one reopens, since
   its waiver tolerated the drift as it was;
3. else a new defect: a different drift on an item after its defect was closed is a new defect,
   never a reopening of the old one.

A known defect that no drift matched, while its part was read completely, closes itself:
``accepted`` when the council approved a newer baseline that took the change in, ``resolved``
with the reason otherwise (reverted; planned or ignored now; superseded by the item's newer
drift).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from hubaudit.errors import UsageError
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.defects import Defect, DefectEventName, DefectStatus, FieldChange, Waiver
from hubaudit.model.defects import field_change_document as field_change_document
from hubaudit.model.defects import field_change_from as field_change_from
from hubaudit.model.governance_log import LogRecord
from hubaudit.model.items import JSONValue, Kind

ACTIVE = frozenset({DefectStatus.OPEN, DefectStatus.ACKNOWLEDGED})
# a waived defect's drift can go away too; then it is resolved like any other
RESOLVABLE = ACTIVE | {DefectStatus.WAIVED}


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def fingerprint(portal: str, key: str, field_path: str | None) -> str:
    """A change's own fingerprint (portal, key, field): the same field change from one audit to
    the next. A defect's is :func:`drift_fingerprint`."""
    text = "\x1f".join((portal, key, field_path or ""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def drift_fingerprint(portal: str, key: str, op: ChangeOp, changes: Iterable[FieldChange]) -> str:
    """A defect's fingerprint: the item and its drift's content (each path and drifted value)."""
    content = sorted(_json([list(c.path), c.after]) for c in changes)
    text = "\x1f".join((portal, key, op.value, *content))
    # a label may hold a lone surrogate (half an emoji cut by HubSpot): hashed, never fatal
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def defect_name(key: str, payload: Mapping[str, JSONValue] | None) -> str:
    """An item's display name: its label, else its name (a user's email), else its key."""
    for attribute in ("label", "name", "email"):
        value = (payload or {}).get(attribute)
        if isinstance(value, str) and value.strip():
            return value
    return key


def worst(severities: Iterable[Severity]) -> Severity:
    return max(severities, key=lambda s: s.rank, default=Severity.INFO)


@dataclass(frozen=True)
class Drift:
    """The unplanned changes of one item in one audit: what one defect is about."""

    portal: str
    kind: Kind
    key: str
    op: ChangeOp
    changes: tuple[FieldChange, ...]
    name: str
    label: str | None = None
    note: str | None = None

    @property
    def fingerprint(self) -> str:
        return drift_fingerprint(self.portal, self.key, self.op, self.changes)

    @property
    def severity(self) -> Severity:
        return worst(c.severity for c in self.changes)

    @property
    def summary(self) -> tuple[str | None, tuple[str | int, ...], JSONValue, JSONValue]:
        """(field, path, before, after) summing the changes up: the one change's, or, for
        several, no field and the values by field."""
        return summary(self.changes)


def summary(
    changes: Sequence[FieldChange],
) -> tuple[str | None, tuple[str | int, ...], JSONValue, JSONValue]:
    """(field, path, before, after) of a defect's changes: see :class:`Defect`."""
    if len(changes) == 1:
        only = changes[0]
        return only.field, only.path, only.before, only.after
    before: dict[str, JSONValue] = {}
    after: dict[str, JSONValue] = {}
    for change in changes:
        name = change.field or ""
        before[name], after[name] = change.before, change.after
    return None, (), before, after


def field_change(change: Change) -> FieldChange:
    named = change.names.field if change.names is not None else None
    return FieldChange(
        change.field,
        change.path,
        change.before,
        change.after,
        change.severity,
        change.attribution,
        named if named and named != change.field else None,
    )


def group_drift(
    portal: str,
    unplanned: Sequence[Change],
    name_of: Callable[[Change], str] = lambda c: c.key,
) -> list[Drift]:
    """The unplanned changes as one drift per item, in the order the items first come;
    ``name_of`` gives the item's display name (see :func:`defect_name`)."""
    by_key: dict[str, list[Change]] = {}
    for change in unplanned:
        by_key.setdefault(change.key, []).append(change)
    drifts = []
    for key, changes in by_key.items():
        first = changes[0]
        ordered = sorted(changes, key=lambda c: _json(list(c.path)))
        notes = list(dict.fromkeys(c.note for c in ordered if c.note))
        drifts.append(
            Drift(
                portal,
                first.kind,
                key,
                first.op,
                tuple(field_change(c) for c in ordered),
                name_of(first),
                first.label,
                "; ".join(notes) or None,
            )
        )
    return drifts


@dataclass(frozen=True)
class Resolution:
    defect: Defect
    status: DefectStatus
    reason: str


@dataclass(frozen=True)
class DefectPlan:
    new: list[Drift] = field(default_factory=list)
    seen_again: list[tuple[Defect, Drift]] = field(default_factory=list)
    reopened: list[tuple[Defect, Drift]] = field(default_factory=list)
    waived: list[tuple[Defect, Drift]] = field(default_factory=list)
    resolved: list[Resolution] = field(default_factory=list)


def plan_defects(
    existing: Mapping[str, Defect],
    drifts: Sequence[Drift],
    is_verified: Callable[[str], bool],
    baseline: BaselineInfo,
    baseline_took_it: Callable[[Defect], bool] = lambda _defect: False,
    explained: Mapping[str, str] | None = None,
) -> DefectPlan:
    """Decide, for every drift and every known defect, what happens to it (see the module).

    ``existing`` maps fingerprint to defect. ``is_verified(key)`` says whether the key's part
    was compared in this audit: a defect whose part was not read stays as it is.
    ``baseline_took_it(defect)`` says whether the current baseline holds the defect's drifted
    values: only then is a vanished defect ``accepted``. ``explained`` maps the keys of items
    whose changes are still there but no longer defects (planned by a CR, or ignored by a rule)
    to why: their defects resolve with that reason.
    """
    explained = explained or {}
    plan = DefectPlan()
    # the item's defect still in play; the newest one, should there be several
    in_play: dict[str, Defect] = {}
    for known in sorted(existing.values(), key=lambda d: d.id):
        if known.status in RESOLVABLE:
            in_play[known.key] = known
    matched: set[int] = set()
    for drift in drifts:
        defect: Defect | None = existing.get(drift.fingerprint)
        if defect is None:
            candidate = in_play.get(drift.key)
            if candidate is not None and candidate.op is drift.op and candidate.id not in matched:
                defect = candidate
        if defect is None:
            plan.new.append(drift)
            continue
        matched.add(defect.id)
        if defect.status in ACTIVE:
            plan.seen_again.append((defect, drift))
        elif defect.status is DefectStatus.WAIVED and defect.fingerprint == drift.fingerprint:
            plan.waived.append((defect, drift))
        else:
            # closed and back, or waived as it was and drifted on since
            plan.reopened.append((defect, drift))
    drifted = {d.key: d for d in drifts}
    for defect in existing.values():
        if defect.id in matched or defect.status not in RESOLVABLE:
            continue
        if not is_verified(defect.key):
            continue
        if defect.key in drifted:
            what = (
                "the whole item was removed"
                if drifted[defect.key].op is ChangeOp.REMOVED
                else ("the item drifted again")
            )
            plan.resolved.append(Resolution(defect, DefectStatus.RESOLVED, f"superseded: {what}"))
        elif defect.key in explained:
            plan.resolved.append(Resolution(defect, DefectStatus.RESOLVED, explained[defect.key]))
        elif defect.baseline_version != baseline.version and baseline_took_it(defect):
            reason = f"accepted into baseline v{baseline.version}"
            plan.resolved.append(Resolution(defect, DefectStatus.ACCEPTED, reason))
        else:
            plan.resolved.append(Resolution(defect, DefectStatus.RESOLVED, "reverted"))
    return plan


# What to write -----------------------------------------------------------------------------
# The plan says what happens to each defect; the functions below say what that means for the
# database (statuses, timeline entries, waivers ended, log entries), so the store only writes.

HUBAUDIT = "hubaudit"
"""The actor of what the nightly job decides by itself."""


@dataclass(frozen=True)
class TimelineEntry:
    """One entry to append to a defect's timeline."""

    name: DefectEventName
    detail: Mapping[str, JSONValue]


@dataclass(frozen=True)
class Sighting:
    """A known defect seen again in this audit: its row takes the drift's content (and
    fingerprint); ``reopen`` makes it open again (its resolution and any acceptance are
    history now)."""

    defect: Defect
    drift: Drift
    reopen: bool
    timeline: tuple[TimelineEntry, ...]


@dataclass(frozen=True)
class Closing:
    """A known defect whose drift went away: its status, reason and timeline entry."""

    resolution: Resolution
    entry: TimelineEntry


@dataclass(frozen=True)
class DefectWrites:
    """Everything one audit writes to the defects, in order: new ones (each with its ``opened``
    entry), sightings, waivers ended (defect id, why), then closings."""

    opened: tuple[tuple[Drift, TimelineEntry], ...] = ()
    sightings: tuple[Sighting, ...] = ()
    waivers_ended: tuple[tuple[int, str], ...] = ()
    closings: tuple[Closing, ...] = ()


def drift_detail(changes: Sequence[FieldChange]) -> dict[str, JSONValue]:
    """A timeline entry's detail: each field and the value it drifted to."""
    return {"changes": [{"field": c.field, "after": c.after} for c in changes]}


def defect_writes(plan: DefectPlan) -> DefectWrites:
    """What the database must hold after ``plan``: a new defect opens; a sighting records a
    ``changed`` entry when the drift moved on (its content, so its fingerprint, changed); a
    reopened defect ends its waiver (``drift changed``) and says ``reopened``; a resolved one
    ends its waiver (``drift resolved``) and says how it closed."""
    opened = tuple(
        (drift, TimelineEntry(DefectEventName.OPENED, drift_detail(drift.changes)))
        for drift in plan.new
    )
    reopened = {defect.id for defect, _drift in plan.reopened}
    sightings = []
    for defect, drift in [*plan.seen_again, *plan.reopened, *plan.waived]:
        timeline: list[TimelineEntry] = []
        if drift.fingerprint != defect.fingerprint:
            timeline.append(TimelineEntry(DefectEventName.CHANGED, drift_detail(drift.changes)))
        if defect.id in reopened:
            timeline.append(TimelineEntry(DefectEventName.REOPENED, {}))
        sightings.append(Sighting(defect, drift, defect.id in reopened, tuple(timeline)))
    ended = [(defect.id, "drift changed") for defect, _drift in plan.reopened]
    ended += [(r.defect.id, "drift resolved") for r in plan.resolved]
    closings = tuple(
        Closing(r, TimelineEntry(_CLOSED[r.status], {"resolution": r.reason}))
        for r in plan.resolved
    )
    return DefectWrites(opened, tuple(sightings), tuple(ended), closings)


_CLOSED = {
    DefectStatus.RESOLVED: DefectEventName.RESOLVED,
    DefectStatus.ACCEPTED: DefectEventName.ACCEPTED,
}


@dataclass(frozen=True)
class WaiverExpiry:
    """A waiver that ran out: it ends (``expired``), its defect is open again, and the
    timeline and the governance log say so."""

    waiver: Waiver
    entry: TimelineEntry
    log: LogRecord


def expired_waivers(waivers: Sequence[Waiver], at: datetime) -> list[WaiverExpiry]:
    """Of the waivers in force on waived defects, those that ran out by ``at``, by defect."""
    found = []
    for waiver in sorted(waivers, key=lambda w: (w.defect_id, w.id)):
        if waiver.ended_at is not None or waiver.until > at:
            continue
        until = waiver.until.isoformat()
        entry = TimelineEntry(DefectEventName.WAIVER_EXPIRED, {"until": until})
        log = expiry_record("waiver.expired", "defect", waiver.defect_id, waiver.reason, until)
        found.append(WaiverExpiry(waiver, entry, log))
    return found


def expiry_record(action: str, noun: str, ident: int, reason: str, until: str) -> LogRecord:
    """The log entry of a waiver of the ``noun`` (defect, finding) ``ident`` that ran out."""
    return LogRecord(
        HUBAUDIT,
        action,
        f"{noun} #{ident}",
        f"waiver ({reason}) ended {until}; the {noun} is open again",
        {noun: ident, "until": until},
    )


def require_statuses(
    statuses: Mapping[int, DefectStatus],
    portal: str,
    defect_ids: Collection[int],
    allowed_from: Collection[DefectStatus],
    becoming: str,
) -> None:
    """Every defect named must exist (``statuses`` holds the portal's, by id) and be in one of
    the statuses ``allowed_from``, or nothing is decided."""
    for defect_id in sorted(defect_ids):
        status = statuses.get(defect_id)
        if status is None:
            raise UsageError(f"portal {portal!r} has no defect {defect_id}")
        if status not in allowed_from:
            names = sorted(s.value for s in allowed_from)
            choices = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
            raise UsageError(
                f"defect {defect_id} is {status.value}; only {choices} defects can become "
                f"{becoming}"
            )


@dataclass(frozen=True)
class StatusDecision:
    """A person's decision on defects: the new status, the resolution text (for ``resolved``),
    each defect's timeline entry and the log entry."""

    status: DefectStatus
    resolution: str | None
    entry: TimelineEntry
    log: LogRecord


def decide_status(
    defect_ids: Collection[int], status: DefectStatus, by: str, note: str
) -> StatusDecision:
    """Acknowledge or resolve defects by hand (the statuses were checked already)."""
    resolution = None
    if status is DefectStatus.RESOLVED:
        resolution = f"resolved by {by}: {note}" if note else f"resolved by {by}"
    return StatusDecision(
        status,
        resolution,
        TimelineEntry(DefectEventName(status.value), {"by": by, "note": note}),
        LogRecord(
            by,
            f"defects.{status.value}",
            defects_subject(defect_ids),
            note,
            {"defects": sorted(defect_ids)},
        ),
    )


@dataclass(frozen=True)
class Assignment:
    """Who is to handle defects and by when: ``values`` holds the columns that change
    (``owner``, ``due``; None clears one), with the timeline entry and the log entry."""

    values: Mapping[str, str | date | None]
    entry: TimelineEntry
    log: LogRecord


def decide_assignment(
    defect_ids: Collection[int], by: str, given: Mapping[str, str | date | None]
) -> Assignment:
    """Assign defects to an ``owner`` (an email) and a ``due`` date, or clear either (None);
    what ``given`` does not name stays as it is. It must name at least one."""
    unknown = set(given) - {"owner", "due"}
    if unknown:
        raise UsageError(f"a defect is assigned an owner and a due date, not {sorted(unknown)}")
    values = dict(given)
    owner = values.get("owner")
    if owner is not None:
        if not isinstance(owner, str) or not _EMAIL.fullmatch(owner.strip()):
            raise UsageError(f"the owner must be an email address, not {owner!r}")
        values["owner"] = owner.strip()
    due = values.get("due")
    if due is not None and (not isinstance(due, date) or isinstance(due, datetime)):
        raise UsageError(f"the due date must be a day, not {due!r}")
    if not values:
        raise UsageError("say whom to assign the defects to (--owner), by when (--due), or --clear")
    detail: dict[str, JSONValue] = {"by": by}
    for name, value in values.items():
        detail[name] = value.isoformat() if isinstance(value, date) else value
    said = [
        f"{name} {detail[name]}" if values[name] is not None else f"no {name}"
        for name in ("owner", "due")
        if name in values
    ]
    return Assignment(
        values,
        TimelineEntry(DefectEventName.ASSIGNED, detail),
        LogRecord(
            by,
            "defects.assigned",
            defects_subject(defect_ids),
            ", ".join(said),
            {"defects": sorted(defect_ids), **{k: v for k, v in detail.items() if k != "by"}},
        ),
    )


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def defects_subject(defect_ids: Collection[int]) -> str:
    ids = sorted(defect_ids)
    text = "defect " if len(ids) == 1 else "defects "
    text += ", ".join(f"#{i}" for i in ids)
    return text if len(text) <= 64 else f"{len(ids)} defects"
