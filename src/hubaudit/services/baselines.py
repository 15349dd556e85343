"""The council's baseline versions: proposed from a complete snapshot, from files or from what
was accepted and released; approved or rejected; written out as files; listed and compared.

The rules live in ``governance/`` and the records in ``store/council.py``; these functions
join them to the portal's stored snapshots. Every decision names its :class:`Actor` and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from hubaudit.analysis.canonical import content_hash
from hubaudit.errors import NoApprovedBaseline, NotAllowed, UsageError
from hubaudit.governance.change_requests import DONE, released_payload
from hubaudit.governance.files import (
    DEFAULT_MAX_IMPORT_BYTES,
    BaselineTree,
    export_tree,
    read_tree,
)
from hubaudit.logs import get_logger
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.change_requests import CRProgress, CRStatus
from hubaudit.model.history import Point
from hubaudit.model.items import CoverageStatus, JSONValue, SnapshotInfo, StoredItem, kind_of
from hubaudit.services.actor import Actor
from hubaudit.services.terms import Clock, note_for, optional_note, utc_now
from hubaudit.store.council import Compose, CouncilStore, DraftItem, PayloadsIn
from hubaudit.store.repository import Store

if TYPE_CHECKING:
    from hubaudit.governance.change_requests import Progress
    from hubaudit.model.defects import Defect
    from hubaudit.model.history import Diff
    from hubaudit.policies.severity import SeverityRule

log = get_logger(__name__)


@dataclass(frozen=True)
class Proposal:
    """A version proposed from a snapshot, and the snapshot it came from."""

    baseline: BaselineInfo
    snapshot: SnapshotInfo


@dataclass(frozen=True)
class BaselineDecision:
    """An approval or rejection: the version, and the defects and change requests it closed
    (approved) or no longer carries (rejected)."""

    baseline: BaselineInfo
    approved: bool
    defects: tuple[int, ...]
    requests: tuple[int, ...]


@dataclass(frozen=True)
class VersionRecord:
    """A version with the defects it accepts and the change requests it releases."""

    baseline: BaselineInfo
    defects: tuple[int, ...]
    requests: tuple[int, ...]


@dataclass(frozen=True)
class VersionDetail(VersionRecord):
    """A version and what it holds: how many items of each kind."""

    items_by_kind: Mapping[str, int]


@dataclass(frozen=True)
class Export:
    """A version written as files."""

    baseline: BaselineInfo
    files: tuple[Path, ...]


# proposing and deciding -----------------------------------------------------------------------


def snapshot_to_propose(store: Store, portal: str, snapshot_id: int | None) -> SnapshotInfo:
    """The snapshot ``snapshot_id`` names, or the portal's latest (``None``)."""
    if snapshot_id is not None:
        return store.snapshot(portal, snapshot_id)
    snapshot = store.latest_snapshot(portal)
    if snapshot is None:
        raise UsageError(f"portal {portal!r} has no snapshot yet")
    return snapshot


def propose_baseline(
    store: Store,
    portal: str,
    snapshot_id: int | None,
    actor: Actor,
    note: str | None,
    clock: Clock = utc_now,
) -> Proposal:
    """Propose a snapshot (default: the latest) as the next version."""
    snapshot = snapshot_to_propose(store, portal, snapshot_id)
    return Proposal(propose_from_snapshot(store, portal, snapshot, actor, note, clock), snapshot)


def propose_from_snapshot(
    store: Store,
    portal: str,
    snapshot: SnapshotInfo,
    actor: Actor,
    note: str | None,
    clock: Clock = utc_now,
) -> BaselineInfo:
    """Propose the snapshot as the next version. Only a complete read qualifies."""
    note = note_for(note, "a proposed baseline")
    incomplete = [c for c in snapshot.coverage if c.status is CoverageStatus.FAILED]
    if incomplete:
        parts = "; ".join(f"{c.scope}: {c.reason}" for c in incomplete)
        raise UsageError(
            f"snapshot {snapshot.id} did not read every part of the portal ({parts}); "
            "a baseline must come from a complete snapshot"
        )
    scopes = sorted(c.scope for c in snapshot.coverage if c.status is CoverageStatus.COMPLETE)
    items = store.snapshot_items(snapshot.id)
    payloads = store.load_payloads({i.canonical_hash for i in items.values()})
    draft = {
        key: DraftItem(item.kind, payloads[item.canonical_hash], item.raw_hash)
        for key, item in items.items()
    }
    baseline = CouncilStore(store).propose(
        portal,
        by=actor.name,
        note=note,
        at=clock(),
        source="snapshot",
        scopes=scopes,
        items=draft,
        source_snapshot_id=snapshot.id,
        detail={"snapshot": snapshot.id},
    )
    log.info("baseline.proposed", portal=portal, version=baseline.version, by=actor.name)
    return baseline


def decide_baseline(
    store: Store,
    portal: str,
    version: int | None,
    approve: bool,
    actor: Actor,
    note: str | None,
    clock: Clock = utc_now,
    single_approver: bool = False,
) -> BaselineDecision:
    """Approve or reject the proposed version (``version``, when given, must be it). Whoever
    proposed or amended it cannot approve it, unless ``single_approver`` (four eyes)."""
    note = note_for(note, "approving a baseline" if approve else "rejecting a baseline")
    baseline, defects, requests = CouncilStore(store).decide(
        portal, version, approve, actor.name, note, clock(), single_approver
    )
    log.info(
        "baseline.approved" if approve else "baseline.rejected",
        portal=portal,
        version=baseline.version,
        by=actor.name,
    )
    return BaselineDecision(baseline, approve, tuple(defects), tuple(requests))


def approve_snapshot(
    store: Store,
    portal: str,
    snapshot_id: int | None,
    actor: Actor,
    note: str | None,
    clock: Clock = utc_now,
    single_approver: bool = False,
) -> BaselineDecision:
    """Propose a snapshot (default: the latest) and approve it in one step: one person's act,
    so only for a portal's first version (the starting point, nothing approved to depart from)
    or a single-approver team; the log entry says ``single_approver`` either way."""
    alone = single_approver or store.latest_baseline(portal) is None
    if not alone:  # refused before anything is proposed: nothing is left behind
        raise NotAllowed(
            f"{actor.name} would propose and approve the next baseline of {portal!r} alone: "
            "propose it and let another member of the council approve it (four eyes)"
        )
    proposal = propose_baseline(store, portal, snapshot_id, actor, note, clock)
    return decide_baseline(
        store, portal, proposal.baseline.version, True, actor, note, clock, alone
    )


def baseline_proposers(store: Store, portal: str, version: int) -> set[str]:
    """Who proposed a version or amended it: none of them may approve it (four eyes)."""
    return CouncilStore(store).proposers(portal, version)


def linked_defects(store: Store, portal: str, record: VersionRecord) -> list[Defect]:
    """The defects a version accepts (read by id, not by listing the portal's defects)."""
    return store.defects(portal, ids=record.defects) if record.defects else []


# reading versions ----------------------------------------------------------------------------


def latest_approved(store: Store, portal: str) -> BaselineInfo:
    baseline = store.latest_baseline(portal)
    if baseline is None:
        raise NoApprovedBaseline(portal)
    return baseline


def baseline_versions(store: Store, portal: str) -> list[VersionRecord]:
    """Every version of the portal, oldest first, with what each accepts and releases."""
    governance = CouncilStore(store)
    records = []
    for baseline in governance.versions(portal):
        defects, requests = governance.linked(baseline.id)
        records.append(VersionRecord(baseline, tuple(defects), tuple(requests)))
    return records


def baseline_version(store: Store, portal: str, version: int | None) -> VersionDetail:
    """One version (default: the latest approved) and what it holds."""
    baseline = (
        latest_approved(store, portal) if version is None else store.baseline(portal, version)
    )
    defects, requests = CouncilStore(store).linked(baseline.id)
    kinds: dict[str, int] = {}
    for item in store.baseline_items(baseline.id).values():
        kinds[item.kind.value] = kinds.get(item.kind.value, 0) + 1
    return VersionDetail(baseline, tuple(defects), tuple(requests), dict(sorted(kinds.items())))


def baseline_changelog(
    store: Store,
    portal: str,
    from_version: int,
    to_version: int,
    severity_rules: Sequence[SeverityRule] | None = None,
) -> Diff:
    """What changed from version ``from_version`` to ``to_version``, in the audit's change form."""
    from hubaudit.services.timetravel import diff_points

    before = Point(baseline=store.baseline(portal, from_version))
    after = Point(baseline=store.baseline(portal, to_version))
    if severity_rules is None:
        return diff_points(store, portal, before, after)
    return diff_points(store, portal, before, after, severity_rules)


# files ---------------------------------------------------------------------------------------


def export_baseline(store: Store, portal: str, version: int | None, directory: Path) -> Export:
    """Write a version (default: the latest approved) as a tree of YAML files."""
    if version is None:
        baseline = store.latest_baseline(portal)
        if baseline is None:
            raise NoApprovedBaseline(
                portal, f"portal {portal!r} has no approved baseline to export"
            )
    else:
        baseline = store.baseline(portal, version)
    items = store.baseline_items(baseline.id)
    payloads = store.load_payloads({i.canonical_hash for i in items.values()})
    tree = BaselineTree(
        portal=portal,
        scopes=baseline.scopes,
        items={key: payloads[item.canonical_hash] for key, item in items.items()},
    )
    return Export(baseline, tuple(export_tree(directory, tree)))


def import_baseline(
    store: Store,
    directory: Path,
    actor: Actor,
    note: str | None,
    portal: str | None = None,
    clock: Clock = utc_now,
    known: Callable[[str], object] = lambda _name: None,
    max_bytes: int = DEFAULT_MAX_IMPORT_BYTES,
) -> BaselineInfo:
    """Propose the next version from a tree of files. Every file is read and checked before
    anything is written. ``known(portal)`` refuses a portal the config does not name; a tree of
    more than ``max_bytes`` of YAML is refused unread."""
    note = optional_note(note)
    tree = read_tree(directory, max_bytes)
    if portal is not None and portal != tree.portal:
        raise UsageError(f"{directory}/baseline.yaml is for portal {tree.portal!r}, not {portal!r}")
    known(tree.portal)
    raws = _known_raws(store, tree.portal)
    items = {
        key: DraftItem(kind_of(key), payload, raws.get(content_hash(dict(payload))))
        for key, payload in tree.items.items()
    }
    baseline = CouncilStore(store).propose(
        tree.portal,
        by=actor.name,
        note=note or f"imported from {directory}",
        at=clock(),
        source="files",
        scopes=tree.scopes,
        items=items,
        action="baseline.imported",
        detail={"directory": str(directory)},
    )
    log.info("baseline.imported", portal=tree.portal, version=baseline.version, by=actor.name)
    return baseline


def _known_raws(store: Store, portal: str) -> dict[str, str]:
    """Raw hash by canonical hash, from the latest approved version and the latest snapshot:
    an imported item that HubSpot served exactly keeps HubSpot's own JSON."""
    found: dict[str, str] = {}
    if portal not in store.portal_names():
        return found
    snapshot = store.latest_snapshot(portal)
    if snapshot is not None:
        found |= {i.canonical_hash: i.raw_hash for i in store.snapshot_items(snapshot.id).values()}
    baseline = store.latest_baseline(portal)
    if baseline is not None:
        found |= {i.canonical_hash: i.raw_hash for i in store.baseline_items(baseline.id).values()}
    return found


# amending the proposal: accepted defects, released change requests -----------------------------


@dataclass(frozen=True)
class LatestItems:
    """The latest snapshot's items of some keys and their payloads, where a draft takes
    HubSpot's JSON from."""

    snapshot: SnapshotInfo | None
    items: Mapping[str, StoredItem]
    payloads: Mapping[str, Mapping[str, JSONValue]]

    def raw_for(self, key: str, canonical: JSONValue) -> str | None:
        item = self.items.get(key)
        if item is not None and item.canonical_hash == content_hash(canonical):
            return item.raw_hash
        return None

    def payload(self, key: str) -> JSONValue:
        item = self.items.get(key)
        return None if item is None else self.payloads[item.canonical_hash]


def latest_items(store: Store, portal: str, keys: set[str]) -> LatestItems:
    """The latest snapshot's items of ``keys`` (read by key), with their payloads."""
    from hubaudit.store.items import ItemSelection, snapshot_items_in

    snapshot = store.latest_snapshot(portal)
    if snapshot is None:
        return LatestItems(None, {}, {})
    items = snapshot_items_in(store, snapshot.id, ItemSelection(keys=frozenset(keys)))
    wanted = {item.canonical_hash for item in items.values()}
    return LatestItems(snapshot, items, store.load_payloads(wanted))


def draft_composer(
    latest: LatestItems, keys: Sequence[str], apply: Callable[[dict[str, JSONValue]], None]
) -> Compose:
    """A draft amendment: the proposal's payloads of ``keys``, changed in place by ``apply``
    (``None``: the item goes), with HubSpot's raw JSON where the portal holds exactly that."""

    def compose(
        draft: BaselineInfo, current: Mapping[str, StoredItem], payloads_in: PayloadsIn
    ) -> dict[str, DraftItem | None]:
        held = payloads_in({current[k].canonical_hash for k in keys if k in current})
        working: dict[str, JSONValue] = {
            k: held[current[k].canonical_hash] for k in keys if k in current
        }
        apply(working)
        return {
            key: None
            if payload is None
            else DraftItem(kind_of(key), payload, latest.raw_for(key, payload))
            for key, payload in working.items()
        }

    return compose


def release_requests(
    store: Store,
    portal: str,
    request_ids: Sequence[int],
    actor: Actor,
    note: str | None,
    clock: Clock = utc_now,
) -> BaselineInfo:
    """Put implemented CRs into the proposed version (proposing one from the latest approved if
    none is); approving it marks them ``released``."""
    from hubaudit.services.change_requests import request_progress, resolve_identity_keys

    note = optional_note(note)
    ids = sorted(set(request_ids))
    governance = CouncilStore(store)
    requests = governance.requests(portal, ids)
    for request in requests:
        if request.status is not CRStatus.APPROVED or request.released_version is not None:
            where = f" (in v{request.released_version})" if request.released_version else ""
            raise UsageError(
                f"CR-{request.id} is {request.status.value}{where}; only an approved CR not yet "
                "released can be released"
            )
    for progress in request_progress(store, portal, requests):
        if progress.summary is not CRProgress.IMPLEMENTED:
            pending = "; ".join(
                f"{s.planned.op.value} {s.planned.key}: {s.state}"
                for s in progress.states
                if s.status is not DONE
            )
            raise UsageError(
                f"CR-{progress.request.id} is {progress.summary} ({pending}); only what is "
                "implemented can go into a baseline"
            )
    # an item planned by its identity (workflow:{Name}) goes in under the key the portal gave it
    resolved = resolve_identity_keys(store, portal, {p.key for r in requests for p in r.changes})
    planned = [replace(p, key=resolved[p.key]) for r in requests for p in r.changes]
    latest = latest_items(store, portal, {p.key for p in planned})

    def release(working: dict[str, JSONValue]) -> None:
        for change in planned:
            kind = kind_of(change.key)
            working[change.key] = released_payload(
                change, kind, working.get(change.key), latest.payload(change.key)
            )

    subject = ", ".join(f"CR-{i}" for i in ids)
    return governance.amend(
        portal,
        draft_composer(latest, [p.key for p in planned], release),
        by=actor.name,
        note=note or "release of " + subject,
        at=clock(),
        source="release",
        action="crs.released",
        subject=subject if len(subject) <= 64 else f"{len(ids)} change requests",
        requests=ids,
        check=governance.check_releasable(portal, ids),
    )


def releasable_requests(store: Store, portal: str) -> list[Progress]:
    """The CRs :func:`release_requests` would take now: approved, in no version yet, and
    implemented by the latest snapshot (progress is read only for the approved ones)."""
    from hubaudit.services.change_requests import request_progress

    approved = [
        r
        for r in CouncilStore(store).requests(portal)
        if r.status is CRStatus.APPROVED and r.released_version is None
    ]
    if not approved:
        return []
    return [
        p for p in request_progress(store, portal, approved) if p.summary is CRProgress.IMPLEMENTED
    ]
