"""Run reports, change sightings and notifications in the database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from hubaudit.analysis.canonical import storable
from hubaudit.model.changes import Change
from hubaudit.model.defects import DefectStatus
from hubaudit.store.repository import Store, insert_ignoring_conflicts
from hubaudit.store.tables import (
    ChangeSightingRow,
    DefectRow,
    NotificationRow,
    PortalRow,
    RunReportRow,
)


@dataclass(frozen=True)
class Sighting:
    fingerprint: str
    classification: str
    first_seen_at: datetime
    changed_by: str | None


@dataclass(frozen=True)
class DefectTimes:
    """What the KPIs read of a defect: its status and when it was first seen and resolved."""

    status: DefectStatus
    first_seen_at: datetime
    resolved_at: datetime | None


class ReportStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def defect_times(self, portal: str) -> list[DefectTimes]:
        """Every defect of the portal, only its status and times (none for a portal the
        database does not know yet): the KPIs' read, without the payloads a defect carries."""
        with self.store.session() as session:
            return [
                DefectTimes(DefectStatus(row.status), row.first_seen_at, row.resolved_at)
                for row in session.execute(
                    select(DefectRow.status, DefectRow.first_seen_at, DefectRow.resolved_at)
                    .join(PortalRow, DefectRow.portal_id == PortalRow.id)
                    .where(PortalRow.name == portal)
                    .order_by(DefectRow.id)
                )
            ]

    # run reports ------------------------------------------------------------------------------

    def save_report(self, run_id: int, portal: str, document: dict[str, Any], at: datetime) -> None:
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal)
            session.merge(
                RunReportRow(
                    run_id=run_id,
                    portal_id=portal_id,
                    created_at=at,
                    schema_version=str(document.get("schema_version", "")),
                    document=json.dumps(document, ensure_ascii=True, separators=(",", ":")),
                )
            )

    def report_document(self, portal: str, run_id: int | None = None) -> dict[str, Any]:
        """The stored report of a run of the portal (default: its latest one with a report)."""
        return self.store.report_document(portal, run_id)

    # change sightings -------------------------------------------------------------------------

    def record_sightings(
        self, portal: str, changes: Sequence[Change], snapshot_id: int, at: datetime
    ) -> None:
        """Remember the first time each change was seen with its classification."""
        if not changes:
            return
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal)
            dialect = session.get_bind().dialect.name
            builder = insert_ignoring_conflicts(dialect)
            rows = {
                (c.fingerprint, c.classification.value): {
                    "portal_id": portal_id,
                    "fingerprint": c.fingerprint,
                    "classification": c.classification.value,
                    "kind": c.kind.value,
                    "key": c.key,
                    "field": c.field,
                    "severity": c.severity.value,
                    "changed_by": storable(c.attribution.user_email or c.attribution.user_id),
                    "first_seen_at": at,
                    "snapshot_id": snapshot_id,
                }
                for c in changes
                if c.fingerprint
            }
            if rows:
                session.execute(
                    builder(ChangeSightingRow).on_conflict_do_nothing(
                        index_elements=["portal_id", "fingerprint", "classification"]
                    ),
                    list(rows.values()),
                )

    def sightings(self, portal: str, until: datetime) -> list[Sighting]:
        """Every sighting up to ``until``, oldest first (a change first seen before a period is
        not new in it, whatever it was classified later)."""
        with self.store.session() as session:
            return [
                Sighting(row.fingerprint, row.classification, row.first_seen_at, row.changed_by)
                for row in session.execute(
                    select(
                        ChangeSightingRow.fingerprint,
                        ChangeSightingRow.classification,
                        ChangeSightingRow.first_seen_at,
                        ChangeSightingRow.changed_by,
                    )
                    .join(PortalRow, ChangeSightingRow.portal_id == PortalRow.id)
                    .where(PortalRow.name == portal, ChangeSightingRow.first_seen_at <= until)
                    .order_by(ChangeSightingRow.first_seen_at, ChangeSightingRow.id)
                )
            ]

    # notifications ----------------------------------------------------------------------------

    def notified(self, run_id: int, target: str) -> bool:
        with self.store.session() as session:
            return (
                session.scalar(
                    select(NotificationRow.id).where(
                        NotificationRow.run_id == run_id, NotificationRow.target == target
                    )
                )
                is not None
            )

    def record_notification(
        self,
        run_id: int,
        target: str,
        channel: str,
        status: str,
        attempts: int,
        error: str | None,
        at: datetime,
    ) -> None:
        with self.store.session() as session:
            session.add(
                NotificationRow(
                    run_id=run_id,
                    target=target,
                    channel=channel,
                    status=status,
                    attempts=attempts,
                    error=error,
                    at=at,
                )
            )

    def notifications(self, run_id: int) -> list[tuple[str, str, int, str | None]]:
        """(target, status, attempts, error) of every notification of the run."""
        with self.store.session() as session:
            return [
                (row.target, row.status, row.attempts, row.error)
                for row in session.scalars(
                    select(NotificationRow)
                    .where(NotificationRow.run_id == run_id)
                    .order_by(NotificationRow.id)
                )
            ]
