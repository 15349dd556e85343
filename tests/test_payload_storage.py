"""Payloads as stored (migration 0011): compressed against a preset dictionary, keyed by 32-byte
digests; every read gives back exactly what was written, and existing databases convert both
ways with nothing lost. Database tests run on a SQLite file and on Postgres."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from hubaudit.analysis.canonical import canonical_json, content_hash
from hubaudit.errors import DatabaseError
from hubaudit.model.items import Kind, StoredItem
from hubaudit.store.engine import downgrade, upgrade
from hubaudit.store.integrity import check_integrity
from hubaudit.store.payloads import (
    DEFLATE_DICTIONARY_1,
    PLAIN,
    body_digest,
    decode_body,
    encode_body,
)
from hubaudit.store.repository import Store
from hubaudit.store.schema import digest_bytes
from hubaudit.store.tables import PayloadRow

AT = datetime(2026, 3, 1, 2, tzinfo=UTC)


def a_property(name: str, label: str) -> dict[str, object]:
    """A HubSpot property's canonical payload, about as large as a real one."""
    return {
        "name": name,
        "label": label,
        "description": f"Which {label.lower()} the deal belongs to, set by the sales team.",
        "groupName": "dealinformation",
        "type": "enumeration",
        "fieldType": "select",
        "options": {
            f"option_{n}": {"label": f"Option {n}", "displayOrder": n, "hidden": False}
            for n in range(6)
        },
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": False,
        "hidden": False,
        "hubspotDefined": False,
        "formField": True,
        "dataSensitivity": "non_sensitive",
        "modificationMetadata": {
            "archivable": True,
            "readOnlyDefinition": False,
            "readOnlyValue": False,
        },
    }


# the codec --------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_every_payload_reads_back_as_written(value: object) -> None:
    text = canonical_json(value)  # type: ignore[arg-type]
    body = encode_body(text)
    assert decode_body(body) == text
    assert body_digest(body) == content_hash(value)  # type: ignore[arg-type]


def test_a_property_takes_a_fraction_of_its_json() -> None:
    text = canonical_json(a_property("renewal_type", "Renewal type"))  # type: ignore[arg-type]
    body = encode_body(text)
    assert body[0] == DEFLATE_DICTIONARY_1
    assert len(body) < len(text) / 3


def test_what_compression_cannot_shorten_is_stored_as_it_is() -> None:
    body = encode_body("1")
    assert body == bytes((PLAIN,)) + b"1"
    assert decode_body(body) == "1"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (bytes((9,)) + b"{}", "form 9, which this hubaudit does not know"),
        (encode_body(canonical_json(a_property("a", "A")))[:-5], "cut short"),  # type: ignore[arg-type]
        (bytes((DEFLATE_DICTIONARY_1,)) + b"\xff\xff\xff\xff", "cannot be read"),
    ],
)
def test_a_damaged_body_is_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(DatabaseError, match=message):
        decode_body(body)


@pytest.mark.parametrize("bad", ["", "ab", "zz" * 32, "a" * 63, "a" * 66, "é" * 64])
def test_a_digest_is_64_hex_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="not a SHA-256 digest"):
        digest_bytes(bad)


# the store ----------------------------------------------------------------------------------


def test_payloads_are_stored_compressed_under_32_byte_digests(store: Store) -> None:
    from hubaudit.analysis.canonical import make_item
    from hubaudit.model.items import CoverageStatus, KindCoverage

    payload = a_property("renewal_type", "Renewal type")
    raw = {**payload, "updatedAt": "2026-02-27T10:00:00.000Z", "label": "Renewal type"}
    item = make_item(Kind.PROPERTY, "property:deals:renewal_type", raw, payload)
    coverage = [KindCoverage(Kind.PROPERTY, "property:deals", CoverageStatus.COMPLETE, 1)]
    snapshot = store.save_snapshot("acme", AT, coverage, [item])
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("select hash, body from payloads order by hash")).all()
    assert len(rows) == 2
    with store.engine.connect() as connection:
        base = connection.scalar(sa.select(PayloadRow.base).where(PayloadRow.hash == item.raw_hash))
    assert base == item.canonical_hash  # the raw form is written against the canonical one
    texts = {
        item.canonical_hash: canonical_json(item.canonical),
        item.raw_hash: canonical_json(raw),
    }
    for digest, body in rows:
        assert len(bytes(digest)) == 32
        assert bytes(digest).hex() in texts
        assert len(bytes(body)) < len(texts[bytes(digest).hex()]) / 2
    assert store.snapshot_items(snapshot.id) == {
        item.key: StoredItem(Kind.PROPERTY, item.key, item.canonical_hash, item.raw_hash)
    }
    assert store.load_payloads([item.canonical_hash, item.raw_hash]) == {
        item.canonical_hash: payload,
        item.raw_hash: raw,
    }
    with pytest.raises(DatabaseError, match="1 stored payloads are missing"):
        store.load_payloads([item.canonical_hash, "0" * 64])


def test_db_check_names_a_body_it_cannot_read(store: Store) -> None:
    from hubaudit.analysis.canonical import make_item
    from hubaudit.model.items import CoverageStatus, KindCoverage

    item = make_item(Kind.PROPERTY, "property:deals:a", {"name": "a"}, {"name": "a"})
    coverage = [KindCoverage(Kind.PROPERTY, "property:deals", CoverageStatus.COMPLETE, 1)]
    store.save_snapshot("acme", AT, coverage, [item])
    assert check_integrity(store.engine).ok
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(PayloadRow)
            .where(PayloadRow.hash == item.canonical_hash)
            .values(body=bytes((7,)) + b"{}")
        )
    assert check_integrity(store.engine).problems == (
        f"payload {item.canonical_hash}: a stored payload is written in form 7, which this "
        "hubaudit does not know: upgrade hubaudit",
    )


# migration 0011 -----------------------------------------------------------------------------


def _rows(connection: sa.Connection, table: str) -> list[tuple[object, ...]]:
    return sorted(tuple(r) for r in connection.execute(sa.text(f"select * from {table}")))


def test_0011_converts_a_database_in_use_and_back_without_loss(engine: sa.Engine) -> None:
    """Rows written at 0009 (hex digests, JSON text) read the same through the store after the
    upgrade, pass ``db check``, and come back byte for byte after a downgrade."""
    upgrade(engine, "0009")
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    values: list[object] = [
        a_property("renewal_type", "Renewal type"),
        a_property("renewal_type", "Renewal kind"),
        {**a_property("renewal_type", "Renewal kind"), "updatedAt": "2026-03-01T00:00:00Z"},
        {"label": "Stage \u00e9t\u00e9 \U0001f600", "nul": "a\u0000b"},
        {"v": 1},
    ]
    bodies = {content_hash(v): canonical_json(v) for v in values}  # type: ignore[arg-type]
    c1, c2, r2, odd, tiny = list(bodies)
    with engine.begin() as connection:
        connection.execute(
            t["payloads"].insert(), [{"hash": h, "body": b} for h, b in bodies.items()]
        )
        connection.execute(t["portals"].insert(), {"id": 1, "name": "acme", "created_at": AT})
        for n in (1, 2):
            at = AT + timedelta(days=n)
            connection.execute(
                t["snapshots"].insert(),
                {"id": n, "portal_id": 1, "taken_at": at, "completed_at": at, "item_count": 2,
                 "api_calls": 1},
            )  # fmt: skip
        connection.execute(
            t["item_versions"].insert(),
            [
                {"portal_id": 1, "key": "property:deals:renewal_type", "kind": "property",
                 "canonical_hash": c1, "raw_hash": c1, "valid_from": 1, "valid_until": 2,
                 "first_seen_at": AT},
                {"portal_id": 1, "key": "property:deals:renewal_type", "kind": "property",
                 "canonical_hash": c2, "raw_hash": r2, "valid_from": 2, "valid_until": None,
                 "first_seen_at": AT + timedelta(days=2)},
                {"portal_id": 1, "key": "user:7", "kind": "user", "canonical_hash": odd,
                 "raw_hash": tiny, "valid_from": 1, "valid_until": None, "first_seen_at": AT},
            ],
        )  # fmt: skip
        connection.execute(
            t["baselines"].insert(),
            {"id": 1, "portal_id": 1, "version": 1, "status": "approved", "source": "snapshot",
             "proposed_by": "Council", "proposed_at": AT, "proposal_note": "Q1",
             "approved_by": "Council", "approved_at": AT, "note": "Q1", "source_snapshot_id": 1,
             "scopes": '["property:deals"]', "item_count": 2},
        )  # fmt: skip
        connection.execute(
            t["baseline_items"].insert(),
            [
                {"baseline_id": 1, "key": "property:deals:renewal_type", "kind": "property",
                 "canonical_hash": c1, "raw_hash": c1},
                {"baseline_id": 1, "key": "user:7", "kind": "user", "canonical_hash": odd,
                 "raw_hash": tiny},
            ],
        )  # fmt: skip
    tables = ("payloads", "item_versions", "baseline_items")
    with engine.connect() as connection:
        before = {table: _rows(connection, table) for table in tables}

    upgrade(engine)
    store = Store(engine)
    assert store.snapshot_items(1) == {
        "property:deals:renewal_type": StoredItem(
            Kind.PROPERTY, "property:deals:renewal_type", c1, c1
        ),
        "user:7": StoredItem(Kind.USER, "user:7", odd, tiny),
    }
    assert store.snapshot_items(2)["property:deals:renewal_type"] == StoredItem(
        Kind.PROPERTY, "property:deals:renewal_type", c2, r2
    )
    assert store.baseline_items(1)["user:7"] == StoredItem(Kind.USER, "user:7", odd, tiny)
    assert [
        v.canonical_hash for v in store.item_versions("acme", "property:deals:renewal_type")
    ] == [
        c1,
        c2,
    ]
    loaded = store.load_payloads(bodies)
    assert {h: canonical_json(v) for h, v in loaded.items()} == bodies
    assert check_integrity(engine).ok
    with engine.connect() as connection:
        stored = dict(connection.execute(sa.text("select hash, body from payloads")).all())
        references = connection.execute(
            sa.text("select canonical_hash, raw_hash from item_versions")
        ).all()
    assert {bytes(h).hex() for h in stored} == set(bodies)
    assert all(len(bytes(h)) == 32 for row in references for h in row)
    assert len(bytes(stored[bytes.fromhex(c1)])) < len(bodies[c1]) / 2
    # the raw payload r2 differs from its canonical c2 by one field: written against it
    assert len(bytes(stored[bytes.fromhex(r2)])) < 40
    with engine.connect() as connection:
        bases = dict(
            connection.execute(
                sa.select(PayloadRow.hash, PayloadRow.base).where(PayloadRow.base.is_not(None))
            ).all()
        )
    assert bases == {r2: c2}

    downgrade(engine, "0009")
    with engine.connect() as connection:
        after = {table: _rows(connection, table) for table in tables}
    assert after == before
    upgrade(engine)
    assert check_integrity(engine).ok
    assert json.loads(bodies[odd]) == store.load_payloads([odd])[odd]


def test_prune_deletes_a_raw_payload_and_then_the_base_it_was_written_against(
    store: Store,
) -> None:
    from hubaudit.analysis.canonical import make_item
    from hubaudit.model.items import CoverageStatus, KindCoverage

    coverage = [KindCoverage(Kind.PROPERTY, "property:deals", CoverageStatus.COMPLETE, 1)]
    nights = []
    for n, label in enumerate(("Renewal type", "Renewal kind")):
        payload = a_property("renewal_type", label)
        raw = {**payload, "updatedAt": f"2026-03-0{n + 1}T10:00:00.000Z"}
        item = make_item(Kind.PROPERTY, "property:deals:renewal_type", raw, payload)
        store.save_snapshot("acme", AT + timedelta(days=n), coverage, [item])
        nights.append(item)
    with store.engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(PayloadRow)) == 4
    result = store.prune("acme", lambda stamps, protected: set())
    assert (result.versions_deleted, result.payloads_deleted) == (1, 2)
    with store.engine.connect() as connection:
        left = set(connection.scalars(sa.select(PayloadRow.hash)))
    assert left == {nights[1].canonical_hash, nights[1].raw_hash}
    assert check_integrity(store.engine).ok
    assert store.load_payloads([nights[1].raw_hash])[nights[1].raw_hash]["updatedAt"] == (
        "2026-03-02T10:00:00.000Z"
    )
