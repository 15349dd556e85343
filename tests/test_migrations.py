"""Migrations: a linear chain that upgrades and downgrades cleanly on SQLite and Postgres."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from hubaudit.model.items import Kind
from hubaudit.shipped import migrations_dir
from hubaudit.store.engine import (
    HEAD_REVISION,
    current_revision,
    downgrade,
    head_revision,
    migrations_head,
    upgrade,
)
from hubaudit.store.tables import Base

TABLES = set(Base.metadata.tables)


def script_directory() -> ScriptDirectory:
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    return ScriptDirectory.from_config(config)


def test_the_migration_chain_is_linear() -> None:
    scripts = script_directory()
    assert len(scripts.get_heads()) == 1
    revisions = list(scripts.walk_revisions())
    roots = [r for r in revisions if r.down_revision is None]
    assert len(roots) == 1
    for revision in revisions:
        assert not isinstance(revision.down_revision, tuple | list), "no merge points"


def test_the_head_revision_the_code_knows_is_the_newest_migration() -> None:
    """Read commands check the schema against HEAD_REVISION without loading Alembic: a new
    migration must move it too."""
    newest = script_directory().get_current_head()
    assert HEAD_REVISION == newest == migrations_head() == head_revision()
    files = sorted((migrations_dir() / "versions").glob("[0-9]*.py"))
    assert files and files[-1].name.startswith(f"{HEAD_REVISION}_")


def test_upgrade_and_downgrade_round_trip(engine: sa.Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    downgrade(engine, "base")
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES


def test_the_migrated_schema_matches_the_tables(engine: sa.Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_0003_turns_snapshot_rows_into_versions_and_back_without_loss(
    engine: sa.Engine,
) -> None:
    """Data written under 0002 (one row per item per snapshot) reads the same after the
    upgrade to interval storage, and again after a downgrade."""
    from datetime import UTC, datetime, timedelta

    from hubaudit.analysis.canonical import canonical_json, content_hash
    from hubaudit.model.items import StoredItem
    from hubaudit.store.integrity import check_integrity
    from hubaudit.store.repository import Store

    upgrade(engine, "0002")
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    start = datetime(2026, 1, 1, 2, tzinfo=UTC)
    bodies = {content_hash({"v": i}): canonical_json({"v": i}) for i in range(12)}
    hashes = sorted(bodies)
    # night by night: key -> (canonical, raw); k2 disappears on night 2 and comes back on 3
    nights = [
        {"k1": (hashes[0], hashes[1]), "k2": (hashes[2], hashes[2]), "k3": (hashes[3], hashes[4])},
        {"k1": (hashes[0], hashes[5]), "k2": (hashes[2], hashes[2]), "k3": (hashes[3], hashes[4])},
        {"k1": (hashes[0], hashes[5]), "k3": (hashes[6], hashes[7])},
        {"k1": (hashes[0], hashes[5]), "k2": (hashes[2], hashes[2]), "k3": (hashes[6], hashes[7])},
    ]
    other_portal = {"k1": (hashes[8], hashes[9])}
    with engine.begin() as connection:
        connection.execute(
            t["payloads"].insert(), [{"hash": h, "body": b} for h, b in bodies.items()]
        )
        connection.execute(
            t["portals"].insert(),
            [
                {"id": 1, "name": "acme", "created_at": start},
                {"id": 2, "name": "other", "created_at": start},
            ],
        )
        snapshot_id = 0
        for portal_id, series in ((1, nights), (2, [other_portal] * 2)):
            for night, held in enumerate(series):
                snapshot_id += 1
                connection.execute(
                    t["snapshots"].insert(),
                    {
                        "id": snapshot_id,
                        "portal_id": portal_id,
                        "taken_at": start + timedelta(days=night),
                        "completed_at": start + timedelta(days=night, minutes=1),
                        "item_count": len(held),
                        "api_calls": 10,
                    },
                )
                connection.execute(
                    t["snapshot_coverage"].insert(),
                    {
                        "snapshot_id": snapshot_id,
                        "scope": "property:contacts",
                        "kind": "property",
                        "status": "complete",
                        "items": len(held),
                    },
                )
                connection.execute(
                    t["snapshot_items"].insert(),
                    [
                        {
                            "snapshot_id": snapshot_id,
                            "key": f"property:contacts:{k}",
                            "kind": "property",
                            "canonical_hash": c,
                            "raw_hash": r,
                        }
                        for k, (c, r) in held.items()
                    ],
                )
    with engine.connect() as connection:
        before = sorted(map(tuple, connection.execute(sa.select(t["snapshot_items"])).all()))
    assert len(before) == 13

    upgrade(engine)
    store = Store(engine)
    for snapshot_id, held in enumerate([*nights, other_portal, other_portal], start=1):
        assert store.snapshot_items(snapshot_id) == {
            f"property:contacts:{k}": StoredItem(Kind.PROPERTY, f"property:contacts:{k}", c, r)
            for k, (c, r) in held.items()
        }
    # k1 (raw changed once), k2 (gone and back), k3 (changed once), other portal's k1
    assert store.item_versions("acme", "property:contacts:k2")[0].valid_until == 3
    with engine.connect() as connection:
        assert (
            connection.scalar(sa.select(sa.func.count()).select_from(sa.table("item_versions")))
            == 7
        )
    assert check_integrity(engine).ok

    downgrade(engine, "0002")
    with engine.connect() as connection:
        after = sorted(map(tuple, connection.execute(sa.select(t["snapshot_items"])).all()))
    assert after == before
    upgrade(engine)
    assert check_integrity(engine).ok


def test_0005_keeps_baselines_and_defects_that_other_rows_point_to(engine: sa.Engine) -> None:
    """A database in use at 0004 (baselines that items and defects point to) upgrades to the
    governance schema, approved versions intact, and downgrades again."""
    from datetime import UTC, datetime

    from hubaudit.analysis.canonical import canonical_json, content_hash
    from hubaudit.model.baselines import BaselineStatus
    from hubaudit.model.defects import DefectStatus
    from hubaudit.store.integrity import check_integrity
    from hubaudit.store.repository import Store

    upgrade(engine, "0004")
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    at = datetime(2026, 1, 1, 2, tzinfo=UTC)
    payload = {"label": "Amount"}
    digest = content_hash(payload)
    with engine.begin() as connection:
        connection.execute(
            t["payloads"].insert(), {"hash": digest, "body": canonical_json(payload)}
        )
        connection.execute(t["portals"].insert(), {"id": 1, "name": "acme", "created_at": at})
        connection.execute(
            t["snapshots"].insert(),
            {"id": 1, "portal_id": 1, "taken_at": at, "completed_at": at, "item_count": 1,
             "api_calls": 1},
        )  # fmt: skip
        connection.execute(
            t["baselines"].insert(),
            {"id": 1, "portal_id": 1, "version": 1, "approved_by": "Council", "approved_at": at,
             "note": "Q1", "source_snapshot_id": 1, "scopes": '["property:deals"]',
             "item_count": 1},
        )  # fmt: skip
        connection.execute(
            t["baseline_items"].insert(),
            {"baseline_id": 1, "key": "property:deals:amount", "kind": "property",
             "canonical_hash": digest, "raw_hash": digest},
        )  # fmt: skip
        connection.execute(
            t["item_versions"].insert(),
            {"portal_id": 1, "key": "property:deals:amount", "kind": "property",
             "canonical_hash": digest, "raw_hash": digest, "valid_from": 1, "valid_until": None,
             "first_seen_at": at},
        )  # fmt: skip
        connection.execute(
            t["defects"].insert(),
            {"id": 1, "portal_id": 1, "fingerprint": "f" * 64, "kind": "property",
             "key": "property:deals:amount", "field": "label", "path_json": '["label"]',
             "label": "Amount", "op": "modified", "status": "open", "severity": "low",
             "before_json": '"Amount"', "after_json": '"Deal amount"', "first_seen_at": at,
             "last_seen_at": at, "occurrences": 1, "baseline_id": 1, "first_snapshot_id": 1,
             "last_snapshot_id": 1},
        )  # fmt: skip
    upgrade(engine)
    store = Store(engine)
    baseline = store.latest_baseline("acme")
    assert baseline is not None
    assert (baseline.version, baseline.status, baseline.proposed_by, baseline.approved_by) == (
        1,
        BaselineStatus.APPROVED,
        "Council",
        "Council",
    )
    assert set(store.baseline_items(baseline.id)) == {"property:deals:amount"}
    assert [(d.id, d.status, d.baseline_version) for d in store.defects("acme")] == [
        (1, DefectStatus.OPEN, 1)
    ]
    assert check_integrity(engine).ok
    with sa.orm.Session(engine) as session, session.begin():  # a proposal the old schema lacks
        session.execute(
            sa.text(
                "INSERT INTO baselines (id, portal_id, version, status, source, proposed_by, "
                "proposed_at, proposal_note, scopes, item_count) VALUES "
                "(2, 1, 2, 'proposed', 'snapshot', 'Rita', :at, 'draft', '[]', 0)"
            ),
            {"at": at},
        )
    downgrade(engine, "0004")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT version, approved_by FROM baselines")).all()
        assert [tuple(r) for r in rows] == [(1, "Council")]
        assert connection.execute(sa.text("SELECT count(*) FROM defects")).scalar() == 1
    upgrade(engine)
    assert store.latest_baseline("acme") is not None


def test_a_migration_that_fails_halfway_changes_nothing(engine: sa.Engine) -> None:
    """DDL is transactional on both databases: SQLite's driver would otherwise commit each
    statement of a migration as it goes."""
    import pytest

    from hubaudit.errors import DatabaseError

    upgrade(engine, "0004")
    with engine.begin() as connection:  # 0005 creates this table after altering baselines
        connection.execute(sa.text("CREATE TABLE waivers (id INTEGER PRIMARY KEY)"))
    with pytest.raises((DatabaseError, sa.exc.SQLAlchemyError)):
        upgrade(engine)
    assert current_revision(engine) == "0004"
    columns = {c["name"] for c in sa.inspect(engine).get_columns("baselines")}
    assert "status" not in columns
    assert "_alembic_tmp_baselines" not in sa.inspect(engine).get_table_names()


def test_0007_counts_the_defects_seen_so_far_as_unplanned_changes(engine: sa.Engine) -> None:
    """The governance KPIs start with the history there is: every defect is a sighting."""
    from datetime import UTC, datetime

    upgrade(engine, "0006")
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    seen = datetime(2026, 10, 5, 2, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(t["portals"].insert(), {"id": 1, "name": "acme", "created_at": seen})
        connection.execute(
            t["snapshots"].insert(),
            {
                "id": 1,
                "portal_id": 1,
                "taken_at": seen,
                "completed_at": seen,
                "item_count": 0,
                "api_calls": 0,
            },
        )
        connection.execute(
            t["baselines"].insert(),
            {
                "id": 1,
                "portal_id": 1,
                "version": 1,
                "status": "approved",
                "source": "snapshot",
                "proposed_by": "C",
                "proposed_at": seen,
                "proposal_note": "n",
                "approved_by": "C",
                "approved_at": seen,
                "note": "n",
                "source_snapshot_id": 1,
                "scopes": "[]",
                "item_count": 0,
            },
        )
        connection.execute(
            t["defects"].insert(),
            {
                "id": 1,
                "portal_id": 1,
                "fingerprint": "f" * 64,
                "kind": "property",
                "key": "property:deals:x",
                "field": "label",
                "path_json": '["label"]',
                "op": "modified",
                "status": "resolved",
                "severity": "low",
                "before_json": "1",
                "after_json": "2",
                "first_seen_at": seen,
                "last_seen_at": seen,
                "occurrences": 1,
                "baseline_id": 1,
                "first_snapshot_id": 1,
                "last_snapshot_id": 1,
            },
        )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT fingerprint, classification, key, first_seen_at FROM change_sightings")
        ).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [("f" * 64, "defect", "property:deals:x")]
    downgrade(engine, "0006")
    assert "change_sightings" not in sa.inspect(engine).get_table_names()


def test_0010_merges_the_per_field_defects_of_one_item_keeping_events_and_waivers(
    engine: sa.Engine,
) -> None:
    """A database at 0009 with one item's drift as three per-field defects (one open, one
    acknowledged, one waived), an earlier closed one of the same item and another item's
    defect: after 0010 the item's drift is one open defect listing its three field changes,
    the earliest first_seen, the worst severity, every event and waiver; the rest as it was."""
    import json
    from datetime import UTC, datetime, timedelta

    from hubaudit.governance.defects import drift_fingerprint
    from hubaudit.model.changes import ChangeOp
    from hubaudit.model.defects import DefectEventName, DefectStatus
    from hubaudit.store.council import CouncilStore
    from hubaudit.store.repository import Store

    upgrade(engine, "0009")
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    at = datetime(2026, 11, 1, 2, tzinfo=UTC)
    key = "property:deals:deal_source"

    def defect(
        ident: int, field: str, before: str, after: str, severity: str, status: str, day: int
    ) -> dict[str, object]:
        closed = status in ("resolved", "accepted")
        return {
            "id": ident, "portal_id": 1, "fingerprint": f"{ident}" * 64, "kind": "property",
            "key": key if ident < 9 else "property:deals:amount", "field": field,
            "path_json": json.dumps([field]), "label": "Deal source", "op": "modified",
            "status": status, "severity": severity, "before_json": json.dumps(before),
            "after_json": json.dumps(after), "first_seen_at": at + timedelta(days=day),
            "last_seen_at": at + timedelta(days=9), "occurrences": 10 - day, "baseline_id": 1,
            "first_snapshot_id": 1, "last_snapshot_id": 1,
            "resolution": "reverted" if closed else None,
            "resolved_at": at + timedelta(days=1) if closed else None,
        }  # fmt: skip

    with engine.begin() as connection:
        connection.execute(t["portals"].insert(), {"id": 1, "name": "acme", "created_at": at})
        connection.execute(
            t["snapshots"].insert(),
            {"id": 1, "portal_id": 1, "taken_at": at, "completed_at": at, "item_count": 1,
             "api_calls": 1},
        )  # fmt: skip
        connection.execute(
            t["baselines"].insert(),
            {"id": 1, "portal_id": 1, "version": 1, "approved_by": "Council", "approved_at": at,
             "note": "Q1", "source_snapshot_id": 1, "scopes": '["property:deals"]',
             "item_count": 1, "status": "approved", "source": "snapshot", "proposed_at": at,
             "proposed_by": "Council", "proposal_note": "Q1"},
        )  # fmt: skip
        connection.execute(
            t["defects"].insert(),
            [
                defect(2, "type", "enumeration", "string", "critical", "open", 3),
                defect(3, "fieldType", "select", "text", "medium", "acknowledged", 2),
                defect(4, "label", "Deal source", "Source", "low", "waived", 4),
                defect(5, "description", "a", "b", "low", "resolved", 0),  # an earlier drift
                defect(9, "label", "Amount", "Sum", "low", "open", 1),  # another item
            ],
        )
        connection.execute(
            t["defect_events"].insert(),
            [
                {"defect_id": i, "snapshot_id": 1, "at": at, "event": "opened",
                 "detail_json": json.dumps({"after": i})}
                for i in (2, 3, 4, 5, 9)
            ],
        )  # fmt: skip
        connection.execute(
            t["waivers"].insert(),
            {"id": 1, "defect_id": 4, "waived_by": "Rita", "waived_at": at, "reason": "vendor",
             "until": at + timedelta(days=60)},
        )  # fmt: skip
        if engine.dialect.name == "postgresql":  # ids given by hand: the sequence moves on
            connection.execute(sa.text("SELECT setval('defects_id_seq', 100)"))
    upgrade(engine)
    store = Store(engine)
    found = {d.id: d for d in store.defects("acme")}
    assert set(found) == {2, 5, 9}
    merged = found[2]
    assert merged.status is DefectStatus.OPEN  # a part was open: the item's drift is open
    assert merged.severity.value == "critical"
    assert merged.first_seen_at == at + timedelta(days=2)
    assert merged.occurrences == 8
    assert [(c.field, c.before, c.after) for c in merged.changes] == [
        ("fieldType", "select", "text"),
        ("label", "Deal source", "Source"),
        ("type", "enumeration", "string"),
    ]
    assert (merged.field, merged.after) == (
        None,
        {"fieldType": "text", "label": "Source", "type": "string"},
    )
    assert merged.fingerprint == drift_fingerprint("acme", key, ChangeOp.MODIFIED, merged.changes)
    events = store.defect_events(2)
    assert sorted(e.detail.get("field") for e in events if e.event is DefectEventName.OPENED) == [
        "fieldType",
        "label",
        "type",
    ]
    assert [e.detail for e in events if e.event is DefectEventName.MERGED] == [
        {"merged": [3, 4], "by": "migration 0010"}
    ]
    # the waiver is kept, on the merged defect, ended: part of the drift was not waived
    assert merged.waiver is not None and merged.waiver.id == 1
    assert merged.waiver.end_reason == "merged"
    # the earlier, closed drift of the same item stays its own defect
    assert found[5].status is DefectStatus.RESOLVED and len(found[5].changes) == 1
    assert [c.field for c in found[9].changes] == ["label"]
    log = CouncilStore(store).log("acme")
    assert [(e.action, e.subject) for e in log] == [("defects.merged", "defect #2")]
    downgrade(engine, "0009")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT key, field, status FROM defects ORDER BY key, field")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("property:deals:amount", "label", "open"),
        (key, "description", "resolved"),
        (key, "fieldType", "open"),
        (key, "label", "open"),
        (key, "type", "open"),
    ]
    upgrade(engine)
    assert len(store.defects("acme")) == 3
