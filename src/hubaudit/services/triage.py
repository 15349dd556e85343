"""RevOps' triage: defects (acknowledge, resolve, waive, accept into the proposed baseline) and
policy findings (waive), and the read side those decisions are taken from.

Every decision names its :class:`Actor`; the store records the actor's name, in the same
transaction as the decision's entry in the governance log or the defect's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from hubaudit.governance.triage import Triaged, defects_in_triage_order, latest_audit
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change, ChangeNames, Dependency, Severity
from hubaudit.model.defects import Defect, DefectEvent, DefectStatus, FieldChange
from hubaudit.model.findings import Finding, FindingStatus
from hubaudit.model.items import JSONValue, Kind
from hubaudit.services.actor import Actor
from hubaudit.services.terms import Clock, note_for, optional_note, utc_now, waiver_terms
from hubaudit.store.reads import StoreReader

if TYPE_CHECKING:
    from hubaudit.store.repository import Store


@dataclass(frozen=True)
class DefectQuery:
    """Which defects to list; an empty criterion matches all. ``overdue_on``: only those due
    before that day and still open or acknowledged."""

    statuses: tuple[DefectStatus, ...] = ()
    severities: tuple[Severity, ...] = ()
    kinds: tuple[Kind, ...] = ()
    since: datetime | None = None
    owners: tuple[str, ...] = ()
    overdue_on: date | None = None


@dataclass(frozen=True)
class DefectTimeline:
    """One defect and everything that happened to it, with what depends on its item in the
    portal's latest snapshot."""

    defect: Defect
    events: tuple[DefectEvent, ...]
    dependents: tuple[Dependency, ...] = ()
    names: ChangeNames | None = None
    """The defect's (first) change in people's words, from the latest snapshot and baseline."""
    field_names: tuple[ChangeNames | None, ...] = ()
    """Each of ``defect.changes`` in people's words, in the same order."""


@dataclass(frozen=True)
class FindingQuery:
    """Which findings to list; an empty criterion matches all."""

    statuses: tuple[FindingStatus, ...] = ()
    policies: tuple[str, ...] = ()
    severities: tuple[Severity, ...] = ()


# reading -------------------------------------------------------------------------------------


def list_defects(
    store: StoreReader, portal: str, query: DefectQuery = DefectQuery()
) -> list[Defect]:
    """The portal's defects, oldest first."""
    return store.defects(
        portal,
        query.statuses or None,
        severities=query.severities or None,
        kinds=query.kinds or None,
        since=query.since,
        owners=[o.strip() for o in query.owners] or None,
        due_before=query.overdue_on,
    )


def defect_statuses(store: Store, portal: str, ids: Sequence[int]) -> dict[int, DefectStatus]:
    """Where each of the portal's defects ``ids`` stands now, by id (one it lacks: left out)."""
    if not ids:
        return {}
    return {d.id: d.status for d in store.defects(portal, ids=list(ids))}


def triage_defects(
    store: StoreReader, portal: str, query: DefectQuery = DefectQuery(), clock: Clock = utc_now
) -> list[Triaged]:
    """The portal's defects in triage order (``governance.triage.defects_in_triage_order``):
    what to act on now first, what is handled last. "New" is what the latest audit that saw
    any of the portal's defects first saw."""
    found = list_defects(store, portal, query)
    everything = found if query == DefectQuery() else store.defects(portal)
    return defects_in_triage_order(found, clock(), latest_audit(everything))


def defect_timeline(store: StoreReader, portal: str, defect_id: int) -> DefectTimeline:
    from hubaudit.services.latest import latest_point
    from hubaudit.services.timetravel import dependents_of

    defect = store.defect(portal, defect_id)
    point = latest_point(store, portal)
    dependents: tuple[Dependency, ...] = ()
    if point is not None:
        dependents = dependents_of(store, point, defect.key)
    named = defect_names(store, portal, defect)
    return DefectTimeline(
        defect,
        tuple(store.defect_events(defect.id)),
        dependents,
        named[0] if named else None,
        named,
    )


def defect_names(store: StoreReader, portal: str, defect: Defect) -> tuple[ChangeNames | None, ...]:
    """Names for each of a defect's field changes: its item, field and values as the latest
    snapshot and the approved baseline name them (the item itself and what its ids point at,
    nothing more)."""
    from hubaudit.services.stored_views import NAMING_KINDS, names_of
    from hubaudit.store.items import ItemSelection, baseline_items_in, snapshot_items_in

    snapshot = store.latest_snapshot(portal)
    baseline = store.latest_baseline(portal)
    wanted = ItemSelection(keys=frozenset({defect.key}), kinds=NAMING_KINDS)
    after = snapshot_items_in(store, snapshot.id, wanted) if snapshot is not None else {}
    before = baseline_items_in(store, baseline.id, wanted) if baseline is not None else {}
    names = names_of(store, {defect.key}, after, before)
    return tuple(names.change(c).names for c in _as_changes(defect))


def list_findings(store: Store, portal: str, query: FindingQuery = FindingQuery()) -> list[Finding]:
    """The portal's findings: open first, then worst first."""
    from hubaudit.errors import UsageError
    from hubaudit.policies.builtin import BUILTIN_POLICIES
    from hubaudit.store.findings import FindingStore

    known = {p.id for p in BUILTIN_POLICIES}
    for policy in query.policies:
        if policy not in known:
            raise UsageError(f"no policy {policy!r} (known: {', '.join(sorted(known))})")
    found = FindingStore(store).findings(
        portal,
        list(query.statuses) or None,
        policies=list(query.policies) or None,
        severities=list(query.severities) or None,
    )
    found.sort(key=lambda f: (f.status is not FindingStatus.OPEN, -f.severity.rank, f.id))
    return found


def finding(store: Store, portal: str, finding_id: int) -> Finding:
    from hubaudit.store.findings import FindingStore

    return FindingStore(store).finding(portal, finding_id)


# defect decisions ----------------------------------------------------------------------------


def assign_defects(
    store: Store,
    portal: str,
    defect_ids: Sequence[int],
    actor: Actor,
    *,
    owner: str | None = None,
    due: date | None = None,
    clear: bool = False,
    clock: Clock = utc_now,
) -> list[Defect]:
    """Give defects an owner (an email) and a due date; ``clear`` takes both away. Only what is
    given changes; defects still in play only (open, acknowledged, waived). All or none."""
    from hubaudit.errors import UsageError
    from hubaudit.governance.defects import RESOLVABLE, decide_assignment

    if clear and (owner is not None or due is not None):
        raise UsageError("--clear takes the owner and due date away: give it alone")
    given: dict[str, str | date | None] = (
        {"owner": None, "due": None}
        if clear
        else {k: v for k, v in (("owner", owner), ("due", due)) if v is not None}
    )
    assignment = decide_assignment(defect_ids, actor.name, given)
    ids = sorted(set(defect_ids))
    return store.assign_defects(portal, ids, assignment, RESOLVABLE, clock())


def acknowledge_defects(
    store: Store,
    portal: str,
    defect_ids: Sequence[int],
    actor: Actor,
    note: str | None = None,
    clock: Clock = utc_now,
) -> list[Defect]:
    """Open defects become ``acknowledged``: known, being handled. All or none."""
    allowed = {DefectStatus.OPEN}
    return _decide(
        store, portal, defect_ids, DefectStatus.ACKNOWLEDGED, allowed, actor, note, clock
    )


def resolve_defects(
    store: Store,
    portal: str,
    defect_ids: Sequence[int],
    actor: Actor,
    note: str | None,
    clock: Clock = utc_now,
) -> list[Defect]:
    """Open or acknowledged defects are resolved by hand; the next audit reopens any still
    present. All or none."""
    allowed = {DefectStatus.OPEN, DefectStatus.ACKNOWLEDGED}
    return _decide(store, portal, defect_ids, DefectStatus.RESOLVED, allowed, actor, note, clock)


def _decide(
    store: Store,
    portal: str,
    defect_ids: Sequence[int],
    status: DefectStatus,
    allowed: set[DefectStatus],
    actor: Actor,
    note: str | None,
    clock: Clock,
) -> list[Defect]:
    note = optional_note(note)
    return store.set_defect_status(portal, defect_ids, status, allowed, actor.name, note, clock())


def waive_defects(
    store: Store,
    portal: str,
    defect_ids: Sequence[int],
    actor: Actor,
    reason: str | None,
    until: datetime,
    clock: Clock = utc_now,
) -> list[Defect]:
    """Tolerate the defects' drift through ``until``, with a reason."""
    from hubaudit.store.council import CouncilStore

    reason, now = waiver_terms(reason, until, "drift", clock)
    return CouncilStore(store).waive(
        portal, sorted(set(defect_ids)), by=actor.name, reason=reason, until=until, at=now
    )


def accept_defects(
    store: Store,
    portal: str,
    defect_ids: Sequence[int],
    actor: Actor,
    note: str | None,
    clock: Clock = utc_now,
) -> BaselineInfo:
    """Take the defects' changes into the proposed version (proposing one from the latest
    approved if none is); approving it closes them as ``accepted``."""
    from hubaudit.errors import UsageError
    from hubaudit.governance.change_requests import accepted_payload
    from hubaudit.governance.defects import defects_subject
    from hubaudit.services.baselines import draft_composer, latest_items
    from hubaudit.store.council import CouncilStore

    note = note_for(note, "accepting defects")
    ids = sorted(set(defect_ids))
    defects = store.defects(portal, ids=ids)
    missing = sorted(set(ids) - {d.id for d in defects})
    if missing:
        raise UsageError(f"portal {portal!r} has no defect {missing[0]}")
    latest = latest_items(store, portal, {d.key for d in defects})
    governance = CouncilStore(store)

    def accept(working: dict[str, JSONValue]) -> None:
        for defect in defects:
            for change in _as_changes(defect):
                working[defect.key] = accepted_payload(change, working.get(defect.key))

    return governance.amend(
        portal,
        draft_composer(latest, [d.key for d in defects], accept),
        by=actor.name,
        note=note,
        at=clock(),
        source="accepted",
        action="defects.accepted",
        subject=defects_subject(ids),
        defects=ids,
        check=governance.check_acceptable(portal, ids),
    )


def _as_changes(defect: Defect) -> list[Change]:
    """The defect's field changes, as changes to apply to the baseline's item."""
    listed = defect.changes or (
        FieldChange(defect.field, defect.path, defect.before, defect.after, defect.severity),
    )
    return [
        Change(
            kind=defect.kind,
            key=defect.key,
            op=defect.op,
            field=c.field,
            path=c.path,
            before=c.before,
            after=c.after,
            label=defect.label,
        )
        for c in listed
    ]


# finding decisions ---------------------------------------------------------------------------


def waive_findings(
    store: Store,
    portal: str,
    finding_ids: Sequence[int],
    actor: Actor,
    reason: str | None,
    until: datetime,
    clock: Clock = utc_now,
) -> list[Finding]:
    """Tolerate policy breaches through ``until``, as they are now."""
    from hubaudit.store.findings import FindingStore

    reason, now = waiver_terms(reason, until, "breach", clock)
    return FindingStore(store).waive(
        portal, sorted(set(finding_ids)), by=actor.name, reason=reason, until=until, at=now
    )
