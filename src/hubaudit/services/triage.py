"""RevOps' triage: defects (acknowledge, resolve, waive, accept into the proposed baseline) and
policy findings (waive), and the read side those decisions are taken from.

Every decision names its :class:`Actor`; the store records the actor's name, in the same
transaction as the decision's entry in the governance log or the defect's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from hubaudit.governance.change_requests import accepted_payload
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change, ChangeNames, Severity
from hubaudit.model.defects import Defect, DefectEvent, DefectStatus
from hubaudit.model.findings import Finding, FindingStatus
from hubaudit.model.items import JSONValue, Kind
from hubaudit.services.actor import Actor
from hubaudit.services.terms import Clock, note_for, optional_note, utc_now, waiver_terms
from hubaudit.store.repository import Store, defects_subject


@dataclass(frozen=True)
class DefectQuery:
    """Which defects to list; an empty criterion matches all."""

    statuses: tuple[DefectStatus, ...] = ()
    severities: tuple[Severity, ...] = ()
    kinds: tuple[Kind, ...] = ()
    since: datetime | None = None


@dataclass(frozen=True)
class DefectTimeline:
    """One defect and everything that happened to it."""

    defect: Defect
    events: tuple[DefectEvent, ...]
    names: ChangeNames | None = None
    """The defect's change in people's words, from the latest snapshot and baseline."""


@dataclass(frozen=True)
class FindingQuery:
    """Which findings to list; an empty criterion matches all."""

    statuses: tuple[FindingStatus, ...] = ()
    policies: tuple[str, ...] = ()
    severities: tuple[Severity, ...] = ()


# reading -------------------------------------------------------------------------------------


def list_defects(store: Store, portal: str, query: DefectQuery = DefectQuery()) -> list[Defect]:
    """The portal's defects, oldest first."""
    return store.defects(
        portal,
        query.statuses or None,
        severities=query.severities or None,
        kinds=query.kinds or None,
        since=query.since,
    )


def defect_timeline(store: Store, portal: str, defect_id: int) -> DefectTimeline:
    defect = store.defect(portal, defect_id)
    return DefectTimeline(
        defect, tuple(store.defect_events(defect.id)), defect_names(store, portal, defect)
    )


def defect_names(store: Store, portal: str, defect: Defect) -> ChangeNames | None:
    """Names for a defect's change: its item, field and values as the latest snapshot and the
    approved baseline name them (the item itself and what its ids point at, nothing more)."""
    from hubaudit.services.stored_views import names_of

    snapshot = store.latest_snapshot(portal)
    baseline = store.latest_baseline(portal)
    after = store.snapshot_items(snapshot.id) if snapshot is not None else {}
    before = store.baseline_items(baseline.id) if baseline is not None else {}
    return names_of(store, {defect.key}, after, before).change(_as_change(defect)).names


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
            working[defect.key] = accepted_payload(_as_change(defect), working.get(defect.key))

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


def _as_change(defect: Defect) -> Change:
    return Change(
        kind=defect.kind,
        key=defect.key,
        op=defect.op,
        field=defect.field,
        path=defect.path,
        before=defect.before,
        after=defect.after,
        label=defect.label,
    )


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
