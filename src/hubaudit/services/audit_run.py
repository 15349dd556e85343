"""One run for one portal: collect → snapshot → compare → classify → defects → result.

Each step is a function with plain inputs and outputs. Files, terminals and exit codes belong
to the edges (cli, scheduler); this module only orchestrates.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from hubaudit.analysis.attribution import History
from hubaudit.analysis.compare import PayloadLoader, compare, part_order, scope_of, value_at
from hubaudit.analysis.dependencies import build_graph, object_types_by_id
from hubaudit.analysis.names import Names
from hubaudit.config import ImpactConfig, PolicySettings, PortalConfig, PortalCredentials, SignOff
from hubaudit.errors import ReadTooLittle, UsageError
from hubaudit.governance.change_requests import classify_planned
from hubaudit.governance.defects import (
    RESOLVABLE,
    DefectPlan,
    defect_name,
    fingerprint,
    group_drift,
    plan_defects,
)
from hubaudit.governance.findings import plan_findings
from hubaudit.governance.ignore import (
    IgnoreRule,
    ignored_note,
    judge,
    refusal_notes,
    refused_note,
)
from hubaudit.governance.vendor import vendor_note
from hubaudit.hubspot.account import read_hub
from hubaudit.hubspot.client import HubSpotClient, connect
from hubaudit.hubspot.collectors import DEFAULT_COLLECTORS, Collector, collect_portal
from hubaudit.hubspot.history import (
    account_history,
    legacy_workflow_history,
    pipeline_history,
)
from hubaudit.keys import split_identity_key
from hubaudit.logs import get_logger
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change, ChangeOp, Classification
from hubaudit.model.defects import Defect
from hubaudit.model.findings import Breach, Finding, FindingUpdate
from hubaudit.model.history import StandIn
from hubaudit.model.items import (
    STANDARD_OBJECT_TYPE_IDS,
    ConfigItem,
    CoverageStatus,
    JSONValue,
    Kind,
    KindCoverage,
    SnapshotInfo,
    StoredItem,
    kind_of,
)
from hubaudit.model.surface import HubInfo
from hubaudit.model.view import PortalView, ViewItem
from hubaudit.policies.builtin import POLICIES_BY_ID, evaluate
from hubaudit.policies.impact import with_impact
from hubaudit.policies.severity import DEFAULT_RULES, SeverityRule, with_severity
from hubaudit.policies.surface import governed_surface
from hubaudit.services.kpis import default_since, governance_kpis
from hubaudit.services.latest import snapshot_point_items, with_stand_ins

# defined apart so that read paths import them without the audit; still importable from here
from hubaudit.services.stored_views import RAW_KINDS as RAW_KINDS
from hubaudit.services.stored_views import attributed as attributed
from hubaudit.services.stored_views import portal_view as portal_view
from hubaudit.services.stored_views import resolve_snapshot as resolve_snapshot
from hubaudit.services.stored_views import user_emails as user_emails
from hubaudit.store.repository import Store
from hubaudit.store.stores import Stores

log = get_logger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def open_client(
    portal: PortalConfig, token: PortalCredentials, stop: threading.Event | None = None
) -> HubSpotClient:
    return connect(portal, token, stop)


def take_snapshot(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    collectors: Sequence[Collector] = DEFAULT_COLLECTORS,
    clock: Clock = utc_now,
    min_read_share: float = 0.0,
) -> SnapshotInfo:
    """Read the portal and store what was read, with its coverage, as one atomic snapshot.

    With a ``min_read_share`` and an approved baseline, a read that holds less than that share
    of the baseline's items in the parts it governs raises :class:`ReadTooLittle` instead."""
    snapshot, _items = read_and_store(store, portal, client, collectors, clock, min_read_share)
    return snapshot


def read_and_store(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    collectors: Sequence[Collector] = DEFAULT_COLLECTORS,
    clock: Clock = utc_now,
    min_read_share: float = 0.0,
) -> tuple[SnapshotInfo, list[ConfigItem]]:
    """:func:`take_snapshot`, returning the items read too (what an audit goes on with).

    An item's raw JSON is let go as soon as its part is read when the store holds it already
    (``raw`` is ``None``), unless an audit reads it of every item of its kind
    (:data:`HELD_RAW_KINDS`): on a night when little changed, the raw dicts were most of an
    audit's peak memory."""
    taken_at = clock()
    calls_before = client.api_calls
    stored = store.held_raw_digests(portal.name)

    def keep_raw(item: ConfigItem) -> bool:
        return item.kind in HELD_RAW_KINDS or bytes.fromhex(item.raw_hash) not in stored

    items, coverage = collect_portal(client, portal, collectors, keep_raw)
    stored.clear()  # not held while the snapshot is written
    baseline = store.latest_baseline(portal.name) if min_read_share > 0 else None
    if baseline is not None:
        require_read_share(baseline, items, coverage, min_read_share)
    snapshot = store.save_snapshot(
        portal.name, taken_at, coverage, items, api_calls=client.api_calls - calls_before
    )
    log.info(
        "snapshot.stored",
        portal=portal.name,
        snapshot=snapshot.id,
        items=snapshot.item_count,
        api_calls=client.api_calls - calls_before,
        failed=[c.scope for c in coverage if c.status is not CoverageStatus.COMPLETE],
    )
    return snapshot, items


def require_read_share(
    baseline: BaselineInfo,
    items: Sequence[ConfigItem],
    coverage: Sequence[KindCoverage],
    min_share: float,
) -> None:
    """Refuse a read that holds too little of what the baseline governs to stand as a snapshot
    (rule 11: nothing read is not "no drift")."""
    if baseline.item_count == 0:
        return
    governed = set(baseline.scopes)
    read = sum(1 for item in items if scope_of(item.key, governed) is not None)
    if read >= min_share * baseline.item_count:
        return
    failed = [c for c in coverage if c.scope in governed and c.status is CoverageStatus.FAILED]
    why = (
        f"; {len(failed)} parts failed, first {failed[0].scope}: {failed[0].reason}"
        if failed
        else ""
    )
    raise ReadTooLittle(
        f"read {read} of the {baseline.item_count} items baseline v{baseline.version} governs "
        f"({read / baseline.item_count:.0%}), less than [audit] min_read_share = {min_share:g}"
        f"{why}; nothing was stored"
    )


def check_portal(
    portal: PortalConfig,
    client: HubSpotClient,
    collectors: Sequence[Collector] = DEFAULT_COLLECTORS,
) -> list[KindCoverage]:
    """Read the portal without storing anything: what can this token read, what is missing?"""
    _items, coverage = collect_portal(client, portal, collectors)
    return coverage


def approve_baseline(
    store: Store, portal: str, snapshot: SnapshotInfo, by: str, note: str, clock: Clock = utc_now
) -> BaselineInfo:
    """Make the snapshot the next approved baseline version. Only a complete read qualifies."""
    if not by.strip():
        raise UsageError("a baseline needs the name of who approved it (--by)")
    if not note.strip():
        raise UsageError("a baseline needs a note saying why it is approved (--note)")
    incomplete = [c for c in snapshot.coverage if c.status is CoverageStatus.FAILED]
    if incomplete:
        parts = "; ".join(f"{c.scope}: {c.reason}" for c in incomplete)
        raise UsageError(
            f"snapshot {snapshot.id} did not read every part of the portal ({parts}); "
            "a baseline must be approved from a complete snapshot"
        )
    baseline = store.approve_baseline(portal, snapshot, by.strip(), note.strip(), clock())
    log.info("baseline.approved", portal=portal, version=baseline.version, by=baseline.approved_by)
    return baseline


@dataclass
class _Auditing:
    """Audits running in this process, and the collector's thresholds before the first."""

    running: int = 0
    before: tuple[int, int, int] = (700, 10, 10)


_COLLECTIONS = threading.Lock()
_AUDITING = _Auditing()
AUDIT_GC_THRESHOLD = 50_000
"""Allocations between two collections of the youngest generation while an audit runs
(Python's default: 700)."""


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, rarely while audits run. An audit allocates hundreds
    of thousands of containers (decoded JSON, items) that live until it ends and form no
    cycles; at the default threshold the collector keeps rescanning them (a third of a
    60,000-property audit's CPU). The first audit to start raises the youngest generation's
    threshold, the last to end puts it back (a worker runs several on threads)."""
    with _COLLECTIONS:
        if _AUDITING.running == 0:
            _AUDITING.before = gc.get_threshold()
            young, middle, old = _AUDITING.before
            gc.set_threshold(max(AUDIT_GC_THRESHOLD, young), middle, old)
        _AUDITING.running += 1
    try:
        yield
    finally:
        with _COLLECTIONS:
            _AUDITING.running -= 1
            if _AUDITING.running == 0:
                gc.set_threshold(*_AUDITING.before)


@fewer_collections()
def run_audit(
    store: Store | Stores,
    portal: PortalConfig,
    client: HubSpotClient,
    collectors: Sequence[Collector] = DEFAULT_COLLECTORS,
    clock: Clock = utc_now,
    severity_rules: Sequence[SeverityRule] = DEFAULT_RULES,
    ignore_rules: Sequence[IgnoreRule] = (),
    policies: Mapping[str, PolicySettings] | None = None,
    impact: ImpactConfig | None = None,
    min_read_share: float = 0.0,  # below it, ReadTooLittle: nothing is stored
    signoffs: Sequence[SignOff] = (),
    vendor_governed: Sequence[str] = (),
    run_id: int | None = None,
    expiring_days: int = 7,
) -> AuditResult:
    """Snapshot the portal now and audit that snapshot against the latest approved baseline
    (as the run ``run_id``, when it is recorded as one)."""
    stores = Stores.of(store)
    baseline = require_baseline(stores.store, portal.name)
    snapshot, items = read_and_store(
        stores.store, portal, client, collectors, clock, min_read_share
    )
    # Read after the portal, not while it is read: held beside the read's raw JSON, the
    # baseline's items set the audit's peak memory (502 MB against 492 MB at 100,000 items).
    held_baseline = stores.store.baseline_items(baseline.id)
    notes: list[str] = []
    histories = (
        pipeline_history(client),
        legacy_workflow_history(client),
        account_history(client, baseline.moment, notes),
    )
    hub = read_hub(client, notes)
    request = AuditRequest(
        portal=portal.name,
        snapshot=snapshot,
        baseline=baseline,
        clock=clock,
        severity_rules=tuple(severity_rules),
        histories=histories,
        ignore_rules=tuple(ignore_rules),
        policies=policies or {},
        impact=impact,
        signoffs=tuple(signoffs),
        hub=hub,
        vendor_governed=tuple(vendor_governed),
        run_id=run_id,
        expiring_days=expiring_days,
        payloads=payloads_of(items),
        # the snapshot holds exactly the items just read: not read back from the database
        snapshot_items=shared_with(
            held_baseline,
            (StoredItem(item.kind, item.key, item.canonical_hash, item.raw_hash) for item in items),
        ),
        baseline_items=held_baseline,
    )
    del items  # the request holds their payloads; the rest can go
    result = audit_snapshot(stores, request)
    return replace(result, notes=(*notes, *result.notes))


def require_baseline(store: Store, portal: str) -> BaselineInfo:
    baseline = store.latest_baseline(portal)
    if baseline is None:
        raise UsageError(
            f"portal {portal!r} has no approved baseline: take a snapshot, then "
            f"`hubaudit baseline approve --portal {portal} --from-snapshot latest "
            "--by WHO --note TEXT`"
        )
    return baseline


@dataclass(frozen=True)
class AuditRequest:
    """What to audit (a stored snapshot against a baseline) and by which rules.

    ``histories`` give items' audit trails for attribution (read from HubSpot by
    :func:`run_audit`; none when auditing a stored snapshot offline). Given the ``run_id``,
    the defects and findings updates are the run's recorded outcome, with the unpublished
    outcomes of earlier runs of the portal included."""

    portal: str
    snapshot: SnapshotInfo
    baseline: BaselineInfo
    clock: Clock = utc_now
    severity_rules: Sequence[SeverityRule] = DEFAULT_RULES
    histories: Sequence[History] = ()
    ignore_rules: Sequence[IgnoreRule] = ()
    policies: Mapping[str, PolicySettings] = field(default_factory=dict)
    impact: ImpactConfig | None = None
    signoffs: Sequence[SignOff] = ()
    hub: HubInfo | None = None
    vendor_governed: Sequence[str] = ()
    run_id: int | None = None
    expiring_days: int = 7
    """Waivers ending within this many days are listed as expiring soon."""
    payloads: Mapping[str, Mapping[str, JSONValue]] = field(default_factory=dict)
    """Payloads by hash that the caller holds already (the snapshot it has just read and
    written): used as they are instead of reading them back from the database."""
    snapshot_items: Mapping[str, StoredItem] | None = None
    """The snapshot's items, when the caller holds them (it has just read and written them);
    else read from the database."""
    baseline_items: Mapping[str, StoredItem] | None = None
    """The baseline's items, when the caller has read them already; else read here."""


HELD_RAW_KINDS = RAW_KINDS | {Kind.USER}
"""Kinds whose raw JSON an audit reads for every item (policies, users' emails); of the rest
it reads only the changed items' raw JSON (attribution), from the database: holding every raw
payload through the audit would cost more memory than those few reads cost time."""


def payloads_of(items: Iterable[ConfigItem]) -> dict[str, Mapping[str, JSONValue]]:
    """The canonical payloads of items just read by hash, and the raw ones an audit reads
    of every item of their kind (:data:`HELD_RAW_KINDS`)."""
    held: dict[str, Mapping[str, JSONValue]] = {}
    for item in items:
        held[item.canonical_hash] = item.canonical
        if item.kind in HELD_RAW_KINDS and item.raw is not None:
            held[item.raw_hash] = item.raw
    return held


def held_first(
    load_payloads: PayloadLoader, held: Mapping[str, Mapping[str, JSONValue]]
) -> PayloadLoader:
    """A loader that takes what ``held`` holds and reads only the rest."""
    if not held:
        return load_payloads

    def load(hashes: Iterable[str]) -> dict[str, Mapping[str, JSONValue]]:
        found: dict[str, Mapping[str, JSONValue]] = {}
        missing = []
        for digest in hashes:
            payload = held.get(digest)
            if payload is None:
                missing.append(digest)
            else:
                found[digest] = payload
        if missing:
            found.update(load_payloads(missing))
        return found

    return load


def audit_snapshot(stores: Stores, request: AuditRequest) -> AuditResult:
    """Compare a stored snapshot with a baseline, classify every change, update defects,
    evaluate the architecture policies on the snapshot (findings) and the governance KPIs of the
    last twelve weeks.

    A change is ``ignored`` when an ignore rule says so, ``planned`` when an approved change
    request in its window planned it, ``vendor`` when HubSpot changed its own definitions (and
    ``vendor_governed`` does not say the team governs the item), ``waived`` when its defect is
    waived, else a defect."""
    store = stores.store
    portal, snapshot, baseline = request.portal, request.snapshot, request.baseline
    clock = request.clock
    load = held_first(store.load_payloads, request.payloads)
    complete = {
        c.scope: c.unverified for c in snapshot.coverage if c.status is CoverageStatus.COMPLETE
    }
    comparable = {scope: complete[scope] for scope in baseline.scopes if scope in complete}
    read = {c.scope for c in snapshot.coverage}
    not_verified = tuple(
        c for c in snapshot.coverage if c.scope in baseline.scopes and c.scope not in complete
    ) + tuple(
        KindCoverage(
            kind_of(scope),
            scope,
            CoverageStatus.FAILED,
            0,
            "not read by this snapshot (is it still in the portal's config?)",
        )
        for scope in sorted(set(baseline.scopes) - read)
    )
    baseline_items = request.baseline_items
    if baseline_items is None:
        baseline_items = store.baseline_items(baseline.id)
    snapshot_items = request.snapshot_items
    if snapshot_items is None:
        snapshot_items = shared_with(baseline_items, store.snapshot_items(snapshot.id).values())
    comparison = compare(baseline_items, snapshot_items, comparable, load)
    view = portal_view(store, snapshot, snapshot_items, load)
    # What depends on a change, and the KPIs, come from the latest complete read of each part;
    # the report says, for each part not verified, which read that is.
    latest = with_stand_ins(store, snapshot)
    if latest.stand_ins:
        assert latest.snapshot is not None
        notes = {s.scope: s for s in latest.stand_ins}
        not_verified = tuple(
            replace(c, reason=_with_last_read(c.reason, notes[c.scope]))
            if c.scope in notes and c.status is CoverageStatus.FAILED
            else c
            for c in not_verified
        )
        widest = portal_view(store, latest.snapshot, snapshot_point_items(store, latest), load)
    else:
        widest = view
    changes = [
        replace(
            with_severity(c, request.severity_rules),
            fingerprint=fingerprint(portal, c.key, c.field),
        )
        for c in comparison.changes
    ]
    # a deleted pipeline's stages still tell which workflows point at it
    gone = [i for k, i in baseline_items.items() if i.kind is Kind.PIPELINE and k not in view.items]
    former = load({i.canonical_hash for i in gone})
    graph = build_graph(widest, [ViewItem(i.kind, i.key, former[i.canonical_hash]) for i in gone])
    changes = with_impact(changes, graph, request.impact or ImpactConfig())
    changes = attributed(store, changes, snapshot_items, baseline.moment, request.histories, load)
    changes = classify(
        stores, portal, snapshot, changes, snapshot_items, request.ignore_rules, load
    )
    changes = with_vendor(store, changes, snapshot_items, request.vendor_governed, load)
    changes = named(store, changes, widest, view, baseline_items, load)
    unplanned = [c for c in changes if c.classification is Classification.DEFECT]
    payload_of = _payloads_of(load, unplanned, snapshot_items)

    def name_of(change: Change) -> str:
        """The item's human name (``analysis/names.py``), else its label, name or key."""
        if change.names is not None and change.names.item:
            return change.names.item
        return defect_name(change.key, payload_of(change))

    drifts = group_drift(portal, unplanned, name_of)
    explained: dict[str, str] = {}
    for c in changes:
        if c.classification in (
            Classification.PLANNED,
            Classification.IGNORED,
            Classification.VENDOR,
        ):
            explained.setdefault(c.key, c.note or c.classification.value)

    def is_verified(key: str) -> bool:
        return scope_of(key, comparable) is not None and key not in comparison.unverified_keys

    def decide(existing: dict[str, Defect]) -> DefectPlan:
        drifted = {d.key for d in drifts}
        asked = [d for d in existing.values() if d.key not in drifted and d.status in RESOLVABLE]
        took = baseline_holds(asked, baseline, baseline_items, load)
        return plan_defects(
            existing, drifts, is_verified, baseline, lambda d: d.id in took, explained
        )

    plan, ids, update = store.update_defects(
        portal, decide, snapshot, baseline, clock(), run_id=request.run_id
    )
    waived = {drift.key for _defect, drift in plan.waived}
    changes = [
        _classified(c, ids, waived) if c.classification is Classification.DEFECT else c
        for c in changes
    ]
    shown = {c.defect_id for c in changes if c.defect_id is not None}
    touched = set(update.resolved) | set(update.expired_waivers) | shown | set(ids.values())
    known = {d.id: d for d in store.defects(portal, ids=touched)} if touched else {}
    resolved = tuple(known[i] for i in update.resolved)
    expired = tuple(known[i] for i in update.expired_waivers)
    present = tuple(known[ids[d.key]] for d in drifts)
    finding_update, findings, resolved_findings = record_findings(
        stores, view, request.policies, clock, request.run_id
    )
    now = clock()
    stores.reports.record_sightings(portal, changes, snapshot.id, now)
    kpis = governance_kpis(store, portal, widest, baseline_items, default_since(now), now)
    hub = request.hub
    if hub is not None:
        custom = {
            name: type_id
            for type_id, name in object_types_by_id(view).items()
            if type_id not in STANDARD_OBJECT_TYPE_IDS
        }
        hub = replace(hub, object_type_ids=custom)
    log.info(
        "audit.done",
        portal=portal,
        snapshot=snapshot.id,
        baseline=baseline.version,
        changes=len(changes),
        opened=len(update.opened),
        resolved=len(update.resolved),
        planned=sum(1 for c in changes if c.classification is Classification.PLANNED),
        ignored=sum(1 for c in changes if c.classification is Classification.IGNORED),
        vendor=sum(1 for c in changes if c.classification is Classification.VENDOR),
        expired_waivers=len(expired),
        not_verified=[c.scope for c in not_verified],
        findings=len(findings),
        findings_opened=len(finding_update.opened),
    )
    return AuditResult(
        portal=portal,
        snapshot=snapshot,
        baseline=baseline,
        changes=tuple(changes),
        not_verified=not_verified,
        defects=update,
        resolved_defects=resolved,
        expired_waivers=expired,
        present_defects=present,
        findings=tuple(findings),
        finding_update=finding_update,
        resolved_findings=tuple(resolved_findings),
        surface=governed_surface(snapshot.coverage, request.signoffs, now),
        hub=hub,
        kpis=kpis,
        expiring_days=request.expiring_days,
        notes=refusal_notes(
            (c for c in changes if c.classification in _STILL_REPORTED), request.ignore_rules
        ),
    )


def shared_with(
    baseline_items: Mapping[str, StoredItem], items: Iterable[StoredItem]
) -> dict[str, StoredItem]:
    """``items`` by key, where the baseline holds an item alike, as the baseline's own value
    (its key and hashes the very same strings): an audit holds both sides through its run, and
    on most nights most items are the same on both, so they are held once."""
    shared: dict[str, StoredItem] = {}
    for item in items:
        same = baseline_items.get(item.key)
        if same is not None and same == item:
            shared[same.key] = same
        else:
            shared[item.key] = item
    return shared


def named(
    store: Store,
    changes: list[Change],
    widest: PortalView,
    view: PortalView,
    baseline_items: Mapping[str, StoredItem],
    load_payloads: PayloadLoader | None = None,
) -> list[Change]:
    """The changes with their names: from the snapshot (each part's latest complete read),
    and from the baseline for what the snapshot no longer holds."""
    if not changes:
        return changes
    current = {k: i.canonical for k, i in widest.items.items()}
    current.update({k: i.canonical for k, i in view.items.items()})
    wanted = {c.key for c in changes if c.key in baseline_items}
    # the people, pipelines and stages the baseline named, for ids the snapshot lost
    wanted |= {
        k
        for k, i in baseline_items.items()
        if i.kind in (Kind.USER, Kind.TEAM, Kind.ROLE, Kind.PIPELINE) and k not in current
    }
    load = store.load_payloads if load_payloads is None else load_payloads
    payloads = load({baseline_items[k].canonical_hash for k in wanted})
    former = {k: payloads[baseline_items[k].canonical_hash] for k in wanted}
    return Names(current, former).changes(changes)


_STILL_REPORTED = (Classification.DEFECT, Classification.WAIVED)
"""What a rule refused to ignore can be at the end: a defect, or a defect a waiver tolerates."""


def _with_last_read(reason: str | None, stand_in: StandIn) -> str:
    """A part's failure, and the read that impact and KPIs used instead."""
    last = (
        f"last read completely in snapshot #{stand_in.snapshot.id} of "
        f"{stand_in.snapshot.taken_at:%Y-%m-%d %H:%M} UTC"
        if stand_in.snapshot is not None
        else "never read completely"
    )
    return f"{reason} ({last})" if reason else last


def baseline_holds(
    defects: Sequence[Defect],
    baseline: BaselineInfo,
    baseline_items: Mapping[str, StoredItem],
    load_payloads: PayloadLoader,
) -> set[int]:
    """The ids of the defects whose drifted value the baseline holds (so that, gone from the
    portal, they were accepted), reading the payloads they need in one go."""
    asked = [d for d in defects if d.baseline_version != baseline.version]
    hashes: set[str] = set()
    for defect in asked:
        item = baseline_items.get(defect.key)
        if defect.op is not ChangeOp.MODIFIED:
            continue
        if item is not None:
            hashes.add(item.canonical_hash)
        else:  # the order of a part's items is held by the items
            prefix = defect.key + ":"
            hashes |= {i.canonical_hash for k, i in baseline_items.items() if k.startswith(prefix)}
    payloads = dict(load_payloads(hashes)) if hashes else {}

    def loaded(wanted: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        hashes_ = set(wanted)
        missing = hashes_ - payloads.keys()
        if missing:
            payloads.update(load_payloads(missing))
        return {h: payloads[h] for h in hashes_}

    took = set()
    for defect in asked:
        item = baseline_items.get(defect.key)
        if defect.op is not ChangeOp.MODIFIED:
            holds = (item is not None) == (defect.op is ChangeOp.ADDED)
        elif item is None:
            holds = bool(defect.changes) and all(
                (order := part_order(baseline_items, defect.key, c.path, loaded)) is not None
                and order == c.after
                for c in defect.changes
            )
        else:
            payload = payloads[item.canonical_hash]
            holds = bool(defect.changes) and all(
                value_at(payload, c.path) == c.after for c in defect.changes
            )
        if holds:
            took.add(defect.id)
    return took


def _payloads_of(
    load: PayloadLoader, changes: Sequence[Change], snapshot_items: Mapping[str, StoredItem]
) -> Callable[[Change], Mapping[str, Any] | None]:
    """The payload each change's item is named from: the snapshot's, or for a removed item
    the baseline's (the change's ``before``)."""
    hashes = {
        snapshot_items[c.key].canonical_hash
        for c in changes
        if c.op is ChangeOp.MODIFIED and c.key in snapshot_items
    }
    payloads = load(hashes) if hashes else {}

    def payload_of(change: Change) -> Mapping[str, Any] | None:
        whole = change.before if change.op is ChangeOp.REMOVED else change.after
        if change.op is not ChangeOp.MODIFIED:
            return whole if isinstance(whole, dict) else None
        item = snapshot_items.get(change.key)
        return payloads.get(item.canonical_hash) if item is not None else None

    return payload_of


def record_findings(
    store: Store | Stores,
    view: PortalView,
    policies: Mapping[str, PolicySettings],
    clock: Clock = utc_now,
    run_id: int | None = None,
) -> tuple[FindingUpdate, list[Finding], list[Finding]]:
    """Evaluate the enabled policies on a snapshot and track what they find as findings."""
    breaches, ran = evaluate(view, policies)

    def judged(finding: Finding) -> bool:
        """Were the parts it was judged from read well enough to say it is gone?"""
        if all(view.fully_read(scope) for scope in finding.scopes):
            return True
        policy = POLICIES_BY_ID.get(finding.policy)
        per_item = policy is not None and policy.per_item
        # one item's breach: its part was read, and the item is there to judge
        return per_item and finding.key in view.items and all(view.read(s) for s in finding.scopes)

    def whole(breach: Breach) -> bool:
        """Was every item the breach was judged from read, so that it says all there is?"""
        policy = POLICIES_BY_ID.get(breach.policy)
        return (policy is not None and policy.per_item) or all(
            view.fully_read(scope) for scope in breach.scopes
        )

    return Stores.of(store).findings.update(
        view.portal,
        lambda existing, waived: plan_findings(
            view.portal, existing, breaches, ran, judged, waived, whole
        ),
        view.snapshot_id,
        clock(),
        run_id,
    )


def classify(
    stores: Stores,
    portal: str,
    snapshot: SnapshotInfo,
    changes: Sequence[Change],
    snapshot_items: Mapping[str, StoredItem],
    ignore_rules: Sequence[IgnoreRule],
    load_payloads: PayloadLoader | None = None,
) -> list[Change]:
    """Ignored by a rule, planned by a change request in force when the snapshot was taken, or
    (for now) a defect; a defect to an item a CR names says how it differs from the CR."""
    store = stores.store
    requests = [r for r in stores.governance.requests(portal) if r.in_force(snapshot.taken_at)]
    named = {p.key for r in requests for p in r.changes}
    # a CR may name an item the portal did not hold yet by its identity (workflow:{Name})
    by_identity = {parts[1] for k in named if (parts := split_identity_key(k)) is not None}
    keys = {
        c.key
        for c in changes
        if (c.key in named or c.key.rsplit(":", 1)[0] in by_identity) and c.key in snapshot_items
    }
    load = store.load_payloads if load_payloads is None else load_payloads
    payloads = load({snapshot_items[k].canonical_hash for k in keys})
    result = []
    for change in changes:
        verdict = judge(change, ignore_rules)
        if verdict.ignored and verdict.rule is not None:
            note = ignored_note(verdict.rule)
            result.append(replace(change, classification=Classification.IGNORED, note=note))
            continue
        after = payloads[snapshot_items[change.key].canonical_hash] if change.key in keys else None
        classified = classify_planned(change, requests, after) or change
        if verdict.refused and verdict.rule and classified.classification is Classification.DEFECT:
            # critical drift a rule wanted to ignore: never silently, so the change says so
            said = (classified.note, refused_note(verdict.rule))
            classified = replace(classified, note="; ".join(filter(None, said)))
        result.append(classified)
    return result


def with_vendor(
    store: Store,
    changes: Sequence[Change],
    snapshot_items: Mapping[str, StoredItem],
    governed: Sequence[str],
    load_payloads: PayloadLoader | None = None,
) -> list[Change]:
    """Defects that HubSpot made to its own definitions become ``vendor`` (governance.vendor)."""
    kinds = (Kind.PROPERTY, Kind.ASSOCIATION_LABEL)
    keys = {
        c.key
        for c in changes
        if c.op is ChangeOp.MODIFIED and c.kind in kinds and c.key in snapshot_items
    }
    load = store.load_payloads if load_payloads is None else load_payloads
    payloads = load({snapshot_items[k].canonical_hash for k in keys})
    result = []
    for change in changes:
        if change.classification is not Classification.DEFECT or change.kind not in kinds:
            result.append(change)
            continue
        if change.op is ChangeOp.MODIFIED:
            payload = payloads.get(snapshot_items[change.key].canonical_hash, {})
        else:
            payload = change.after if change.op is ChangeOp.ADDED else change.before
        note = vendor_note(change, payload, governed)
        if note is not None:
            change = replace(change, classification=Classification.VENDOR, note=note)
        result.append(change)
    return result


def _classified(change: Change, ids: dict[str, int], waived: set[str]) -> Change:
    """An unplanned change with its item's defect (by key), waived if that defect is."""
    classification = Classification.WAIVED if change.key in waived else Classification.DEFECT
    return replace(change, classification=classification, defect_id=ids.get(change.key))
