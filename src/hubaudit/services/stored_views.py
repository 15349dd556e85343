"""What the read paths need from a stored snapshot, without the audit's machinery: a snapshot
named by ``latest`` or id, its items as a portal view (for policies and the dependency graph),
and who made each change (from the items' raw JSON and the portal's users).

``history``, ``show``, ``diff`` and ``impact`` use these through
:mod:`hubaudit.services.timetravel`; :mod:`hubaudit.services.audit_run` uses them too. Importing
this module imports no HubSpot client."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from hubaudit.analysis.attribution import History, attribute, attribute_from_history
from hubaudit.analysis.names import Names
from hubaudit.errors import UsageError
from hubaudit.model.changes import Change
from hubaudit.model.items import CoverageStatus, JSONValue, Kind, SnapshotInfo, StoredItem
from hubaudit.model.view import PastVersion, PortalView, ViewItem
from hubaudit.store.reads import StoreReader

if TYPE_CHECKING:
    from hubaudit.analysis.compare import PayloadLoader


def resolve_snapshot(
    store: StoreReader, portal: str, ref: str, flag: str = "--from-snapshot"
) -> SnapshotInfo:
    """``latest`` or a snapshot id (``flag`` names the option in an error)."""
    if ref == "latest":
        snapshot = store.latest_snapshot(portal)
        if snapshot is None:
            raise UsageError(
                f"portal {portal!r} has no snapshot yet: run `hubaudit snapshot` first"
            )
        return snapshot
    try:
        snapshot_id = int(ref)
    except ValueError as exc:
        raise UsageError(f"{flag} takes 'latest' or a snapshot id, not {ref!r}") from exc
    return store.snapshot(portal, snapshot_id)


# Kinds whose raw JSON a policy reads (a workflow's updatedAt); the rest need canonical only.
RAW_KINDS = frozenset({Kind.WORKFLOW})


def portal_view(
    store: StoreReader,
    snapshot: SnapshotInfo,
    items: Mapping[str, StoredItem] | None = None,
    load_payloads: PayloadLoader | None = None,
) -> PortalView:
    """The snapshot's items with their payloads, for the policies and the dependency graph.

    ``load_payloads`` (the store's by default) may hold what was just read, so that an audit
    does not read back the snapshot it has just written."""
    load = store.load_payloads if load_payloads is None else load_payloads
    held: Mapping[str, StoredItem]
    canonical: Mapping[str, Mapping[str, JSONValue]]
    if items is None:  # the items and their payloads in one read
        held, canonical = store.snapshot_with_payloads(snapshot.id)
    else:
        held, canonical = items, load({i.canonical_hash for i in items.values()})
    raws = load({i.raw_hash for i in held.values() if i.kind in RAW_KINDS})

    def pasts(keys: Collection[str]) -> dict[str, list[PastVersion]]:
        versions = {
            key: sorted(
                (v for v in found if v.valid_from <= snapshot.id), key=lambda v: v.valid_from
            )
            for key, found in store.versions_of(snapshot.portal, keys).items()
        }
        wanted = {h for vs in versions.values() for v in vs for h in (v.canonical_hash, v.raw_hash)}
        # the current versions' payloads are the view's own: only older ones are read
        payloads = {h: p for h in wanted if (p := canonical.get(h, raws.get(h))) is not None}
        if len(payloads) < len(wanted):
            payloads.update(load(wanted - payloads.keys()))
        return {
            key: [
                PastVersion(v.first_seen_at, payloads[v.canonical_hash], payloads[v.raw_hash])
                for v in vs
            ]
            for key, vs in versions.items()
        }

    def past(key: str) -> list[PastVersion]:
        return pasts([key]).get(key, [])

    return PortalView(
        portal=snapshot.portal,
        snapshot_id=snapshot.id,
        taken_at=snapshot.taken_at,
        items={
            key: ViewItem(item.kind, key, canonical[item.canonical_hash], raws.get(item.raw_hash))
            for key, item in held.items()
        },
        complete={
            c.scope: c.unverified for c in snapshot.coverage if c.status is CoverageStatus.COMPLETE
        },
        past=past,
        pasts=pasts,
    )


def attributed(
    store: StoreReader,
    changes: list[Change],
    after_items: Mapping[str, StoredItem],
    since: datetime,
    histories: Sequence[History] = (),
    load_payloads: PayloadLoader | None = None,
) -> list[Change]:
    """Attach who made each change, from the items' raw JSON and the portal's users, then from
    the audit trails in ``histories``. An edit after ``since`` is a ``medium`` match."""
    if not changes:
        return changes
    load = store.load_payloads if load_payloads is None else load_payloads
    changed = {c.key for c in changes if c.key in after_items}
    users = [i for k, i in after_items.items() if i.kind is Kind.USER]
    emails = user_emails(store, users, load)
    raws = load({after_items[k].raw_hash for k in changed})
    raw_after = {k: raws[after_items[k].raw_hash] for k in changed}
    result = attribute(changes, raw_after, emails, since)
    for history in histories:  # each fills only what the ones before could not
        result = attribute_from_history(result, history, emails, since)
    return result


def user_emails(
    store: StoreReader, users: Collection[StoredItem], load_payloads: PayloadLoader | None = None
) -> dict[str, str]:
    """Email by user id, from the users' raw JSON."""
    load = store.load_payloads if load_payloads is None else load_payloads
    raws = load({u.raw_hash for u in users})
    return {str(raws[u.raw_hash].get("id")): str(raws[u.raw_hash].get("email")) for u in users}


# What ids inside other items point at (users, teams, roles, pipelines and their stages,
# lifecycle stages, custom objects): loaded to name them, small beside a whole snapshot.
NAMING_KINDS = frozenset(
    {Kind.USER, Kind.TEAM, Kind.ROLE, Kind.PIPELINE, Kind.LIFECYCLE_STAGE, Kind.OBJECT_SCHEMA}
)


def names_of(
    store: StoreReader,
    keys: Collection[str],
    after_items: Mapping[str, StoredItem],
    before_items: Mapping[str, StoredItem] | None = None,
) -> Names:
    """Names for ``keys`` at two points (``after`` first): those items' payloads, and the items
    that ids point at (never every payload of a snapshot)."""
    sides = [after_items, before_items or {}]
    wanted = [
        {k: i for k, i in side.items() if k in keys or i.kind in NAMING_KINDS} for side in sides
    ]
    payloads = store.load_payloads({i.canonical_hash for side in wanted for i in side.values()})
    after, before = ({k: payloads[i.canonical_hash] for k, i in side.items()} for side in wanted)
    return Names(after, before)
