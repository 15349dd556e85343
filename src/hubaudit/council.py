"""The governance council's decisions, orchestrated: baseline versions from proposal to approval,
baselines as files, change requests and their progress, releases, acceptances and waivers.

The rules are pure functions in ``governance/``; the records are in ``store/governance.py``; this
module joins them to the portal's stored snapshots. Every decision names a person and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hubaudit.audit import Clock, utc_now
from hubaudit.compare import scope_of
from hubaudit.dates import parse_end as parse_end
from hubaudit.dates import parse_start as parse_start
from hubaudit.errors import UsageError
from hubaudit.governance.change_requests import (
    DONE,
    PlannedState,
    Progress,
    accepted_payload,
    planned_state,
    released_payload,
)
from hubaudit.governance.files import (
    DEFAULT_MAX_IMPORT_BYTES,
    BaselineTree,
    export_tree,
    read_tree,
)
from hubaudit.logs import get_logger
from hubaudit.model import (
    BaselineInfo,
    Change,
    ChangeRequest,
    CoverageStatus,
    CRStatus,
    Defect,
    Finding,
    JSONValue,
    Kind,
    PlannedChange,
    SnapshotInfo,
    StoredItem,
)
from hubaudit.snapshot import content_hash
from hubaudit.store.findings import FindingStore
from hubaudit.store.governance import Compose, DraftItem, GovernanceStore, PayloadsIn
from hubaudit.store.repository import Store, defects_subject

log = get_logger(__name__)


MAX_NAME = 255


def named(by: str, note: str | None, what: str, *, note_required: bool = True) -> tuple[str, str]:
    """The person deciding (``--by``) and why (``--note``), checked and stripped."""
    if not by.strip():
        raise UsageError(f"{what} needs the name of who decides (--by)")
    if len(by.strip()) > MAX_NAME:
        raise UsageError(f"--by is a person's name: at most {MAX_NAME} characters")
    if note_required and not (note or "").strip():
        raise UsageError(f"{what} needs a note saying why (--note)")
    return by.strip(), (note or "").strip()


# baseline versions --------------------------------------------------------------------------


def propose_from_snapshot(
    store: Store,
    portal: str,
    snapshot: SnapshotInfo,
    by: str,
    note: str,
    clock: Clock = utc_now,
) -> BaselineInfo:
    """Propose the snapshot as the next version. Only a complete read qualifies."""
    by, note = named(by, note, "a proposed baseline")
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
    baseline = GovernanceStore(store).propose(
        portal,
        by=by,
        note=note,
        at=clock(),
        source="snapshot",
        scopes=scopes,
        items=draft,
        source_snapshot_id=snapshot.id,
        detail={"snapshot": snapshot.id},
    )
    log.info("baseline.proposed", portal=portal, version=baseline.version, by=by)
    return baseline


def decide_proposed(
    store: Store,
    portal: str,
    version: int | None,
    approve: bool,
    by: str,
    note: str,
    clock: Clock = utc_now,
) -> tuple[BaselineInfo, list[int], list[int]]:
    by, note = named(by, note, "approving a baseline" if approve else "rejecting a baseline")
    decided = GovernanceStore(store).decide(portal, version, approve, by, note, clock())
    log.info(
        "baseline.approved" if approve else "baseline.rejected",
        portal=portal,
        version=decided[0].version,
        by=by,
    )
    return decided


def export_baseline(
    store: Store, portal: str, version: int | None, out: Path
) -> tuple[BaselineInfo, list[Path]]:
    """Write a version (default: the latest approved) as a tree of YAML files."""
    if version is None:
        baseline = store.latest_baseline(portal)
        if baseline is None:
            raise UsageError(f"portal {portal!r} has no approved baseline to export")
    else:
        baseline = store.baseline(portal, version)
    items = store.baseline_items(baseline.id)
    payloads = store.load_payloads({i.canonical_hash for i in items.values()})
    tree = BaselineTree(
        portal=portal,
        scopes=baseline.scopes,
        items={key: payloads[item.canonical_hash] for key, item in items.items()},
    )
    return baseline, export_tree(out, tree)


def import_baseline(
    store: Store,
    directory: Path,
    by: str,
    note: str | None,
    portal: str | None = None,
    clock: Clock = utc_now,
    known: Callable[[str], object] = lambda _name: None,
    max_bytes: int = DEFAULT_MAX_IMPORT_BYTES,
) -> BaselineInfo:
    """Propose the next version from a tree of files. Every file is read and checked before
    anything is written. ``known(portal)`` refuses a portal the config does not name; a tree of
    more than ``max_bytes`` of YAML is refused unread."""
    by, note = named(by, note, "importing a baseline", note_required=False)
    tree = read_tree(directory, max_bytes)
    if portal is not None and portal != tree.portal:
        raise UsageError(f"{directory}/baseline.yaml is for portal {tree.portal!r}, not {portal!r}")
    known(tree.portal)
    raws = _known_raws(store, tree.portal)
    items = {
        key: DraftItem(Kind(key.split(":", 1)[0]), payload, raws.get(content_hash(dict(payload))))
        for key, payload in tree.items.items()
    }
    baseline = GovernanceStore(store).propose(
        tree.portal,
        by=by,
        note=note or f"imported from {directory}",
        at=clock(),
        source="files",
        scopes=tree.scopes,
        items=items,
        action="baseline.imported",
        detail={"directory": str(directory)},
    )
    log.info("baseline.imported", portal=tree.portal, version=baseline.version, by=by)
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


# accepting defects and releasing change requests ----------------------------------------------


@dataclass(frozen=True)
class _Portal:
    """The latest snapshot's items and payloads, where a draft takes HubSpot's JSON from."""

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


def _latest(store: Store, portal: str, keys: set[str]) -> tuple[SnapshotInfo | None, _Portal]:
    snapshot = store.latest_snapshot(portal)
    if snapshot is None:
        return None, _Portal({}, {})
    items = store.snapshot_items(snapshot.id)
    wanted = {items[k].canonical_hash for k in keys if k in items}
    return snapshot, _Portal(items, store.load_payloads(wanted))


def accept_defects(
    store: Store,
    portal: str,
    defect_ids: Sequence[int],
    by: str,
    note: str,
    clock: Clock = utc_now,
) -> BaselineInfo:
    """Take the defects' changes into the proposed version (proposing one from the latest
    approved if none is); approving it closes them as ``accepted``."""
    by, note = named(by, note, "accepting defects")
    ids = sorted(set(defect_ids))
    defects = store.defects(portal, ids=ids)
    missing = sorted(set(ids) - {d.id for d in defects})
    if missing:
        raise UsageError(f"portal {portal!r} has no defect {missing[0]}")
    _snapshot, latest = _latest(store, portal, {d.key for d in defects})
    governance = GovernanceStore(store)

    def accept(working: dict[str, JSONValue]) -> None:
        for defect in defects:
            working[defect.key] = accepted_payload(_as_change(defect), working.get(defect.key))

    return governance.amend(
        portal,
        _composer(latest, [d.key for d in defects], accept),
        by=by,
        note=note,
        at=clock(),
        source="accepted",
        action="defects.accepted",
        subject=_subject("defect", ids),
        defects=ids,
        check=governance.check_acceptable(portal, ids),
    )


def _composer(
    latest: _Portal, keys: Sequence[str], apply: Callable[[dict[str, JSONValue]], None]
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
            else DraftItem(Kind(key.split(":", 1)[0]), payload, latest.raw_for(key, payload))
            for key, payload in working.items()
        }

    return compose


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


def _subject(noun: str, ids: Sequence[int]) -> str:
    if noun != "CR":
        return defects_subject(ids)
    text = ", ".join(f"CR-{i}" for i in ids)
    return text if len(text) <= 64 else f"{len(ids)} change requests"


def request_progress(
    store: Store, portal: str, requests: Sequence[ChangeRequest]
) -> list[Progress]:
    """How far the portal has come with each CR, by the latest snapshot against the latest
    approved baseline."""
    keys = {p.key for r in requests for p in r.changes}
    snapshot, latest = _latest(store, portal, keys)
    baseline = store.latest_baseline(portal)
    before: dict[str, JSONValue] = {}
    if baseline is not None:
        items = store.baseline_items(baseline.id)
        held = {k: items[k] for k in keys if k in items}
        payloads = store.load_payloads({i.canonical_hash for i in held.values()})
        before = {k: payloads[i.canonical_hash] for k, i in held.items()}
    complete = (
        set()
        if snapshot is None
        else {c.scope for c in snapshot.coverage if c.status is CoverageStatus.COMPLETE}
    )
    return [
        Progress(
            request,
            tuple(
                PlannedState(
                    planned,
                    # released: its work is in an approved baseline, which the portal is
                    # compared with from then on
                    DONE
                    if request.status is CRStatus.RELEASED
                    else planned_state(
                        planned,
                        before.get(planned.key),
                        latest.payload(planned.key),
                        scope_of(planned.key, complete) is not None,
                    ),
                )
                for planned in request.changes
            ),
        )
        for request in requests
    ]


def release_requests(
    store: Store,
    portal: str,
    request_ids: Sequence[int],
    by: str,
    note: str | None,
    clock: Clock = utc_now,
) -> BaselineInfo:
    """Put implemented CRs into the proposed version (proposing one from the latest approved if
    none is); approving it marks them ``released``."""
    by, note = named(by, note, "releasing change requests", note_required=False)
    ids = sorted(set(request_ids))
    governance = GovernanceStore(store)
    requests = governance.requests(portal, ids)
    for request in requests:
        if request.status is not CRStatus.APPROVED or request.released_version is not None:
            where = f" (in v{request.released_version})" if request.released_version else ""
            raise UsageError(
                f"CR-{request.id} is {request.status.value}{where}; only an approved CR not yet "
                "released can be released"
            )
    for progress in request_progress(store, portal, requests):
        if progress.summary != "implemented":
            pending = "; ".join(
                f"{s.planned.op.value} {s.planned.key}: {s.state}"
                for s in progress.states
                if s.state != "done"
            )
            raise UsageError(
                f"CR-{progress.request.id} is {progress.summary} ({pending}); only what is "
                "implemented can go into a baseline"
            )
    planned: list[PlannedChange] = [p for r in requests for p in r.changes]
    _snapshot, latest = _latest(store, portal, {p.key for p in planned})

    def release(working: dict[str, JSONValue]) -> None:
        for change in planned:
            kind = Kind(change.key.split(":", 1)[0])
            working[change.key] = released_payload(
                change, kind, working.get(change.key), latest.payload(change.key)
            )

    return governance.amend(
        portal,
        _composer(latest, [p.key for p in planned], release),
        by=by,
        note=note or "release of " + ", ".join(f"CR-{i}" for i in ids),
        at=clock(),
        source="release",
        action="crs.released",
        subject=_subject("CR", ids),
        requests=ids,
        check=governance.check_releasable(portal, ids),
    )


def waive_defects(
    store: Store,
    portal: str,
    defect_ids: Sequence[int],
    by: str,
    reason: str | None,
    until: datetime,
    clock: Clock = utc_now,
) -> list[Defect]:
    by, reason, now = _waiver_terms(by, reason, until, "drift", clock)
    return GovernanceStore(store).waive(
        portal, sorted(set(defect_ids)), by=by, reason=reason, until=until, at=now
    )


def waive_findings(
    store: Store,
    portal: str,
    finding_ids: Sequence[int],
    by: str,
    reason: str | None,
    until: datetime,
    clock: Clock = utc_now,
) -> list[Finding]:
    """Tolerate policy breaches through ``until``, as they are now."""
    by, reason, now = _waiver_terms(by, reason, until, "breach", clock)
    return FindingStore(store).waive(
        portal, sorted(set(finding_ids)), by=by, reason=reason, until=until, at=now
    )


def _waiver_terms(
    by: str, reason: str | None, until: datetime, what: str, clock: Clock
) -> tuple[str, str, datetime]:
    """Who waives, why (required) and now, which ``until`` must be after."""
    if not (reason or "").strip():
        raise UsageError(f"a waiver needs a reason (--reason): why is this {what} tolerated?")
    by, _ = named(by, None, "a waiver", note_required=False)
    now = clock()
    if until <= now:
        raise UsageError(f"--until {until:%Y-%m-%d %H:%M} UTC is not in the future")
    return by, (reason or "").strip(), now
