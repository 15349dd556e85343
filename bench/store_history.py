"""Benchmark: a year of nightly snapshots of a large portal, stored as intervals.

    .venv/bin/python bench/store_history.py [--items 20000] [--nights 365] [--change-rate 0.002]
                                            [--database URL] [--quick]
                                            [--compare-src OTHER_CHECKOUT/src]

Builds a synthetic portal of N property items (HubSpot-shaped canonical payloads of about a
kilobyte; raw payloads that add ``createdAt``/``updatedAt``/``createdUserId``/``updatedUserId``)
spread over a dozen object types, and stores one snapshot a night at 02:00 UTC, ending today,
into a fresh SQLite file (in a temporary folder) or a fresh schema of the database at
``--database`` (Postgres: dropped at the end). Each night about ``--change-rate`` of the items
change (label, description or a new option; ``updatedAt`` bumped), a fifth of those among a
small set of busy items, and a few items are added and removed. Seeded: runs are repeatable.

Prints: the raw JSON of one snapshot (every item's raw payload, as HubSpot sent it); the
database size after the first night (one full snapshot) and after all nights, and their ratios
to it; write time in all and per night; the time to load the latest snapshot with its canonical
payloads, a mid-year snapshot's items, and the time of ``item_history`` for the item that
changed most. Baselines, measured in the same run:
- the layout before migration 0011 (payloads as JSON text keyed by 64 hex digits): the same
  database downgraded to 0009 (a copy, for SQLite), vacuumed, its size and the time to load the
  latest snapshot with its payloads the way hubaudit did then; and the time the upgrade back
  takes (migration 0011 on a year-old database);
- the naive layout, one (snapshot_id, key, kind, canonical_hash, raw_hash) row per item per
  snapshot, from the bytes per row of the first snapshot stored that way in a scratch table;
- the latest snapshot loaded in two reads (its items, then their payloads by hash) beside the
  one read of ``Store.snapshot_with_payloads``; with ``--compare-src`` (SQLite), in a process of
  its own, with another checkout's code. Load times are CPU (user + system) beside wall.

Targets: size after a year at most 2x one snapshot's raw JSON; the latest snapshot with its
payloads loaded in under 0.5 s; one item's history under 1 s.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from fresh_process import last_json_line
from sqlalchemy.engine import make_url

from hubaudit.analysis.canonical import canonical_json, make_item
from hubaudit.model.items import ConfigItem, CoverageStatus, Kind, KindCoverage, SnapshotInfo
from hubaudit.services.timetravel import item_history
from hubaudit.store.engine import downgrade, make_engine, upgrade
from hubaudit.store.repository import Store

T = TypeVar("T")
PORTAL = "bench"
SIZE_TARGET = 2.0
LOAD_TARGET = 0.5
HISTORY_TARGET = 1.0
BUSY_SHARE = 0.2  # of the nightly changes, the share that falls on the busy items
BUSY_ITEMS = 0.005  # the busy items, as a share of the portal

# object type -> weight: contacts and deals carry most custom properties in real portals
OBJECT_TYPES = {
    "contacts": 6,
    "companies": 4,
    "deals": 5,
    "tickets": 3,
    "products": 1,
    "line_items": 1,
    "quotes": 1,
    "calls": 1,
    "meetings": 1,
    "tasks": 1,
    "p_subscriptions": 2,
    "p_projects": 1,
}
WORDS = [
    "region",
    "tier",
    "source",
    "score",
    "owner",
    "status",
    "segment",
    "renewal",
    "budget",
    "industry",
    "channel",
    "priority",
    "plan",
    "stage",
    "territory",
    "language",
    "partner",
    "contract",
    "billing",
    "onboarding",
    "health",
    "churn",
    "risk",
    "campaign",
    "referral",
    "product",
    "usage",
    "seats",
    "discount",
    "approval",
    "legal",
    "review",
    "forecast",
    "quarter",
    "support",
    "escalation",
    "sla",
    "survey",
    "nps",
    "migration",
    "integration",
    "account",
    "manager",
    "executive",
    "sponsor",
]
# (type, fieldType, weight)
SHAPES = (
    ("enumeration", "select", 5),
    ("enumeration", "checkbox", 1),
    ("enumeration", "radio", 1),
    ("string", "text", 3),
    ("string", "textarea", 1),
    ("number", "number", 2),
    ("date", "date", 1),
    ("datetime", "date", 1),
    ("bool", "booleancheckbox", 1),
)


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def option(rng: random.Random, index: int) -> dict[str, Any]:
    label = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))).title()
    return {
        "label": f"{label} {index}",
        "displayOrder": index,
        "hidden": rng.random() < 0.05,
        "description": "",
    }


def new_property(rng: random.Random, object_type: str, serial: int) -> dict[str, Any]:
    first, second = rng.choice(WORDS), rng.choice(WORDS)
    name = f"{first}_{second}_{serial}"
    kind, field, _ = rng.choices(SHAPES, weights=[s[2] for s in SHAPES])[0]
    if kind == "bool":
        options = {
            "true": {"label": "Yes", "displayOrder": 0, "hidden": False, "description": ""},
            "false": {"label": "No", "displayOrder": 1, "hidden": False, "description": ""},
        }
    elif kind == "enumeration":
        options = {f"{rng.choice(WORDS)}_{k}": option(rng, k) for k in range(rng.randint(3, 9))}
    else:
        options = {}
    return {
        "name": name,
        "label": f"{first} {second} {serial}".title(),
        "description": sentence(rng, 4, 24),
        "groupName": f"{object_type}_{rng.choice(WORDS)}_information",
        "type": kind,
        "fieldType": field,
        "options": options,
        "displayOrder": rng.randint(-1, 200),
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": False,
        "hidden": rng.random() < 0.03,
        "hubspotDefined": False,
        "archived": False,
        "formField": rng.random() < 0.5,
        "dataSensitivity": "non_sensitive",
        "showCurrencySymbol": kind == "number" and rng.random() < 0.3,
        "modificationMetadata": {
            "archivable": True,
            "readOnlyDefinition": False,
            "readOnlyValue": False,
        },
    }


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Portal:
    """The synthetic portal as it is tonight: canonical and raw payload of every property."""

    def __init__(self, rng: random.Random, count: int, first_night: datetime) -> None:
        self.rng = rng
        self.serial = 0
        self.users = [str(40_000_000 + u) for u in range(40)]
        self.canonical: dict[str, dict[str, Any]] = {}
        self.raw: dict[str, dict[str, Any]] = {}
        self.items: dict[str, ConfigItem] = {}
        self.changes: Counter[str] = Counter()
        for _ in range(count):
            created = first_night - timedelta(days=rng.uniform(30, 2000))
            self.add(created, created + timedelta(days=rng.uniform(0, 25)))
        self.busy = rng.sample(sorted(self.items), max(1, int(count * BUSY_ITEMS)))

    def add(self, created: datetime, updated: datetime) -> str:
        rng = self.rng
        self.serial += 1
        object_type = rng.choices(list(OBJECT_TYPES), weights=list(OBJECT_TYPES.values()))[0]
        body = new_property(rng, object_type, self.serial)
        key = f"property:{object_type}:{body['name']}"
        user = rng.choice(self.users)
        self.canonical[key] = body
        self.raw[key] = {
            "createdAt": stamp(created),
            "createdUserId": user,
            "updatedAt": stamp(updated),
            "updatedUserId": user,
        }
        self.remake(key)
        return key

    def remake(self, key: str) -> None:
        canonical = self.canonical[key]
        raw = {**canonical, **self.raw[key]}
        self.items[key] = make_item(Kind.PROPERTY, key, raw, canonical, canonical["label"])

    def change(self, key: str, at: datetime) -> None:
        """A canonical change (label, description or a new option), ``updatedAt`` bumped."""
        rng = self.rng
        before = self.canonical[key]
        body = before
        while body == before:  # a new label may draw the word it had: draw again
            body = dict(before)
            what = rng.choice(("label", "description", "option"))
            if what == "option" and body["type"] == "enumeration":
                options = dict(body["options"])
                options[f"added_{len(options)}_{self.serial}"] = option(rng, len(options))
                body["options"] = options
            elif what == "label":
                body["label"] = f"{rng.choice(WORDS)} {body['name'].replace('_', ' ')}".title()
            else:
                body["description"] = sentence(rng, 4, 24)
        self.canonical[key] = body
        self.raw[key] = {
            **self.raw[key],
            "updatedAt": stamp(at),
            "updatedUserId": rng.choice(self.users),
        }
        self.remake(key)
        self.changes[key] += 1

    def remove(self, key: str) -> None:
        del self.canonical[key], self.raw[key], self.items[key]

    def night(self, night: datetime, rate: float) -> tuple[int, int]:
        """Change, add and remove items during the day before ``night``'s snapshot."""
        rng = self.rng
        wanted = len(self.items) * rate
        count = int(wanted) + (rng.random() < wanted % 1)
        busy = sum(rng.random() < BUSY_SHARE for _ in range(count))
        keys = list(self.items)
        chosen = {rng.choice(self.busy) for _ in range(busy)}
        while len(chosen) < count:
            chosen.add(rng.choice(keys))
        for key in sorted(chosen):
            self.change(key, night - timedelta(hours=rng.uniform(2, 22)))
        added = rng.choice((0, 0, 0, 1, 2))
        busy_keys = set(self.busy)
        for key in rng.sample([k for k in keys if k not in busy_keys and k not in chosen], added):
            self.remove(key)
        for _ in range(added):
            moment = night - timedelta(hours=rng.uniform(2, 22))
            self.add(moment, moment)
        return len(chosen), added

    def coverage(self) -> list[KindCoverage]:
        counts = Counter(key.split(":")[1] for key in self.items)
        return [
            KindCoverage(Kind.PROPERTY, f"property:{t}", CoverageStatus.COMPLETE, counts[t])
            for t in OBJECT_TYPES
        ]


def best_of(runs: int, call: Callable[[], T]) -> tuple[T, float]:
    result, wall, _cpu = timed(runs, call)
    return result, wall


def timed(runs: int, call: Callable[[], T]) -> tuple[T, float, float]:
    """``call``'s result, its best wall time and its best CPU time (user + system) of ``runs``:
    on a shared machine the wall time is mostly waiting for a core."""
    best_wall = best_cpu = float("inf")
    result: Any = None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return result, best_wall, best_cpu


@contextmanager
def fresh_database(url: str | None) -> Iterator[tuple[str, str | None, Path | None]]:
    """A database URL for an empty store, with its Postgres schema (or its SQLite file)."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "history.db"
            yield f"sqlite:///{path}", None, path
        return
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise SystemExit("--database: give a SQLite file, so that its size can be measured")
        path = Path(parsed.database)
        if path.exists():
            raise SystemExit(f"--database: {path} exists; the benchmark needs a fresh file")
        yield url, None, path
        return
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("--database: SQLite or PostgreSQL only")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'create schema "{schema}"'))
    try:
        scoped = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False), schema, None
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'drop schema "{schema}" cascade'))
        admin.dispose()


def database_size(engine: sa.Engine, schema: str | None, path: Path | None) -> int:
    if schema is not None:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text(
                        "select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c "
                        "join pg_namespace n on n.oid = c.relnamespace "
                        "where n.nspname = :schema and c.relkind = 'r'"
                    ),
                    {"schema": schema},
                ).scalar_one()
            )
    assert path is not None
    with engine.connect() as connection:
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if busy:
            print("  (note: the WAL checkpoint was blocked; the -wal file is counted)")
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def table_sizes(engine: sa.Engine, schema: str | None) -> dict[str, int]:
    """Bytes per table, its indexes (and Postgres TOAST) included."""
    if schema is not None:
        query = (
            "select c.relname, pg_total_relation_size(c.oid) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = :schema and c.relkind = 'r'"
        )
    else:
        query = (
            "select m.tbl_name, sum(d.pgsize) from dbstat d "
            "join sqlite_master m on m.name = d.name group by m.tbl_name"
        )
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(query), {"schema": schema}).all()
    except sa.exc.OperationalError:  # a SQLite built without dbstat
        return {}
    return {str(name): int(size) for name, size in rows}


def breakdown(sizes: dict[str, int]) -> str:
    if not sizes:
        return "(no per-table sizes: SQLite without dbstat)"
    main = ("payloads", "item_versions", "snapshots", "snapshot_coverage")
    parts = [f"{name} {mb(sizes.get(name, 0))}" for name in main]
    rest = sum(v for k, v in sizes.items() if k not in main)
    return ", ".join([*parts, f"other {mb(rest)}"])


def mb(size: float) -> str:
    return f"{size / 2**20:.1f} MB"


Row = tuple[int, str, str, str, str]


def naive_rows_sqlite(rows: list[Row]) -> float:
    """Bytes per row of one snapshot stored the naive way, in a scratch SQLite file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "naive.db"
        connection = sqlite3.connect(path)
        connection.execute(
            "create table snapshot_items (snapshot_id integer not null, key text not null, "
            "kind text not null, canonical_hash text not null, raw_hash text not null, "
            "primary key (snapshot_id, key))"
        )
        connection.executemany("insert into snapshot_items values (?, ?, ?, ?, ?)", rows)
        connection.commit()
        connection.close()
        return path.stat().st_size / len(rows)


def naive_rows_postgres(engine: sa.Engine, rows: list[Row]) -> float:
    """The same, in a scratch table of the benchmark's Postgres schema (dropped after)."""
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "create table naive_snapshot_items (snapshot_id integer not null, "
                "key varchar(512) not null, kind varchar(32) not null, "
                "canonical_hash varchar(64) not null, raw_hash varchar(64) not null, "
                "primary key (snapshot_id, key))"
            )
        )
        connection.execute(
            sa.text("insert into naive_snapshot_items values (:s, :k, :t, :c, :r)"),
            [{"s": s, "k": k, "t": t, "c": c, "r": r} for s, k, t, c, r in rows],
        )
    with engine.begin() as connection:
        size = connection.execute(
            sa.text("select pg_total_relation_size('naive_snapshot_items')")
        ).scalar_one()
        connection.execute(sa.text("drop table naive_snapshot_items"))
    return int(size) / len(rows)


class Before:
    """The year in the layout before 0011, measured on a downgraded database."""

    def __init__(
        self,
        size: int,
        load_wall: float,
        load_cpu: float,
        same_payloads: bool,
        downgrade_wall: float,
        upgrade_wall: float,
    ) -> None:
        self.size = size
        self.load_wall = load_wall
        self.load_cpu = load_cpu
        self.same_payloads = same_payloads
        self.downgrade_wall = downgrade_wall
        self.upgrade_wall = upgrade_wall


def load_0009(engine: sa.Engine, snapshot_id: int) -> dict[str, Any]:
    """The latest snapshot's items and canonical payloads as hubaudit read them at 0009: the
    versions a snapshot holds, then their payloads by hash in pages of 1000, JSON-decoded."""
    with engine.connect() as connection:
        held = connection.execute(
            sa.text(
                "select v.key, v.canonical_hash from item_versions v join snapshots s "
                "on s.id = :id and s.completed_at is not null and s.portal_id = v.portal_id "
                "where v.valid_from <= :id and (v.valid_until is null or v.valid_until > :id)"
            ),
            {"id": snapshot_id},
        ).all()
        wanted = sorted({h for _, h in held})
        payloads = sa.table("payloads", sa.column("hash"), sa.column("body"))
        found: dict[str, Any] = {}
        for start in range(0, len(wanted), 1000):
            for hash_, body in connection.execute(
                sa.select(payloads.c.hash, payloads.c.body).where(
                    payloads.c.hash.in_(wanted[start : start + 1000])
                )
            ):
                found[hash_] = json.loads(body)
    return found


def load_in_two_reads(url: str, snapshot_id: int) -> dict[str, float]:
    """The best wall and CPU time of 5 loads of a snapshot's items, then their canonical
    payloads, with the code this process imports (``--compare-src``'s)."""
    engine = make_engine(url)
    store = Store(engine)

    def load() -> object:
        held = store.snapshot_items(snapshot_id)
        return store.load_payloads({i.canonical_hash for i in held.values()})

    _, wall, cpu = timed(5, load)
    engine.dispose()
    return {"wall": wall, "cpu": cpu}


def other_code_load(src: Path, url: str, snapshot_id: int) -> dict[str, float]:
    """:func:`load_in_two_reads` in a process that imports hubaudit from ``src``."""
    return last_json_line([__file__, "--load-apart", url, str(snapshot_id)], src)


def layout_before_0011(
    engine: sa.Engine,
    schema: str | None,
    path: Path | None,
    snapshot_id: int,
    payloads: dict[str, Any],
) -> Before:
    """Downgrade the database (a copy of the SQLite file) to 0009, measure it, upgrade back."""
    if path is not None:
        database_size(engine, None, path)  # checkpoints the WAL into the file
        engine.dispose()
        copy = path.with_name("history-0009.db")
        shutil.copyfile(path, copy)
        engine = make_engine(f"sqlite:///{copy}")
        path = copy
    try:
        began = time.perf_counter()
        downgrade(engine, "0009")
        downgrade_wall = time.perf_counter() - began
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("vacuum full" if schema else "vacuum"))
        size = database_size(engine, schema, path)
        found, load_wall, load_cpu = timed(5, lambda: load_0009(engine, snapshot_id))
        began = time.perf_counter()
        upgrade(engine)
        upgrade_wall = time.perf_counter() - began
    finally:
        if path is not None:
            engine.dispose()
    return Before(size, load_wall, load_cpu, found == payloads, downgrade_wall, upgrade_wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--change-rate", type=float, default=0.002)
    parser.add_argument("--mid-night", type=int, default=180, help="the mid-year snapshot")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database", help="another database (default: a temporary SQLite file)")
    parser.add_argument("--quick", action="store_true", help="2000 items, 60 nights")
    parser.add_argument(
        "--compare-src",
        type=Path,
        help="another checkout's src: its load of the latest snapshot, same database (SQLite)",
    )
    parser.add_argument("--load-apart", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_apart is not None:
        print(json.dumps(load_in_two_reads(args.load_apart[0], int(args.load_apart[1]))))
        return
    if args.quick:
        args.items, args.nights = 2000, 60
    mid = min(args.mid_night, max(1, args.nights // 2))

    rng = random.Random(args.seed)
    today = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    nights = [today - timedelta(days=args.nights - 1 - n) for n in range(args.nights)]
    started = time.perf_counter()
    portal = Portal(rng, args.items, nights[0])
    generated = time.perf_counter() - started
    json_sizes = sorted(len(canonical_json(i.canonical)) for i in portal.items.values())

    with fresh_database(args.database) as (url, schema, path):
        engine = make_engine(url)
        try:
            upgrade(engine)
            store = Store(engine)
            backend = f"Postgres schema {schema}" if schema else f"SQLite file {path}"
            print(
                f"portal: {args.items} properties over {len(OBJECT_TYPES)} object types, "
                f"canonical JSON {json_sizes[0]}-{json_sizes[-1]} bytes "
                f"(median {json_sizes[len(json_sizes) // 2]}), generated in {generated:.1f} s"
            )
            print(
                f"history: {args.nights} nights at 02:00 UTC, {nights[0]:%Y-%m-%d} to "
                f"{nights[-1]:%Y-%m-%d}, change rate {args.change_rate:.2%} a night; {backend}"
            )
            first_rows: list[Row] = []
            infos: list[SnapshotInfo] = []
            mid_state: dict[str, str] = {}
            write_times: list[float] = []
            changed_total = added_total = 0
            first_size = 0
            first_tables: dict[str, int] = {}
            for n, night in enumerate(nights, start=1):
                if n > 1:
                    changed, added = portal.night(night, args.change_rate)
                    changed_total += changed
                    added_total += added
                items = list(portal.items.values())
                coverage = portal.coverage()
                began = time.perf_counter()
                infos.append(store.save_snapshot(PORTAL, night, coverage, items))
                write_times.append(time.perf_counter() - began)
                if n == 1:
                    raw_json = sum(len(canonical_json(i.raw)) for i in items)
                    first_size = database_size(engine, schema, path)
                    first_tables = table_sizes(engine, schema)
                    first_rows = [
                        (infos[0].id, i.key, i.kind.value, i.canonical_hash, i.raw_hash)
                        for i in items
                    ]
                if n == mid:
                    mid_state = {i.key: i.canonical_hash for i in items}
            final_size = database_size(engine, schema, path)
            final_tables = table_sizes(engine, schema)
            latest = infos[-1]
            with engine.connect() as connection:
                versions = connection.execute(
                    sa.text("select count(*) from item_versions")
                ).scalar_one()

            def load_apart() -> tuple[dict[str, Any], dict[str, Any]]:
                held = store.snapshot_items(latest.id)
                return held, store.load_payloads({i.canonical_hash for i in held.values()})

            (loaded, payloads), latest_wall, latest_cpu = timed(
                5, lambda: store.snapshot_with_payloads(latest.id)
            )
            apart, apart_wall, apart_cpu = timed(5, load_apart)
            mid_loaded, mid_wall = best_of(5, lambda: store.snapshot_items(infos[mid - 1].id))
            payloads_ok = all(
                canonical_json(payloads[i.canonical_hash]) == canonical_json(portal.canonical[k])
                for k, i in loaded.items()
            )
            busiest, busiest_changes = portal.changes.most_common(1)[0]
            history, history_wall = best_of(5, lambda: item_history(store, PORTAL, busiest))

            sqlite_per_row = naive_rows_sqlite(first_rows)
            per_row = sqlite_per_row if schema is None else naive_rows_postgres(engine, first_rows)
            other = None
            if args.compare_src is not None and path is not None:
                other = other_code_load(args.compare_src, url, latest.id)
            before = layout_before_0011(engine, schema, path, latest.id, payloads)
        finally:
            engine.dispose()

    expected_latest = {k: i.canonical_hash for k, i in portal.items.items()}
    latest_ok = {k: i.canonical_hash for k, i in loaded.items()} == expected_latest
    mid_ok = {k: i.canonical_hash for k, i in mid_loaded.items()} == mid_state
    expected_versions = args.items + changed_total + added_total
    mean_items = sum(i.item_count for i in infos) / len(infos)
    naive = args.nights * mean_items * per_row
    total_write = sum(write_times)
    ratio = final_size / first_size
    raw_ratio = final_size / raw_json

    def show(label: str, value: str) -> None:
        print(f"{label + ':':<27} {value}")

    show(
        "changes",
        f"{changed_total} item changes, {added_total} items added and as many removed; "
        f"{versions} item_versions rows (expected {expected_versions})",
    )
    show("raw JSON, one snapshot", f"{raw_json:>13,} bytes ({mb(raw_json)})")
    show(
        "size after night 1",
        f"{first_size:>13,} bytes ({mb(first_size)}), {first_size / raw_json:.2f}x the raw JSON",
    )
    show("  by table", breakdown(first_tables))
    show(f"size after night {args.nights}", f"{final_size:>13,} bytes ({mb(final_size)})")
    show("  by table", breakdown(final_tables))
    show(
        "size ratio all / raw JSON",
        f"{raw_ratio:.2f}x (target <= {SIZE_TARGET:g}x); all / night 1: {ratio:.2f}x",
    )
    show(
        "baseline: layout of 0009",
        f"{before.size:>13,} bytes ({mb(before.size)}), {before.size / raw_json:.2f}x the raw "
        f"JSON: the same year downgraded to 0009 and vacuumed; now {before.size / final_size:.2f}x "
        "smaller",
    )
    show(
        "write, all nights",
        f"{total_write:.1f} s; first night {write_times[0]:.2f} s; mean per night "
        f"{total_write / len(write_times) * 1000:.0f} ms (nights 2-{args.nights}: "
        f"{sum(write_times[1:]) / max(1, len(write_times) - 1) * 1000:.0f} ms, "
        f"slowest {max(write_times[1:], default=0) * 1000:.0f} ms)",
    )
    show(
        "load latest with payloads",
        f"CPU {latest_cpu * 1000:.0f} ms, wall {latest_wall * 1000:.0f} ms (best of 5), "
        f"{len(loaded)} items and {len(payloads)} canonical payloads in one read "
        f"(Store.snapshot_with_payloads; target < {LOAD_TARGET:g} s); matches the portal: "
        f"{'yes' if latest_ok and payloads_ok else 'NO'}",
    )
    show(
        "  baseline: in two reads",
        f"CPU {apart_cpu * 1000:.0f} ms, wall {apart_wall * 1000:.0f} ms (snapshot_items, "
        "then load_payloads of every canonical hash); one read takes "
        f"{latest_cpu / apart_cpu:.2f}x its CPU; same result: "
        f"{'yes' if apart == (loaded, payloads) else 'NO'}",
    )
    if other is not None:
        show(
            "  baseline: other code",
            f"CPU {other['cpu'] * 1000:.0f} ms, wall {other['wall'] * 1000:.0f} ms "
            f"(snapshot_items, then load_payloads, with {args.compare_src}, in a process of its "
            f"own); one read takes {latest_cpu / other['cpu']:.2f}x its CPU",
        )
    show(
        "  baseline: 0009's way",
        f"CPU {before.load_cpu * 1000:.0f} ms, wall {before.load_wall * 1000:.0f} ms (the same "
        "on the downgraded database: hex keys, JSON text); one read takes "
        f"{latest_cpu / before.load_cpu:.2f}x its CPU; same payloads: "
        f"{'yes' if before.same_payloads else 'NO'}",
    )
    show(
        "migration 0011, a year",
        f"{before.upgrade_wall:.1f} s to upgrade the downgraded database back "
        f"(downgrade took {before.downgrade_wall:.1f} s)",
    )
    show(
        f"load snapshot of night {mid}",
        f"{mid_wall * 1000:.0f} ms best of 5, {len(mid_loaded)} items; "
        f"matches the portal that night: {'yes' if mid_ok else 'NO'}",
    )
    show(
        "history of busiest item",
        f"{history_wall * 1000:.0f} ms best of 5 (target < {HISTORY_TARGET:g} s); "
        f"{busiest}: {busiest_changes} changes, {len(history)} entries "
        f"(expected {busiest_changes + 1})",
    )
    show(
        "baseline: naive layout",
        f"{mb(naive)} = {args.nights} snapshots x {mean_items:.0f} items x {per_row:.0f} "
        f"bytes a row (rows alone, no payloads); the real database is "
        f"{naive / final_size:.1f}x smaller",
    )
    if schema is not None:
        show("  bytes a row in SQLite", f"{sqlite_per_row:.0f} (the figure above is Postgres')")


if __name__ == "__main__":
    main()
