"""Stored history: points in time, one item's versions, and the diff between any two points.

A point is a snapshot (by id, ``latest`` or a date) or a baseline version. Everything here reads
the store only: no HubSpot call, so history and diffs work offline and on pruned databases
(for the snapshots that retention kept).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from hubaudit.analysis.attribution import item_attribution, user_id_in
from hubaudit.analysis.compare import SIBLING_ORDER, compare, matches_any, scope_of
from hubaudit.analysis.dependencies import build_graph, dependent_sources
from hubaudit.analysis.names import Names
from hubaudit.errors import UsageError
from hubaudit.model.changes import Change, ChangeOp, Dependency
from hubaudit.model.history import Diff, HistoryEntry, ItemAtPoint, Point
from hubaudit.model.items import (
    CoverageStatus,
    ItemVersion,
    JSONValue,
    Kind,
    KindCoverage,
    SnapshotStamp,
    StoredItem,
)
from hubaudit.model.view import PortalView
from hubaudit.policies.severity import DEFAULT_RULES, SeverityRule, with_severity
from hubaudit.services.latest import latest_point, snapshot_point_items, with_stand_ins
from hubaudit.services.stored_views import (
    NAMING_KINDS,
    attributed,
    names_of,
    portal_view,
    resolve_snapshot,
    user_emails,
)
from hubaudit.store.reads import StoreReader

_EVER = datetime.min.replace(tzinfo=UTC)
_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits, within a 64-bit id
POINT_HELP = "a snapshot id, 'latest', a date (2026-03-31) or time, 'baseline' or 'baseline:N'"


def resolve_point(store: StoreReader, portal: str, ref: str) -> Point:
    """``latest``, a snapshot id, a date or time (the last snapshot at or before it),
    ``baseline`` (the latest version) or ``baseline:N``."""
    text = ref.strip()
    if text == "baseline" or text.startswith("baseline:"):
        _, _, version = text.partition(":")
        if not version:
            latest = store.latest_baseline(portal)
            if latest is None:
                raise UsageError(f"portal {portal!r} has no approved baseline")
            return Point(baseline=latest)
        if not _NUMBER.fullmatch(version):
            raise UsageError(f"{ref!r}: a baseline is 'baseline' or 'baseline:N' (N a number)")
        return Point(baseline=store.baseline(portal, int(version)))
    if text == "latest":
        newest = latest_point(store, portal)
        if newest is None:
            raise UsageError(f"portal {portal!r} has no snapshot yet")
        return newest
    if _NUMBER.fullmatch(text):
        return Point(snapshot=store.snapshot(portal, int(text)))
    moment = parse_moment(text, ref)
    found = store.snapshot_at(portal, moment)
    if found is None:
        stamps = store.snapshot_stamps(portal)
        first = f"; its first is from {stamps[0].taken_at:%Y-%m-%d %H:%M} UTC" if stamps else ""
        raise UsageError(
            f"portal {portal!r} has no snapshot taken at or before {moment:%Y-%m-%d %H:%M} UTC"
            + first
        )
    return Point(snapshot=found)


def parse_moment(text: str, ref: str | None = None) -> datetime:
    """A date means the end of that day (UTC); a time without a zone is UTC."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta.resolution
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError) as exc:
        raise UsageError(f"{ref or text!r} is not {POINT_HELP}") from exc
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError as exc:
        raise UsageError(f"{ref or text!r} is out of range") from exc


def snapshot_point(store: StoreReader, portal: str, ref: str, flag: str = "--snapshot") -> Point:
    """``latest`` or a snapshot id, as a point with its stand-ins: a part the snapshot could not
    read comes from the last earlier complete read of it (and says so), never reads as empty."""
    return with_stand_ins(store, resolve_snapshot(store, portal, ref, flag))


def snapshot_view(store: StoreReader, point: Point) -> PortalView:
    """A snapshot point's items with their payloads, its stand-ins' parts included."""
    assert point.snapshot is not None
    return portal_view(store, point.snapshot, point_items(store, point))


def dependents_of(store: StoreReader, point: Point, key: str) -> tuple[Dependency, ...]:
    """What depends on ``key`` directly at a snapshot point (its stand-ins included): the
    dependency graph of only the items that may depend on it, never every payload."""
    from hubaudit.store.items import ItemSelection  # a partial read (the web's)

    assert point.snapshot is not None
    kinds, prefixes = dependent_sources(key)
    items = snapshot_point_items(store, point, ItemSelection(kinds=kinds, prefixes=prefixes))
    return build_graph(portal_view(store, point.snapshot, items)).dependents(key)


def point_items(store: StoreReader, point: Point) -> dict[str, StoredItem]:
    if point.snapshot is not None:
        return snapshot_point_items(store, point)
    assert point.baseline is not None
    return store.baseline_items(point.baseline.id)


# diff -------------------------------------------------------------------------------------


def diff_points(
    store: StoreReader,
    portal: str,
    before: Point,
    after: Point,
    severity_rules: Sequence[SeverityRule] = DEFAULT_RULES,
) -> Diff:
    before_scopes, after_scopes = before.scopes, after.scopes
    comparable = {
        scope: tuple(sorted({*before_scopes[scope], *filters}))
        for scope, filters in after_scopes.items()
        if scope in before_scopes
    }
    before_items, after_items = _items_to_compare(store, before, after)
    comparison = compare(before_items, after_items, comparable, store.load_payloads)
    # An item FROM could not read (a sensitive property without the scope) is not "added"
    # because TO read it: compare() applies the filters to the TO side only.
    changes = [
        with_severity(c, severity_rules)
        for c in comparison.changes
        if not (
            c.op is ChangeOp.ADDED
            and matches_any(c.after, before_scopes[scope_of(c.key, comparable) or ""])
        )
    ]
    changes = attributed(store, changes, after_items, before.moment)
    if changes:
        keys = {c.key for c in changes}
        changes = names_of(store, keys, after_items, before_items).changes(changes)
    return Diff(
        portal,
        before,
        after,
        tuple(changes),
        tuple(sorted(set(before_scopes) ^ set(after_scopes))),
    )


def _items_to_compare(
    store: StoreReader, before: Point, after: Point
) -> tuple[dict[str, StoredItem], dict[str, StoredItem]]:
    """The items a diff reads at each point. Two baseline versions: only the items where they
    differ (found in SQL), with those that name the rest and the siblings whose order is
    compared (users, pipelines, stages…), whole on both sides; otherwise every item."""
    if before.baseline is None or after.baseline is None:
        return point_items(store, before), point_items(store, after)
    from hubaudit.store.items import ItemSelection, baseline_differences, baseline_items_in

    whole = ItemSelection(kinds=NAMING_KINDS | frozenset(SIBLING_ORDER))
    gone, came = baseline_differences(store, before.baseline.id, after.baseline.id)
    return (
        baseline_items_in(store, before.baseline.id, whole) | gone,
        baseline_items_in(store, after.baseline.id, whole) | came,
    )


# history ----------------------------------------------------------------------------------


def item_history(store: StoreReader, portal: str, key: str) -> list[HistoryEntry]:
    """Every version of one item, oldest first, with how it came and went."""
    versions = store.item_versions(portal, key)
    if not versions:
        raise UsageError(f"portal {portal!r} has no stored version of {key!r}")
    stamps = store.snapshot_stamps(portal)
    ids = [s.id for s in stamps]
    coverage = _key_coverage(store, portal, key)
    payloads = store.load_payloads({h for v in versions for h in (v.canonical_hash, v.raw_hash)})

    def loaded(hashes: Iterable[str]) -> dict[str, dict[str, JSONValue]]:
        return {h: payloads[h] for h in hashes}  # every version's, read above in one go

    emails = _UserEmails(store, portal)
    entries: list[HistoryEntry] = []
    previous: ItemVersion | None = None
    gone = True  # before the first version, and after a removal: the next one is "added"
    for index, version in enumerate(versions):
        if previous is not None and not gone and previous.canonical_hash == version.canonical_hash:
            # Same content (only the raw JSON changed, or a gap where the part was not read):
            # one version continues.
            entries[-1] = replace(entries[-1], last_seen=_last_seen(stamps, ids, version))
            previous = version
        else:
            op = ChangeOp.ADDED if gone else ChangeOp.MODIFIED
            changes: tuple[Change, ...] = ()
            if previous is not None and not gone:
                changes = tuple(
                    compare(
                        {key: _stored(previous)},
                        {key: _stored(version)},
                        {_scope(key): ()},
                        loaded,
                    ).changes
                )
            raw = payloads[version.raw_hash]
            # an edit HubSpot dates after the previous version appeared is a medium match
            since = previous.first_seen_at if previous is not None else _EVER
            entries.append(
                HistoryEntry(
                    "added" if gone else "changed",
                    version.valid_from,
                    version.first_seen_at,
                    changes,
                    item_attribution(
                        version.kind,
                        op,
                        raw,
                        emails.of(version, raw, op),
                        since,
                    ),
                    version.canonical_hash,
                    _last_seen(stamps, ids, version),
                )
            )
            previous = version
        gone = False
        if version.valid_until is None:
            continue
        following = versions[index + 1].valid_from if index + 1 < len(versions) else None
        removed = _first_read_without(
            stamps, ids, version.valid_until, following, coverage, payloads[version.canonical_hash]
        )
        if removed is not None:
            entries.append(HistoryEntry("removed", removed.id, removed.taken_at))
            gone = True
        elif following is None:
            unread = _stamp_from(stamps, ids, version.valid_until)
            if unread is not None:
                entries.append(HistoryEntry("not read", unread.id, unread.taken_at))
    if not any(e.changes for e in entries):
        return entries
    # the item's own versions name its paths; the latest snapshot names the ids it holds
    latest = store.latest_snapshot(portal)
    people = names_of(store, (), store.snapshot_items(latest.id)) if latest else Names({})
    named = people.with_payloads(
        {key: payloads[versions[-1].canonical_hash]},
        {key: payloads[versions[0].canonical_hash]},
    )
    return [
        replace(e, changes=tuple(named.changes(e.changes))) if e.changes else e for e in entries
    ]


def _first_read_without(
    stamps: Sequence[SnapshotStamp],
    ids: Sequence[int],
    start: int,
    end: int | None,
    coverage: Mapping[int, KindCoverage],
    payload: Mapping[str, object],
) -> SnapshotStamp | None:
    """The first snapshot in [start, end) that read the item's part and did not find it."""
    stop = len(ids) if end is None else bisect.bisect_left(ids, end)
    for stamp in stamps[bisect.bisect_left(ids, start) : stop]:
        part = coverage.get(stamp.id)
        if (
            part is not None
            and part.status is CoverageStatus.COMPLETE
            and not matches_any(payload, part.unverified)
        ):
            return stamp
    return None


def _stamp_from(stamps: Sequence[SnapshotStamp], ids: Sequence[int], start: int) -> SnapshotStamp:
    index = bisect.bisect_left(ids, start)
    return stamps[index] if index < len(stamps) else stamps[-1]


def _last_seen(
    stamps: Sequence[SnapshotStamp], ids: Sequence[int], version: ItemVersion
) -> SnapshotStamp | None:
    end = len(ids) if version.valid_until is None else bisect.bisect_left(ids, version.valid_until)
    return stamps[end - 1] if end > 0 else None


def _key_coverage(store: StoreReader, portal: str, key: str) -> dict[int, KindCoverage]:
    """How each snapshot read the part holding ``key`` (``property:deals`` for a deal
    property; ``workflow`` for a workflow)."""
    parts = key.split(":")
    found: dict[int, KindCoverage] = {}
    for end in range(1, len(parts)):  # shorter scopes first: the longest match wins
        found.update(store.scope_coverage(portal, ":".join(parts[:end])))
    return found


def _scope(key: str) -> str:
    return key.rsplit(":", 1)[0]


def _stored(version: ItemVersion) -> StoredItem:
    return StoredItem(version.kind, version.key, version.canonical_hash, version.raw_hash)


class _UserEmails:
    """The emails of the users an item's versions name, as the portal's users were at each
    version's time: each user's versions read once, however many versions name them."""

    def __init__(self, store: StoreReader, portal: str) -> None:
        self.store = store
        self.portal = portal
        self.versions: dict[str, list[ItemVersion]] = {}
        self.emails: dict[StoredItem, dict[str, str]] = {}

    def of(self, version: ItemVersion, raw: Mapping[str, object], op: ChangeOp) -> dict[str, str]:
        user_id = user_id_in(version.kind, op, raw)
        if user_id is None:
            return {}
        key = f"{Kind.USER}:{user_id}"
        if key not in self.versions:
            self.versions[key] = self.store.item_versions(self.portal, key)
        held = [u for u in self.versions[key] if u.valid_from <= version.valid_from]
        if not held:
            return {}
        user = _stored(held[-1])
        if user not in self.emails:
            self.emails[user] = user_emails(self.store, [user])
        return self.emails[user]


# show -------------------------------------------------------------------------------------


def item_at(store: StoreReader, portal: str, point: Point, key: str) -> ItemAtPoint:
    first_seen = None
    if point.snapshot is not None and not point.stand_ins:
        # a snapshot named by id or date: a part it could not read still stands in (a diff
        # between two named points lists such parts as not compared instead)
        point = with_stand_ins(store, point.snapshot)
    if point.snapshot is not None:
        snapshot_id = point.snapshot.id
        stand_in = point.stand_in_for(key)
        if stand_in is not None:
            if stand_in.snapshot is None:
                raise UsageError(  # the failure's reason is HubSpot's text: `diff` shows it
                    f"{point.name} of portal {portal!r} does not hold {key!r}: its part "
                    f"{stand_in.scope!r} was never read completely up to it, and its read there "
                    "failed"
                )
            snapshot_id = stand_in.snapshot.id
        versions = store.item_versions(portal, key)
        held = [v for v in versions if v.holds(snapshot_id)]
        if not held:
            before = [v for v in versions if v.valid_from <= snapshot_id]
            hint = (
                f"; its last version before it was first seen in snapshot "
                f"#{before[-1].valid_from} (see `hubaudit history`)"
                if before
                else ""
            )
            raise UsageError(f"{point.name} of portal {portal!r} does not hold {key!r}{hint}")
        item = _stored(held[0])
        first_seen = SnapshotStamp(held[0].valid_from, held[0].first_seen_at)
    else:
        assert point.baseline is not None
        found = store.baseline_items(point.baseline.id).get(key)
        if found is None:
            raise UsageError(f"{point.name} of portal {portal!r} does not hold {key!r}")
        item = found
    payloads = store.load_payloads([item.canonical_hash, item.raw_hash])
    return ItemAtPoint(
        key, point, payloads[item.canonical_hash], payloads[item.raw_hash], first_seen
    )
