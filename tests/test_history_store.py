"""Years of nightly history: interval storage, time travel, diffs, history, retention, check.

Every test runs on a SQLite file and on the Postgres server (the ``store`` fixture)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hubaudit.analysis.canonical import make_item
from hubaudit.analysis.compare import compare
from hubaudit.config import RetentionPolicy
from hubaudit.errors import UsageError
from hubaudit.model.changes import ChangeOp
from hubaudit.model.items import (
    ConfigItem,
    CoverageStatus,
    Kind,
    KindCoverage,
    SnapshotInfo,
    StoredItem,
)
from hubaudit.services.timetravel import diff_points, item_at, item_history, resolve_point
from hubaudit.store.integrity import check_integrity
from hubaudit.store.payloads import encode_body
from hubaudit.store.repository import Store
from hubaudit.store.retention import snapshots_to_keep
from hubaudit.store.tables import ItemVersionRow, PayloadRow, SnapshotRow

DAY1 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
SCOPES = ("property:contacts", "property:deals")


def prop(object_type: str, name: str, label: str, **extra: object) -> ConfigItem:
    canonical = {"name": name, "label": label, "type": "string", **extra}
    raw = {**canonical, "updatedAt": f"{label}-{name}", "updatedUserId": "7"}
    return make_item(Kind.PROPERTY, f"property:{object_type}:{name}", raw, canonical, label)


def user(user_id: str, email: str) -> ConfigItem:
    raw = {"id": user_id, "email": email}
    return make_item(Kind.USER, f"user:{user_id}", raw, raw)


def coverage(
    items: Sequence[ConfigItem], failed: Sequence[str] = (), scopes: Sequence[str] = SCOPES
) -> list[KindCoverage]:
    parts = []
    for scope in scopes:
        kind = Kind(scope.split(":", 1)[0])
        if scope in failed:
            parts.append(KindCoverage(kind, scope, CoverageStatus.FAILED, 0, "HTTP 503"))
        else:
            count = sum(1 for i in items if i.key.startswith(scope + ":"))
            parts.append(KindCoverage(kind, scope, CoverageStatus.COMPLETE, count))
    return parts


def save(
    store: Store,
    day: int,
    items: Sequence[ConfigItem],
    failed: Sequence[str] = (),
    portal: str = "acme",
) -> SnapshotInfo:
    kept = [i for i in items if not any(i.key.startswith(f + ":") for f in failed)]
    scopes = (*SCOPES, "user")
    return store.save_snapshot(
        portal, DAY1 + timedelta(days=day), coverage(kept, failed, scopes), kept
    )


def as_stored(items: Sequence[ConfigItem]) -> dict[str, StoredItem]:
    return {i.key: StoredItem(i.kind, i.key, i.canonical_hash, i.raw_hash) for i in items}


def count(store: Store, table: type[object]) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


# A month of a small portal: what each night holds, written once and checked everywhere.
BASE = [
    prop("contacts", "tier", "Tier"),
    prop("contacts", "region", "Region"),
    prop("deals", "amount", "Amount"),
    prop("deals", "competitor", "Competitor"),
    user("7", "ana@example.com"),
]


def nights() -> list[tuple[list[ConfigItem], tuple[str, ...]]]:
    """(items, failed scopes) per night."""
    n0 = list(BASE)
    n1 = [prop("contacts", "tier", "Customer tier"), *BASE[1:]]  # tier relabelled
    n2 = [i for i in n1 if i.key != "property:deals:competitor"]  # competitor removed
    n3 = n2  # deals could not be read: nothing in deals may look removed
    n4 = [*n2, prop("deals", "renewal", "Renewal date")]  # read again, one property added
    n5 = [prop("contacts", "tier", "Tier"), *n4[1:]]  # tier back to its first label
    return [(n0, ()), (n1, ()), (n2, ()), (n3, ("property:deals",)), (n4, ()), (n5, ())]


@pytest.fixture
def month(store: Store) -> list[SnapshotInfo]:
    return [save(store, day, items, failed) for day, (items, failed) in enumerate(nights())]


def test_every_snapshot_holds_exactly_what_was_written(
    store: Store, month: list[SnapshotInfo]
) -> None:
    for snapshot, (items, failed) in zip(month, nights(), strict=True):
        written = [i for i in items if not any(i.key.startswith(f + ":") for f in failed)]
        assert store.snapshot_items(snapshot.id) == as_stored(written)
        assert snapshot.item_count == len(written)
    assert check_integrity(store.engine).ok


def test_an_unchanged_night_adds_a_snapshot_row_and_no_item_rows(store: Store) -> None:
    save(store, 0, BASE)
    versions, payloads = count(store, ItemVersionRow), count(store, PayloadRow)
    for day in range(1, 30):
        save(store, day, BASE)
    assert count(store, SnapshotRow) == 30
    assert (count(store, ItemVersionRow), count(store, PayloadRow)) == (versions, payloads)
    changed = [prop("contacts", "tier", "Customer tier"), *BASE[1:]]
    save(store, 30, changed)
    # one new version; its canonical and raw payloads are new
    assert count(store, ItemVersionRow) == versions + 1
    assert count(store, PayloadRow) == payloads + 2


def test_points_resolve_by_id_latest_date_and_baseline(
    store: Store, month: list[SnapshotInfo]
) -> None:
    assert resolve_point(store, "acme", "latest").snapshot == month[-1]
    assert resolve_point(store, "acme", str(month[2].id)).snapshot == month[2]
    # a date is the end of that day: the snapshot taken at 02:00 on it
    assert resolve_point(store, "acme", "2026-03-03").snapshot == month[2]
    assert resolve_point(store, "acme", "2026-03-03T01:00:00Z").snapshot == month[1]
    assert resolve_point(store, "acme", "2027-01-01").snapshot == month[-1]
    with pytest.raises(UsageError, match="no snapshot taken at or before 2026-02-01"):
        resolve_point(store, "acme", "2026-02-01")
    with pytest.raises(UsageError, match="no approved baseline"):
        resolve_point(store, "acme", "baseline")
    store.approve_baseline("acme", month[1], "Council", "v1", DAY1 + timedelta(days=1))
    assert resolve_point(store, "acme", "baseline").baseline is not None
    assert resolve_point(store, "acme", "baseline:1").snapshot is None
    with pytest.raises(UsageError, match="no baseline v9"):
        resolve_point(store, "acme", "baseline:9")
    with pytest.raises(UsageError, match="is not a snapshot id"):
        resolve_point(store, "acme", "last tuesday")


def test_a_diff_between_any_two_points_is_the_comparison_of_what_they_held(
    store: Store, month: list[SnapshotInfo]
) -> None:
    written = {s.id: store.snapshot_items(s.id) for s in month}
    for before in month:
        for after in month:
            diff = diff_points(
                store,
                "acme",
                resolve_point(store, "acme", str(before.id)),
                resolve_point(store, "acme", str(after.id)),
            )
            both = {
                c.scope
                for c in before.coverage
                if c.status is CoverageStatus.COMPLETE
                and any(
                    a.scope == c.scope and a.status is CoverageStatus.COMPLETE
                    for a in after.coverage
                )
            }
            expected = compare(
                written[before.id],
                written[after.id],
                dict.fromkeys(both, ()),
                store.load_payloads,
            ).changes
            assert [(c.key, c.op, c.field, c.before, c.after) for c in diff.changes] == [
                (c.key, c.op, c.field, c.before, c.after) for c in expected
            ]
    # and what that means, in words: night 1 → night 4
    diff = diff_points(
        store,
        "acme",
        resolve_point(store, "acme", str(month[0].id)),
        resolve_point(store, "acme", str(month[4].id)),
    )
    assert [(c.key, c.op, c.field) for c in diff.changes] == [
        ("property:contacts:tier", ChangeOp.MODIFIED, "label"),
        ("property:deals:competitor", ChangeOp.REMOVED, None),
        ("property:deals:renewal", ChangeOp.ADDED, None),
    ]
    assert diff.changes[0].attribution.user_email == "ana@example.com"
    # the night deals were not read: deals are not compared, nothing there is "removed"
    diff = diff_points(
        store,
        "acme",
        resolve_point(store, "acme", str(month[0].id)),
        resolve_point(store, "acme", str(month[3].id)),
    )
    assert [c.key for c in diff.changes] == ["property:contacts:tier"]
    assert diff.not_compared == ("property:deals",)


def test_a_diff_against_a_baseline_uses_the_baseline_items(
    store: Store, month: list[SnapshotInfo]
) -> None:
    store.approve_baseline("acme", month[0], "Council", "v1", DAY1)
    diff = diff_points(
        store,
        "acme",
        resolve_point(store, "acme", "baseline:1"),
        resolve_point(store, "acme", "latest"),
    )
    assert [(c.key, c.op) for c in diff.changes] == [
        ("property:deals:competitor", ChangeOp.REMOVED),
        ("property:deals:renewal", ChangeOp.ADDED),
    ]


def test_history_tells_how_each_item_came_and_went(store: Store, month: list[SnapshotInfo]) -> None:
    tier = item_history(store, "acme", "property:contacts:tier")
    assert [(e.event, e.snapshot_id) for e in tier] == [
        ("added", month[0].id),
        ("changed", month[1].id),
        ("changed", month[5].id),
    ]
    assert [(c.field, c.before, c.after) for c in tier[1].changes] == [
        ("label", "Tier", "Customer tier")
    ]
    assert tier[1].attribution.user_email == "ana@example.com"
    assert tier[1].at == DAY1 + timedelta(days=1)
    assert tier[1].last_seen is not None and tier[1].last_seen.id == month[4].id

    competitor = item_history(store, "acme", "property:deals:competitor")
    assert [(e.event, e.snapshot_id) for e in competitor] == [
        ("added", month[0].id),
        ("removed", month[2].id),
    ]
    # amount was not read on night 4: one version throughout, never "removed"
    amount = item_history(store, "acme", "property:deals:amount")
    assert [(e.event, e.snapshot_id) for e in amount] == [("added", month[0].id)]
    assert amount[0].last_seen is not None and amount[0].last_seen.id == month[-1].id
    with pytest.raises(UsageError, match="no stored version"):
        item_history(store, "acme", "property:deals:nothing")


def test_history_of_an_item_whose_part_stopped_being_read_says_so(store: Store) -> None:
    first = save(store, 0, BASE)
    unread = save(store, 1, BASE, failed=("property:deals",))
    history = item_history(store, "acme", "property:deals:amount")
    assert [(e.event, e.snapshot_id) for e in history] == [
        ("added", first.id),
        ("not read", unread.id),
    ]


def test_show_returns_an_item_as_a_point_held_it(store: Store, month: list[SnapshotInfo]) -> None:
    point = resolve_point(store, "acme", "2026-03-02")
    item = item_at(store, "acme", point, "property:contacts:tier")
    assert item.canonical["label"] == "Customer tier"
    assert item.raw["updatedUserId"] == "7"
    assert item.first_seen is not None and item.first_seen.id == month[1].id
    with pytest.raises(UsageError, match="does not hold 'property:deals:competitor'"):
        item_at(store, "acme", resolve_point(store, "acme", "latest"), "property:deals:competitor")


def test_snapshots_of_two_portals_do_not_mix(store: Store) -> None:
    a = save(store, 0, BASE, portal="a")
    b = save(store, 0, BASE[:2], portal="b")
    a2 = save(store, 1, BASE[1:], portal="a")
    b2 = save(store, 1, BASE[:3], portal="b")
    assert store.snapshot_items(a.id) == as_stored(BASE)
    assert store.snapshot_items(b.id) == as_stored(BASE[:2])
    assert store.snapshot_items(a2.id) == as_stored(BASE[1:])
    assert store.snapshot_items(b2.id) == as_stored(BASE[:3])


# retention --------------------------------------------------------------------------------


def test_the_retention_policy_keeps_days_then_weeks_months_and_years() -> None:
    from hubaudit.model.items import SnapshotStamp

    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    stamps = [SnapshotStamp(i + 1, now - timedelta(days=999 - i, hours=10)) for i in range(1000)]
    policy = RetentionPolicy(daily_days=30, weekly_weeks=8, monthly_months=6, yearly=True)
    kept = snapshots_to_keep(stamps, policy, now, protected={5})
    by_id = {s.id: s.taken_at for s in stamps}
    recent = {s.id for s in stamps if s.taken_at >= now - timedelta(days=30)}
    assert recent <= kept and len(recent) == 30
    assert 5 in kept and 1000 in kept
    older = sorted(by_id[i] for i in kept - recent - {5})
    # one per week for 8 weeks, one per month for 6 months, one per year: a few dozen, not 970
    weeks = {(t.isocalendar().year, t.isocalendar().week) for t in older}
    months = {(t.year, t.month) for t in older}
    assert len(older) == len(set(older))
    assert {(t.year, t.month) for t in older if t < now - timedelta(days=200)} <= {
        (y, 12) for y in range(2020, 2027)
    }
    assert len(weeks) >= 3 and len(months) >= 5
    assert len(kept) < 60
    # each kept bucket keeps its last snapshot: the day before a kept one is not kept
    for moment in older:
        if moment < now - timedelta(days=200):
            assert (moment + timedelta(days=1)).year == moment.year + 1


def test_prune_deletes_what_the_policy_drops_and_keeps_the_rest_whole(store: Store) -> None:
    rng = random.Random(7)
    items = [prop("contacts", f"p{i}", f"P{i}") for i in range(40)]
    start = datetime(2025, 1, 1, 2, 0, tzinfo=UTC)
    written: dict[int, dict[str, StoredItem]] = {}
    snapshots = []
    for day in range(200):
        changed = rng.randrange(len(items))
        items[changed] = prop("contacts", f"p{changed}", f"P{changed} d{day}")
        snapshot = store.save_snapshot(
            "acme", start + timedelta(days=day), coverage(items, scopes=SCOPES[:1]), items
        )
        written[snapshot.id] = as_stored(items)
        snapshots.append(snapshot)
    store.approve_baseline("acme", snapshots[10], "Council", "v1", start)
    now = start + timedelta(days=200)
    policy = RetentionPolicy(daily_days=14, weekly_weeks=4, monthly_months=3, yearly=False)
    versions_before = count(store, ItemVersionRow)

    def choose(stamps: list, protected: set[int]) -> set[int]:  # type: ignore[type-arg]
        return snapshots_to_keep(stamps, policy, now, protected)

    dry = store.prune("acme", choose, dry_run=True)
    assert count(store, SnapshotRow) == 200 and count(store, ItemVersionRow) == versions_before
    real = store.prune("acme", choose)
    assert (dry.deleted, dry.versions_deleted, dry.payloads_deleted, dry.bytes_freed) == (
        real.deleted,
        real.versions_deleted,
        real.payloads_deleted,
        real.bytes_freed,
    )
    assert not real.dry_run and dry.dry_run
    remaining = {s.id for s in store.snapshot_stamps("acme")}
    assert len(remaining) == real.kept < 40
    assert snapshots[10].id in remaining  # the baseline's source
    assert snapshots[-1].id in remaining
    assert real.versions_deleted > 0 and real.payloads_deleted > 0
    for snapshot_id in remaining:  # what is left is exactly what was written
        assert store.snapshot_items(snapshot_id) == written[snapshot_id]
    assert check_integrity(store.engine).ok
    # the next night still builds on the newest snapshot
    after = store.save_snapshot("acme", now, coverage(items, scopes=SCOPES[:1]), items)
    assert store.snapshot_items(after.id) == as_stored(items)
    assert count(store, ItemVersionRow) == versions_before - real.versions_deleted


def test_prune_never_deletes_what_a_defect_points_to(store: Store) -> None:
    from hubaudit.governance.defects import DefectPlan, group_drift
    from hubaudit.model.changes import Change

    first = save(store, 0, BASE)
    baseline = store.approve_baseline("acme", first, "Council", "v1", DAY1)
    drifted = save(store, 1, [prop("contacts", "tier", "Customer tier"), *BASE[1:]])
    change = Change(
        Kind.PROPERTY,
        "property:contacts:tier",
        ChangeOp.MODIFIED,
        "label",
        ("label",),
        "Tier",
        "Customer tier",
    )
    store.update_defects(
        "acme",
        lambda _existing: DefectPlan(new=group_drift("acme", [change])),
        drifted,
        baseline,
        DAY1,
    )
    for day in range(2, 6):
        save(store, day, BASE)
    store.prune("acme", lambda _stamps, _protected: set())
    remaining = [s.id for s in store.snapshot_stamps("acme")]
    assert first.id in remaining and drifted.id in remaining
    assert len(remaining) == 3  # and the newest


# integrity --------------------------------------------------------------------------------


def test_db_check_finds_a_tampered_payload_and_a_lost_version(
    store: Store, month: list[SnapshotInfo]
) -> None:
    assert check_integrity(store.engine).ok
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(PayloadRow)
            .where(PayloadRow.hash == BASE[0].raw_hash)
            .values(body=encode_body('{"label":"forged"}'), base=None)
        )
    report = check_integrity(store.engine)
    assert report.problems == (f"payload {BASE[0].raw_hash}: its content does not hash to its key",)
    with store.engine.begin() as connection:
        connection.execute(
            sa.delete(ItemVersionRow).where(ItemVersionRow.key == "property:contacts:region")
        )
    problems = check_integrity(store.engine).problems
    assert len(problems) == 1 + len(month)
    assert f"snapshot {month[0].id} holds 4 items but recorded 5" in problems


# concurrency ------------------------------------------------------------------------------


def test_concurrent_writers_and_a_prune_do_not_corrupt_each_other(store: Store) -> None:
    """Four writers on two portals share most payloads (standard properties look alike in
    every portal) and write in different orders while retention prunes: every snapshot
    still holds exactly what its writer wrote, and the database checks clean."""
    written: dict[int, dict[str, StoredItem]] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(portal: str, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for night in range(8):
                items = [
                    prop("contacts", f"std{i}", f"Standard {i}", night=rng.randrange(3))
                    for i in range(300)
                ]
                rng.shuffle(items)
                snapshot = store.save_snapshot(
                    portal,
                    DAY1 + timedelta(days=night),
                    coverage(items, scopes=SCOPES[:1]),
                    items,
                )
                with lock:
                    written[snapshot.id] = as_stored(items)
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)

    def pruner() -> None:
        try:
            for _ in range(10):
                for portal in ("a", "b"):
                    if store.snapshot_stamps(portal):
                        store.prune(portal, lambda stamps, _p: {s.id for s in stamps[-3:]})
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(portal, seed))
        for portal, seed in (("a", 1), ("a", 2), ("b", 3), ("b", 4))
    ]
    threads.append(threading.Thread(target=pruner))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert len(written) == 32
    remaining = [s.id for p in ("a", "b") for s in store.snapshot_stamps(p)]
    for snapshot_id in remaining:
        assert store.snapshot_items(snapshot_id) == written[snapshot_id]
    report = check_integrity(store.engine)
    assert report.ok, report.problems


# found in review: concurrent reads, asymmetric filters, a pruned snapshot approved -----------


def deals_coverage(count: int, unverified: tuple[str, ...] = ()) -> list[KindCoverage]:
    return [
        KindCoverage(
            Kind.PROPERTY, "property:deals", CoverageStatus.COMPLETE, count, None, unverified
        )
    ]


def _during_the_read(store: Store, action: Callable[[], object]) -> dict[str, StoredItem] | None:
    """Read snapshot 1's items while ``action`` commits from another thread right after the
    read's statement ran."""
    fired: list[bool] = []

    def after(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        # after the read's first statement: a read in two statements would see the change
        if "snapshots" in statement and not fired:
            fired.append(True)
            thread = threading.Thread(target=action)
            thread.start()
            thread.join()

    sa.event.listen(store.engine, "after_cursor_execute", after)
    try:
        return store.snapshot_items(1)
    except UsageError:
        return None  # "there is no complete snapshot 1" is a fine answer too
    finally:
        sa.event.remove(store.engine, "after_cursor_execute", after)
        assert fired


def test_a_snapshot_read_while_the_next_night_is_saved_is_still_that_snapshot(
    store: Store,
) -> None:
    a, b = prop("deals", "a", "A"), prop("deals", "b", "B")
    first = store.save_snapshot("acme", DAY1, deals_coverage(2), [a, b])
    assert first.id == 1
    items = _during_the_read(
        store,
        lambda: store.save_snapshot(
            "acme", DAY1 + timedelta(days=1), deals_coverage(1), [prop("deals", "a", "A2")]
        ),
    )
    assert items == as_stored([a, b])


def test_a_snapshot_read_while_it_is_pruned_is_never_half_empty(store: Store) -> None:
    a, b = prop("deals", "a", "A"), prop("deals", "b", "B")
    store.save_snapshot("acme", DAY1, deals_coverage(2), [a, b])
    for day in (1, 2):
        store.save_snapshot("acme", DAY1 + timedelta(days=day), deals_coverage(1), [a])
    items = _during_the_read(store, lambda: store.prune("acme", lambda _s, _p: set()))
    assert items is None or items == as_stored([a, b])


def test_an_item_the_earlier_side_could_not_read_is_not_added(store: Store) -> None:
    plain = prop("deals", "amount", "Amount")
    secret = prop("deals", "ssn", "SSN", dataSensitivity="sensitive")
    unread = deals_coverage(1, ("dataSensitivity=sensitive",))
    before = store.save_snapshot("acme", DAY1, unread, [plain])
    after = store.save_snapshot(
        "acme", DAY1 + timedelta(days=1), deals_coverage(2), [plain, secret]
    )
    for one, other in ((before, after), (after, before)):
        diff = diff_points(
            store,
            "acme",
            resolve_point(store, "acme", str(one.id)),
            resolve_point(store, "acme", str(other.id)),
        )
        assert diff.changes == ()


def test_approving_a_snapshot_pruned_meanwhile_says_so(store: Store) -> None:
    first = save(store, 0, BASE)
    save(store, 1, [prop("contacts", "tier", "Customer tier"), *BASE[1:]])
    chosen = store.snapshot("acme", first.id)
    store.prune("acme", lambda _stamps, _protected: set())
    with pytest.raises(UsageError, match="no longer exists"):
        store.approve_baseline("acme", chosen, "Ada", "Q4", DAY1)


@pytest.mark.parametrize(
    "ref", ["²", "baseline:²", "99999999999999999999", "9999-12-31", "0001-01-01T00:00+01:00"]
)
def test_a_point_out_of_range_or_not_ascii_is_a_clear_error(
    store: Store, month: list[SnapshotInfo], ref: str
) -> None:
    with pytest.raises(UsageError):
        resolve_point(store, "acme", ref)
