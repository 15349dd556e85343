"""The defect lifecycle as a pure plan: what one audit's changes do to the defects already known.

One defect per real problem: its fingerprint is (portal, key, field path). Seen again, it is the
same defect (``last_seen``, ``occurrences``); gone while its part was read completely, it resolves
itself: ``reverted`` when the portal went back to the same baseline, ``accepted`` when the council
approved a newer baseline that took the change in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from hubaudit.errors import UsageError
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change, ChangeOp
from hubaudit.model.defects import Defect, DefectEventName, DefectStatus, Waiver
from hubaudit.model.governance_log import LogRecord
from hubaudit.model.items import JSONValue

ACTIVE = frozenset({DefectStatus.OPEN, DefectStatus.ACKNOWLEDGED})
# a waived defect's drift can go away too; then it is resolved like any other
RESOLVABLE = ACTIVE | {DefectStatus.WAIVED}


def _same(a: object, b: object) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def fingerprint(portal: str, key: str, field_path: str | None) -> str:
    text = "\x1f".join((portal, key, field_path or ""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Resolution:
    defect: Defect
    status: DefectStatus
    reason: str


@dataclass(frozen=True)
class DefectPlan:
    new: list[Change] = field(default_factory=list)
    seen_again: list[tuple[Defect, Change]] = field(default_factory=list)
    reopened: list[tuple[Defect, Change]] = field(default_factory=list)
    waived: list[tuple[Defect, Change]] = field(default_factory=list)
    resolved: list[Resolution] = field(default_factory=list)


def plan_defects(
    existing: Mapping[str, Defect],
    unplanned: Sequence[Change],
    is_verified: Callable[[str], bool],
    baseline: BaselineInfo,
    baseline_took_it: Callable[[Defect], bool] = lambda _defect: False,
    explained: Mapping[str, str] | None = None,
) -> DefectPlan:
    """Decide, for every unplanned change and every known defect, what happens to it.

    ``existing`` maps fingerprint to defect; each change carries its fingerprint.
    ``is_verified(key)`` says whether the key's part was compared in this audit: a defect whose
    part was not read stays as it is. ``baseline_took_it(defect)`` says whether the current
    baseline holds the defect's drifted value: only then is a vanished defect ``accepted``.
    ``explained`` maps the fingerprints of changes that are still there but no longer defects
    (planned by a CR, or ignored by a rule) to why: their defects resolve with that reason.
    """
    explained = explained or {}
    plan = DefectPlan()
    seen: set[str] = set()
    for change in unplanned:
        seen.add(change.fingerprint)
        defect = existing.get(change.fingerprint)
        if defect is None:
            plan.new.append(change)
        elif defect.status in ACTIVE:
            plan.seen_again.append((defect, change))
        elif defect.status is DefectStatus.WAIVED and _same(defect.after, change.after):
            plan.waived.append((defect, change))
        elif defect.status is DefectStatus.WAIVED:
            # the waiver tolerated one value; the item has drifted on to another
            plan.reopened.append((defect, change))
        else:
            plan.reopened.append((defect, change))
    removed_now = {c.key for c in unplanned if c.op is ChangeOp.REMOVED}
    for print_, defect in existing.items():
        if print_ in seen or defect.status not in RESOLVABLE or not is_verified(defect.key):
            continue
        if print_ in explained:
            plan.resolved.append(Resolution(defect, DefectStatus.RESOLVED, explained[print_]))
        elif defect.field is not None and defect.key in removed_now:
            # Not reverted: the whole item is gone, which its own defect reports.
            reason = "superseded: the whole item was removed"
            plan.resolved.append(Resolution(defect, DefectStatus.RESOLVED, reason))
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
    """A known defect seen again in this audit: its row takes the change's values; ``reopen``
    makes it open again (its resolution and any acceptance are history now)."""

    defect: Defect
    change: Change
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

    opened: tuple[tuple[Change, TimelineEntry], ...] = ()
    sightings: tuple[Sighting, ...] = ()
    waivers_ended: tuple[tuple[int, str], ...] = ()
    closings: tuple[Closing, ...] = ()


def defect_writes(plan: DefectPlan) -> DefectWrites:
    """What the database must hold after ``plan``: a new defect opens; a sighting records a
    ``changed`` entry when the drift moved on to another value; a reopened defect ends its
    waiver (``drift changed``) and says ``reopened``; a resolved one ends its waiver (``drift
    resolved``) and says how it closed."""
    opened = tuple(
        (change, TimelineEntry(DefectEventName.OPENED, {"after": change.after}))
        for change in plan.new
    )
    reopened = {defect.id for defect, _change in plan.reopened}
    sightings = []
    for defect, change in [*plan.seen_again, *plan.reopened, *plan.waived]:
        timeline: list[TimelineEntry] = []
        if not _same(change.after, defect.after):
            timeline.append(TimelineEntry(DefectEventName.CHANGED, {"after": change.after}))
        if defect.id in reopened:
            timeline.append(TimelineEntry(DefectEventName.REOPENED, {}))
        sightings.append(Sighting(defect, change, defect.id in reopened, tuple(timeline)))
    ended = [(defect.id, "drift changed") for defect, _change in plan.reopened]
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


def defects_subject(defect_ids: Collection[int]) -> str:
    ids = sorted(defect_ids)
    text = "defect " if len(ids) == 1 else "defects "
    text += ", ".join(f"#{i}" for i in ids)
    return text if len(text) <= 64 else f"{len(ids)} defects"
