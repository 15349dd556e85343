"""Findings in the database: policy breaches tracked by fingerprint, and their waivers."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from hubaudit.analysis.canonical import canonical_json, storable
from hubaudit.errors import UsageError
from hubaudit.governance.findings import (
    FindingPlan,
    expired_finding_waivers,
    finding_fingerprint,
    finding_writes,
    require_waivable,
    waive_findings,
)
from hubaudit.model.changes import Severity
from hubaudit.model.findings import Breach, Finding, FindingStatus, FindingUpdate, FindingWaiver
from hubaudit.store import schema
from hubaudit.store.outcomes import record_outcome
from hubaudit.store.repository import Store, write_log
from hubaudit.store.tables import FindingRow, PortalRow


class FindingStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def findings(
        self,
        portal: str,
        statuses: Iterable[FindingStatus] | None = None,
        *,
        policies: Iterable[str] | None = None,
        severities: Iterable[Severity] | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[Finding]:
        """The portal's findings, oldest first, filtered by any of the given criteria."""
        with self.store.session() as session:
            query = (
                select(FindingRow)
                .join(PortalRow, FindingRow.portal_id == PortalRow.id)
                .where(PortalRow.name == portal)
                .order_by(FindingRow.id)
            )
            if statuses is not None:
                query = query.where(FindingRow.status.in_([s.value for s in statuses]))
            if policies is not None:
                query = query.where(FindingRow.policy.in_(list(policies)))
            if severities is not None:
                query = query.where(FindingRow.severity.in_([s.value for s in severities]))
            if ids is not None:
                query = query.where(FindingRow.id.in_(list(ids)))
            return [finding_of(row, portal) for row in session.scalars(query)]

    def finding(self, portal: str, finding_id: int) -> Finding:
        found = self.findings(portal, ids=[finding_id])
        if not found:
            raise UsageError(f"portal {portal!r} has no finding {finding_id}")
        return found[0]

    def update(
        self,
        portal: str,
        decide: Callable[[dict[str, Finding], dict[int, Any]], FindingPlan],
        snapshot_id: int,
        at: datetime,
        run_id: int | None = None,
    ) -> tuple[FindingUpdate, list[Finding], list[Finding]]:
        """Expire waivers, read the portal's findings, ``decide`` the plan and write it, in one
        transaction holding the portal's row. Returns what changed, the findings present in the
        snapshot (open or waived), and those resolved now. Given the ``run_id``, what changed
        is recorded as the run's outcome in the same transaction, with the unpublished outcomes
        of earlier runs included (:mod:`hubaudit.store.outcomes`)."""
        opened: list[int] = []
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal, create=True)
            self.store.lock_portal(session, portal_id)
            expired = _expire_waivers(session, portal_id, at)
            rows = list(
                session.scalars(select(FindingRow).where(FindingRow.portal_id == portal_id))
            )
            existing = {row.fingerprint: finding_of(row, portal) for row in rows}
            waived_detail = {
                row.id: json.loads(row.waived_detail_json)
                for row in rows
                if row.waived_detail_json is not None and row.status == FindingStatus.WAIVED.value
            }
            plan = decide(existing, waived_detail)
            writes = finding_writes(plan)
            if writes.opened:  # in one statement (ids in the breaches' order), not one a row
                opened = _insert_with_ids(
                    session,
                    [
                        _new_finding_values(portal, portal_id, breach, snapshot_id, at)
                        for breach in writes.opened
                    ],
                )
            if writes.sightings:  # one statement run for every row (executemany)
                finding_table = schema.findings
                table = finding_table.c
                session.execute(
                    update(finding_table)
                    .where(table.id == bindparam("finding_id"))
                    .values(
                        {
                            **{
                                name: bindparam(f"new_{name}", type_=table[name].type)
                                for name in _BREACH_COLUMNS
                            },
                            "last_seen_at": at,
                            "last_snapshot_id": snapshot_id,
                            "occurrences": table.occurrences + 1,
                        }
                    ),
                    [
                        {
                            "finding_id": sighting.finding.id,
                            **{
                                f"new_{name}": value
                                for name, value in _breach_values(sighting.breach).items()
                            },
                        }
                        for sighting in writes.sightings
                    ],
                )
            reopened = [sighting for sighting in writes.sightings if sighting.reopen]
            for sighting in reopened:
                if sighting.log is not None:
                    write_log(session, portal_id, at, sighting.log)
            if reopened:  # one statement run for every row, as the sightings
                finding_table = schema.findings
                session.execute(
                    update(finding_table)
                    .where(finding_table.c.id == bindparam("finding_id"))
                    .values(status=FindingStatus.OPEN.value, resolution=None, resolved_at=None)
                    .values(_no_waiver()),
                    [{"finding_id": sighting.finding.id} for sighting in reopened],
                )
            if writes.resolved:  # one statement run for every row, as the sightings
                finding_table = schema.findings
                session.execute(
                    update(finding_table)
                    .where(finding_table.c.id == bindparam("finding_id"))
                    .values(
                        {
                            "status": FindingStatus.RESOLVED.value,
                            "resolution": bindparam("why", type_=finding_table.c.resolution.type),
                            "resolved_at": at,
                            "last_snapshot_id": snapshot_id,
                            **_no_waiver(),
                        }
                    ),
                    [{"finding_id": finding.id, "why": why} for finding, why in writes.resolved],
                )
            update_ = FindingUpdate(
                opened=tuple(opened),
                seen_again=tuple(f.id for f, _b in [*plan.seen_again, *plan.waived]),
                reopened=tuple(f.id for f, _b in plan.reopened),
                resolved=tuple(f.id for f, _w in plan.resolved),
                expired_waivers=tuple(expired),
            )
            if run_id is not None:
                outcome = record_outcome(
                    session, portal_id, run_id, "findings", asdict(update_), at
                )
                update_ = FindingUpdate(**outcome)
        touched = (
            opened
            + [f.id for f, _b in [*plan.seen_again, *plan.waived, *plan.reopened]]
            + list(update_.resolved)
            + list(update_.expired_waivers)
        )
        known = {f.id: f for f in self.findings(portal, ids=touched)} if touched else {}
        present = sorted(
            (
                known[i]
                for i in opened
                + [f.id for f, _b in [*plan.seen_again, *plan.waived, *plan.reopened]]
            ),
            key=_order,
        )
        resolved = [known[i] for i in update_.resolved if i in known]
        return update_, present, resolved

    def waive(
        self,
        portal: str,
        finding_ids: Sequence[int],
        *,
        by: str,
        reason: str,
        until: datetime,
        at: datetime,
    ) -> list[Finding]:
        """Tolerate open findings through ``until``, as they are now; all or none."""
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal)
            self.store.lock_portal(session, portal_id)
            _expire_waivers(session, portal_id, at)  # a waiver that ran out can be renewed
            session.flush()
            rows = _locked(session, portal, portal_id, finding_ids)
            for row in rows.values():
                row.status = FindingStatus.WAIVED.value
                row.waived_by, row.waived_at, row.waiver_reason = by, at, reason
                row.waived_until = until
                row.waived_detail_json = row.detail_json
            log = waive_findings(finding_ids, by=by, reason=reason, until=until)
            write_log(session, portal_id, at, log)
        return self.findings(portal, ids=finding_ids)


def _insert_with_ids(session: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert findings of one portal, each with its own ``fingerprint``, and return their ids in
    the rows' order, in as few statements as the driver allows: ids returned in the parameters'
    order cost SQLite one statement a row; unordered they come in batches, and each row's
    fingerprint puts its id back in place."""
    table = schema.findings
    inserted = session.execute(insert(table).returning(table.c.fingerprint, table.c.id), list(rows))
    found = {fingerprint: row_id for fingerprint, row_id in inserted}
    return [found[row["fingerprint"]] for row in rows]


def _order(finding: Finding) -> tuple[int, str, str]:
    return (-finding.severity.rank, finding.policy, finding.subject)


def _no_waiver() -> dict[str, Any]:
    return {
        "waived_by": None,
        "waived_at": None,
        "waiver_reason": None,
        "waived_until": None,
        "waived_detail_json": None,
    }


def _breach_values(breach: Breach) -> dict[str, Any]:
    """The columns a finding takes from what was found in the latest evaluation."""
    return {
        "key": breach.key,
        "label": storable(breach.label),
        "severity": breach.severity.value,
        "message": storable(breach.message),
        "reason": storable(breach.reason),
        "detail_json": canonical_json(dict(breach.detail)),
        "scopes_json": json.dumps(list(breach.scopes)),
    }


_BREACH_COLUMNS = ("key", "label", "severity", "message", "reason", "detail_json", "scopes_json")
"""The columns :func:`_breach_values` fills."""


def _new_finding_values(
    portal: str, portal_id: int, breach: Breach, snapshot_id: int, at: datetime
) -> dict[str, Any]:
    return dict(
        portal_id=portal_id,
        fingerprint=finding_fingerprint(portal, breach.policy, breach.subject),
        policy=breach.policy,
        subject=storable(breach.subject),
        status=FindingStatus.OPEN.value,
        **_breach_values(breach),
        first_seen_at=at,
        last_seen_at=at,
        occurrences=1,
        first_snapshot_id=snapshot_id,
        last_snapshot_id=snapshot_id,
    )


def _locked(
    session: Session,
    portal: str,
    portal_id: int,
    finding_ids: Collection[int],
) -> dict[int, FindingRow]:
    rows = {
        row.id: row
        for row in session.scalars(
            select(FindingRow)
            .where(FindingRow.portal_id == portal_id, FindingRow.id.in_(list(finding_ids)))
            .with_for_update()
        )
    }
    require_waivable({i: FindingStatus(row.status) for i, row in rows.items()}, portal, finding_ids)
    return rows


def _expire_waivers(session: Session, portal_id: int, at: datetime) -> list[int]:
    """Reopen the portal's waived findings whose waiver ran out by ``at``; their ids."""
    rows = {
        row.id: row
        for row in session.scalars(
            select(FindingRow).where(
                FindingRow.portal_id == portal_id,
                FindingRow.status == FindingStatus.WAIVED.value,
                FindingRow.waived_until <= at,  # the rule decides; this only reads less
            )
        )
    }
    expired = expired_finding_waivers([finding_of(row, "") for row in rows.values()], at)
    for finding, log in expired:
        write_log(session, portal_id, at, log)
        row = rows[finding.id]
        row.status = FindingStatus.OPEN.value
        for name, value in _no_waiver().items():
            setattr(row, name, value)
    return [finding.id for finding, _log in expired]


def finding_of(row: FindingRow, portal: str) -> Finding:
    waiver = None
    if row.waived_by is not None and row.waived_at is not None and row.waived_until is not None:
        waiver = FindingWaiver(
            row.waived_by, row.waived_at, row.waiver_reason or "", row.waived_until
        )
    return Finding(
        id=row.id,
        portal=portal,
        fingerprint=row.fingerprint,
        policy=row.policy,
        subject=row.subject,
        key=row.key,
        status=FindingStatus(row.status),
        severity=Severity(row.severity),
        message=row.message,
        detail=json.loads(row.detail_json),
        scopes=tuple(json.loads(row.scopes_json)),
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        occurrences=row.occurrences,
        label=row.label,
        reason=row.reason,
        resolution=row.resolution,
        resolved_at=row.resolved_at,
        waiver=waiver,
    )
