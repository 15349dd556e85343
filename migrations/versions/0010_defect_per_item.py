"""One defect per item and drift, with an owner and a due date.

Until 0009 a defect was one field of one item (fingerprint: portal, key, field). From 0010 it
is one item's drift: ``changes_json`` lists its field changes, and its fingerprint covers the
item and the drift's content. The upgrade loses no defect, event or waiver:

- every defect gets ``changes_json`` (its one field change) and a fingerprint of the new form;
- the defects of one item that are one drift are merged into the one with the lowest id: those
  still in play (open, acknowledged, waived) together, and the closed ones that closed together
  (same status, same moment). The merged defect keeps the earliest ``first_seen``, the latest
  ``last_seen``, the worst severity, the field changes, events (each moved event says which
  field it was about) and waivers of all; it is open if one part was open, else acknowledged if
  one was, else waived (then the waiver that runs out first stays in force, the others end as
  ``merged``); a waiver in force on a merged defect that is not waived ends as ``merged``. Its
  timeline says ``merged`` with the ids merged in, and the governance log records the merge.

The downgrade splits each defect back into one per field change (the first keeps the row and
the timeline; the others are new rows) with the old fingerprints, and drops the columns.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 16:30:00
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from hubaudit.store.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
_IN_PLAY = ("open", "acknowledged", "waived")

defects = sa.table(
    "defects",
    sa.column("id", sa.Integer),
    sa.column("portal_id", sa.Integer),
    sa.column("fingerprint", sa.String),
    sa.column("kind", sa.String),
    sa.column("key", sa.String),
    sa.column("field", sa.Text),
    sa.column("path_json", sa.Text),
    sa.column("label", sa.Text),
    sa.column("op", sa.String),
    sa.column("status", sa.String),
    sa.column("severity", sa.String),
    sa.column("before_json", sa.Text),
    sa.column("after_json", sa.Text),
    sa.column("first_seen_at", UTCDateTime()),
    sa.column("last_seen_at", UTCDateTime()),
    sa.column("occurrences", sa.Integer),
    sa.column("baseline_id", sa.Integer),
    sa.column("first_snapshot_id", sa.Integer),
    sa.column("last_snapshot_id", sa.Integer),
    sa.column("resolution", sa.Text),
    sa.column("resolved_at", UTCDateTime()),
    sa.column("note", sa.Text),
    sa.column("accepted_baseline_id", sa.Integer),
    sa.column("changes_json", sa.Text),
)
events = sa.table(
    "defect_events",
    sa.column("id", sa.Integer),
    sa.column("defect_id", sa.Integer),
    sa.column("snapshot_id", sa.Integer),
    sa.column("at", UTCDateTime()),
    sa.column("event", sa.String),
    sa.column("detail_json", sa.Text),
)
waivers = sa.table(
    "waivers",
    sa.column("id", sa.Integer),
    sa.column("defect_id", sa.Integer),
    sa.column("until", UTCDateTime()),
    sa.column("ended_at", UTCDateTime()),
    sa.column("end_reason", sa.String),
)
portals = sa.table("portals", sa.column("id", sa.Integer), sa.column("name", sa.String))
log = sa.table(
    "governance_log",
    sa.column("portal_id", sa.Integer),
    sa.column("at", UTCDateTime()),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("subject", sa.String),
    sa.column("note", sa.Text),
    sa.column("detail_json", sa.Text),
)


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _new_fingerprint(portal: str, key: str, op_: str, changes: list[dict[str, Any]]) -> str:
    # the same as hubaudit.governance.defects.drift_fingerprint, frozen here as of 0010
    content = sorted(_json([c["path"], c["after"]]) for c in changes)
    text = "\x1f".join((portal, key, op_, *content))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _old_fingerprint(portal: str, key: str, field: str | None) -> str:
    text = "\x1f".join((portal, key, field or ""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _summary(changes: list[dict[str, Any]]) -> tuple[str | None, list[Any], Any, Any]:
    if len(changes) == 1:
        only = changes[0]
        return only["field"], only["path"], only["before"], only["after"]
    before = {c["field"] or "": c["before"] for c in changes}
    after = {c["field"] or "": c["after"] for c in changes}
    return None, [], before, after


def _unique(fingerprint: str, ident: int, used: set[str]) -> str:
    if fingerprint in used:
        fingerprint = hashlib.sha256(f"{fingerprint}:{ident}".encode()).hexdigest()
    used.add(fingerprint)
    return fingerprint


def upgrade() -> None:
    op.add_column(
        "defects", sa.Column("changes_json", sa.Text(), server_default="[]", nullable=False)
    )
    op.add_column("defects", sa.Column("name", sa.Text(), nullable=True))
    op.add_column("defects", sa.Column("owner", sa.String(length=255), nullable=True))
    op.add_column("defects", sa.Column("due", sa.Date(), nullable=True))
    op.create_index(op.f("ix_defects_owner"), "defects", ["owner"], unique=False)
    _merge_per_item(op.get_bind())


def _merge_per_item(connection: sa.Connection) -> None:
    now = datetime.now(UTC)
    names = dict(connection.execute(sa.select(portals.c.id, portals.c.name)).all())
    rows = [dict(r._mapping) for r in connection.execute(sa.select(defects).order_by(defects.c.id))]
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        row["changes"] = [
            {
                "field": row["field"],
                "path": json.loads(row["path_json"] or "[]"),
                "before": json.loads(row["before_json"]),
                "after": json.loads(row["after_json"]),
                "severity": row["severity"],
                "attribution": {
                    "user_id": None,
                    "user_email": None,
                    "at": None,
                    "source": "unknown",
                    "confidence": "unknown",
                },
            }
        ]
        episode: tuple[Any, ...] = (
            ("in play",) if row["status"] in _IN_PLAY else (row["status"], row["resolved_at"])
        )
        groups[(row["portal_id"], row["key"], row["op"], *episode)].append(row)
    used: dict[int, set[str]] = defaultdict(set)
    for (portal_id, key, op_, *_episode), parts in groups.items():
        keep = parts[0]
        others = parts[1:]
        changes = sorted((c for p in parts for c in p["changes"]), key=lambda c: _json(c["path"]))
        field, path, before, after = _summary(changes)
        values: dict[str, Any] = {
            "changes_json": _json(changes),
            "fingerprint": _unique(
                _new_fingerprint(names[portal_id], key, op_, changes), keep["id"], used[portal_id]
            ),
        }
        if others:
            latest = max(parts, key=lambda p: (p["last_seen_at"], p["id"]))
            statuses = {p["status"] for p in parts}
            status = next(s for s in (*_IN_PLAY, keep["status"]) if s in statuses)
            notes = list(dict.fromkeys(p["note"] for p in parts if p["note"]))
            values.update(
                field=field,
                path_json=json.dumps(path),
                before_json=_json(before),
                after_json=_json(after),
                status=status,
                severity=max((p["severity"] for p in parts), key=_RANK.__getitem__),
                label=next((p["label"] for p in parts if p["label"]), None),
                first_seen_at=min(p["first_seen_at"] for p in parts),
                last_seen_at=latest["last_seen_at"],
                occurrences=max(p["occurrences"] for p in parts),
                baseline_id=latest["baseline_id"],
                first_snapshot_id=min(parts, key=lambda p: p["first_seen_at"])["first_snapshot_id"],
                last_snapshot_id=latest["last_snapshot_id"],
                note="; ".join(notes) or None,
                accepted_baseline_id=max(
                    (p["accepted_baseline_id"] for p in parts if p["accepted_baseline_id"]),
                    default=None,
                ),
            )
            _merge(connection, keep, others, status, now)
            ids = [p["id"] for p in others]
            listed = ", ".join(f"#{i}" for i in ids)
            connection.execute(
                log.insert().values(
                    portal_id=portal_id,
                    at=now,
                    actor="hubaudit",
                    action="defects.merged",
                    subject=f"defect #{keep['id']}",
                    note=f"one defect per item (migration 0010): {listed} merged into "
                    f"#{keep['id']} ({key})",
                    detail_json=_json({"defect": keep["id"], "merged": ids}),
                )
            )
        connection.execute(defects.update().where(defects.c.id == keep["id"]).values(values))


def _merge(
    connection: sa.Connection,
    keep: dict[str, Any],
    others: list[dict[str, Any]],
    status: str,
    now: datetime,
) -> None:
    """Move the others' events and waivers to ``keep``, then delete the others."""
    parts = [keep, *others]
    field_of = {p["id"]: p["field"] for p in parts}
    for event in connection.execute(
        sa.select(events.c.id, events.c.defect_id, events.c.detail_json).where(
            events.c.defect_id.in_(list(field_of))
        )
    ).all():
        detail = json.loads(event.detail_json)
        if isinstance(detail, dict) and "field" not in detail:
            detail["field"] = field_of[event.defect_id]
        connection.execute(
            events.update()
            .where(events.c.id == event.id)
            .values(defect_id=keep["id"], detail_json=_json(detail))
        )
    other_ids = [p["id"] for p in others]
    connection.execute(
        waivers.update().where(waivers.c.defect_id.in_(other_ids)).values(defect_id=keep["id"])
    )
    in_force = connection.execute(
        sa.select(waivers.c.id)
        .where(waivers.c.defect_id == keep["id"], waivers.c.ended_at.is_(None))
        .order_by(waivers.c.until, waivers.c.id)
    ).all()
    ending = [w.id for w in (in_force[1:] if status == "waived" else in_force)]
    if ending:
        connection.execute(
            waivers.update()
            .where(waivers.c.id.in_(ending))
            .values(ended_at=now, end_reason="merged")
        )
    connection.execute(
        events.insert().values(
            defect_id=keep["id"],
            snapshot_id=None,
            at=now,
            event="merged",
            detail_json=_json({"merged": other_ids, "by": "migration 0010"}),
        )
    )
    connection.execute(defects.delete().where(defects.c.id.in_(other_ids)))


def downgrade() -> None:
    connection = op.get_bind()
    names = dict(connection.execute(sa.select(portals.c.id, portals.c.name)).all())
    rows = [dict(r._mapping) for r in connection.execute(sa.select(defects).order_by(defects.c.id))]
    used: dict[int, set[str]] = defaultdict(set)
    # the defects in play claim their old fingerprints first
    rows.sort(key=lambda r: (r["status"] not in _IN_PLAY, r["id"]))
    for row in rows:
        changes = json.loads(row["changes_json"] or "[]") or [
            {
                "field": row["field"],
                "path": json.loads(row["path_json"] or "[]"),
                "before": json.loads(row["before_json"]),
                "after": json.loads(row["after_json"]),
                "severity": row["severity"],
            }
        ]
        name = names[row["portal_id"]]
        for index, change in enumerate(changes):
            values = {
                "fingerprint": _unique(
                    _old_fingerprint(name, row["key"], change["field"]),
                    row["id"] * 1000 + index,
                    used[row["portal_id"]],
                ),
                "field": change["field"],
                "path_json": json.dumps(change["path"]),
                "before_json": _json(change["before"]),
                "after_json": _json(change["after"]),
                "severity": change["severity"],
            }
            if index == 0:
                connection.execute(defects.update().where(defects.c.id == row["id"]).values(values))
            else:
                copied = {k: v for k, v in row.items() if k not in ("id", "changes_json")}
                connection.execute(defects.insert().values({**copied, **values}))
    op.drop_index(op.f("ix_defects_owner"), table_name="defects")
    op.drop_column("defects", "due")
    op.drop_column("defects", "owner")
    op.drop_column("defects", "name")
    op.drop_column("defects", "changes_json")
