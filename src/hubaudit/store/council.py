"""The council's records: baseline versions from proposal to decision, change requests,
waivers and the append-only governance log. Every decision is one transaction that also appends
its log entry, so the log never misses or invents a decision."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hubaudit.analysis.canonical import content_hash
from hubaudit.errors import ProposalPending, UsageError
from hubaudit.governance.proposals import (
    ACCEPTABLE,
    AMENDMENTS,
    WAIVABLE,
    amend_proposal,
    decide_proposal,
    decide_request,
    draft_started,
    require_acceptable,
    require_releasable,
    waive_defects,
)
from hubaudit.model.baselines import BaselineInfo, BaselineStatus
from hubaudit.model.change_requests import ChangeRequest, CRStatus, PlannedChange
from hubaudit.model.changes import ChangeOp
from hubaudit.model.defects import Defect, DefectStatus
from hubaudit.model.governance_log import LogEntry
from hubaudit.model.items import JSONValue, Kind, StoredItem
from hubaudit.store.payloads import read_payloads
from hubaudit.store.reads import baseline_info, in_batches
from hubaudit.store.repository import (
    Store,
    _end_waivers,
    locked_defects,
    proposed_version,
    record,
    write_event,
    write_log,
)
from hubaudit.store.tables import (
    BaselineItemRow,
    BaselineRow,
    ChangeRequestRow,
    DefectRow,
    GovernanceLogRow,
    PortalRow,
    WaiverRow,
)


@dataclass(frozen=True)
class DraftItem:
    """An item a proposed version will hold: its canonical payload and, when a HubSpot response
    holds exactly it, that response's hash (else the canonical payload stands for itself)."""

    kind: Kind
    canonical: Mapping[str, JSONValue]
    raw_hash: str | None = None


Compose = Callable[
    [BaselineInfo, Mapping[str, StoredItem], "PayloadsIn"], Mapping[str, DraftItem | None]
]
"""Given the version amended and its items, the items to put (``None``: to drop)."""


class PayloadsIn:
    """Payload reads inside the transaction that amends a draft."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def __call__(self, hashes: Iterable[str]) -> dict[str, dict[str, JSONValue]]:
        return read_payloads(self._session, hashes, require_all=False)


class CouncilStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    # baseline versions ----------------------------------------------------------------------

    def versions(self, portal: str) -> list[BaselineInfo]:
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal)
            return [
                baseline_info(row, portal)
                for row in session.scalars(
                    select(BaselineRow)
                    .where(BaselineRow.portal_id == portal_id)
                    .order_by(BaselineRow.version)
                )
            ]

    def linked(self, baseline_id: int) -> tuple[list[int], list[int]]:
        """The defects a version accepts and the CRs it releases."""
        with self.store.session() as session:
            defects = session.scalars(
                select(DefectRow.id)
                .where(DefectRow.accepted_baseline_id == baseline_id)
                .order_by(DefectRow.id)
            )
            requests = session.scalars(
                select(ChangeRequestRow.id)
                .where(ChangeRequestRow.released_baseline_id == baseline_id)
                .order_by(ChangeRequestRow.id)
            )
            return list(defects), list(requests)

    def propose(
        self,
        portal: str,
        *,
        by: str,
        note: str,
        at: datetime,
        source: str,
        scopes: Sequence[str],
        items: Mapping[str, DraftItem],
        source_snapshot_id: int | None = None,
        action: str = "baseline.proposed",
        detail: Mapping[str, JSONValue] | None = None,
    ) -> BaselineInfo:
        """A new proposed version holding exactly ``items``; refused while another awaits."""
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal, create=True)
            self.store.lock_portal(session, portal_id)
            draft = proposed_version(session, portal_id)
            if draft is not None:
                raise ProposalPending(
                    portal,
                    draft,
                    f"baseline v{draft} of {portal!r} is already proposed: approve or reject it "
                    "first",
                )
            row = self._new_version(
                session, portal_id, by, note, at, source, scopes, source_snapshot_id
            )
            self._put_items(session, row, items)
            record(
                session,
                portal_id,
                at,
                by,
                action,
                f"baseline v{row.version}",
                note,
                {"source": source, "items": row.item_count, **(detail or {})},
            )
            return baseline_info(row, portal)

    def amend(
        self,
        portal: str,
        compose: Compose,
        *,
        by: str,
        note: str,
        at: datetime,
        source: str,
        action: str,
        subject: str,
        defects: Sequence[int] = (),
        requests: Sequence[int] = (),
        check: Callable[[Session, int], None] | None = None,
    ) -> BaselineInfo:
        """Amend the proposed version (or propose the next one from the latest approved) with
        what ``compose`` returns, link the defects it accepts and the CRs it releases, and log
        it, all in one transaction under the portal's lock."""
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal)
            self.store.lock_portal(session, portal_id)
            if check is not None:
                check(session, portal_id)
            row = self._draft(session, portal_id)
            if row is None:
                base = session.scalars(
                    select(BaselineRow)
                    .where(
                        BaselineRow.portal_id == portal_id,
                        BaselineRow.status == BaselineStatus.APPROVED.value,
                    )
                    .order_by(BaselineRow.version.desc())
                    .limit(1)
                ).first()
                if base is None:
                    raise UsageError(f"portal {portal!r} has no approved baseline to start from")
                row = self._new_version(
                    session,
                    portal_id,
                    by,
                    note,
                    at,
                    source,
                    json.loads(base.scopes),
                    base.source_snapshot_id,
                )
                session.execute(
                    insert(BaselineItemRow).from_select(
                        ["baseline_id", "key", "kind", "canonical_hash", "raw_hash"],
                        select(
                            literal(row.id, Integer),
                            BaselineItemRow.key,
                            BaselineItemRow.kind,
                            BaselineItemRow.canonical_hash,
                            BaselineItemRow.raw_hash,
                        ).where(BaselineItemRow.baseline_id == base.id),
                    )
                )
                started = draft_started(row.version, base.version, by=by, note=note, source=source)
                write_log(session, portal_id, at, started)
            current = {
                r.key: StoredItem(Kind(r.kind), r.key, r.canonical_hash, r.raw_hash)
                for r in session.execute(
                    select(
                        BaselineItemRow.key,
                        BaselineItemRow.kind,
                        BaselineItemRow.canonical_hash,
                        BaselineItemRow.raw_hash,
                    ).where(BaselineItemRow.baseline_id == row.id)
                )
            }
            changed = compose(baseline_info(row, portal), current, PayloadsIn(session))
            for batch in in_batches(sorted(changed)):
                session.execute(
                    delete(BaselineItemRow).where(
                        BaselineItemRow.baseline_id == row.id, BaselineItemRow.key.in_(batch)
                    )
                )
            self._put_items(
                session, row, {k: v for k, v in changed.items() if v is not None}, replace=False
            )
            row.item_count = (
                session.scalar(select(func.count()).where(BaselineItemRow.baseline_id == row.id))
                or 0
            )
            amendment = amend_proposal(
                row.version,
                by=by,
                note=note,
                action=action,
                subject=subject,
                defects=defects,
                requests=requests,
                items=changed,
            )
            if defects:
                session.execute(
                    update(DefectRow)
                    .where(DefectRow.id.in_(list(defects)))
                    .values(accepted_baseline_id=row.id)
                )
                for defect_id in defects:
                    write_event(session, defect_id, None, at, amendment.entry)
            if requests:
                session.execute(
                    update(ChangeRequestRow)
                    .where(ChangeRequestRow.id.in_(list(requests)))
                    .values(released_baseline_id=row.id)
                )
            write_log(session, portal_id, at, amendment.log)
            session.flush()
            return baseline_info(row, portal)

    def decide(
        self,
        portal: str,
        version: int | None,
        approve: bool,
        by: str,
        note: str,
        at: datetime,
        single_approver: bool = False,
    ) -> tuple[BaselineInfo, list[int], list[int]]:
        """Approve or reject the proposed version. Approving closes the defects it accepts as
        ``accepted`` and marks the CRs it releases ``released``; rejecting unlinks both.
        Returns the version, the defects closed (or unlinked) and the CRs. Who proposed or
        amended the version is read here for the four-eyes rule, which the rules apply."""
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal)
            self.store.lock_portal(session, portal_id)
            row = self._draft(session, portal_id)
            defect_rows: list[DefectRow] = []
            request_rows: list[ChangeRequestRow] = []
            if row is not None:
                defect_rows = list(
                    session.scalars(
                        select(DefectRow)
                        .where(DefectRow.accepted_baseline_id == row.id)
                        .order_by(DefectRow.id)
                        .with_for_update()
                    )
                )
                request_rows = list(
                    session.scalars(
                        select(ChangeRequestRow)
                        .where(ChangeRequestRow.released_baseline_id == row.id)
                        .order_by(ChangeRequestRow.id)
                        .with_for_update()
                    )
                )
            decision = decide_proposal(
                portal,
                None if row is None else row.version,
                version,
                {d.id: DefectStatus(d.status) for d in defect_rows},
                [r.id for r in request_rows],
                0 if row is None else row.item_count,
                approve=approve,
                by=by,
                note=note,
                proposers=() if row is None else self._proposers(session, portal_id, row),
                single_approver=single_approver,
            )
            assert row is not None  # decide_proposal refuses when nothing is proposed
            row.status = decision.status.value
            if approve:
                row.approved_by, row.approved_at, row.note = by, at, note
            else:
                row.rejected_by, row.rejected_at, row.rejection_note = by, at, note
            closed = set(decision.closed)
            for defect in defect_rows:
                if defect.id not in closed:
                    continue
                if decision.resolution is not None:
                    defect.status = DefectStatus.ACCEPTED.value
                    defect.resolution = decision.resolution
                    defect.resolved_at = at
                else:
                    defect.accepted_baseline_id = None
                write_event(session, defect.id, None, at, decision.entry)
            if approve:
                _end_waivers(session, list(decision.closed), at, "accepted")
            for request in request_rows:
                if decision.request_status is not None:
                    request.status = decision.request_status.value
                else:
                    request.released_baseline_id = None
            write_log(session, portal_id, at, decision.log)
            session.flush()
            return baseline_info(row, portal), list(decision.closed), [r.id for r in request_rows]

    def proposers(self, portal: str, version: int) -> set[str]:
        """Who proposed version ``version`` or amended it while it was proposed."""
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal)
            row = session.scalars(
                select(BaselineRow).where(
                    BaselineRow.portal_id == portal_id, BaselineRow.version == version
                )
            ).first()
            return set() if row is None else self._proposers(session, portal_id, row)

    def _proposers(self, session: Session, portal_id: int, row: BaselineRow) -> set[str]:
        """Who proposed the version, and who amended it (accepted defects into it, released
        change requests into it), from the governance log."""
        found = {row.proposed_by}
        for actor, detail in session.execute(
            select(GovernanceLogRow.actor, GovernanceLogRow.detail_json).where(
                GovernanceLogRow.portal_id == portal_id,
                GovernanceLogRow.at >= row.proposed_at,
                GovernanceLogRow.action.in_(AMENDMENTS),
            )
        ):
            if json.loads(detail).get("version") == row.version:
                found.add(actor)
        return found

    def _draft(self, session: Session, portal_id: int) -> BaselineRow | None:
        return session.scalars(
            select(BaselineRow).where(
                BaselineRow.portal_id == portal_id,
                BaselineRow.status == BaselineStatus.PROPOSED.value,
            )
        ).first()

    def _new_version(
        self,
        session: Session,
        portal_id: int,
        by: str,
        note: str,
        at: datetime,
        source: str,
        scopes: Sequence[str],
        source_snapshot_id: int | None,
    ) -> BaselineRow:
        latest = session.scalar(
            select(func.max(BaselineRow.version)).where(BaselineRow.portal_id == portal_id)
        )
        row = BaselineRow(
            portal_id=portal_id,
            version=(latest or 0) + 1,
            status=BaselineStatus.PROPOSED.value,
            source=source,
            proposed_by=by,
            proposed_at=at,
            proposal_note=note,
            source_snapshot_id=source_snapshot_id,
            scopes=json.dumps(sorted(scopes)),
            item_count=0,
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError as exc:
            raise UsageError("another baseline version was proposed just now; try again") from exc
        return row

    def _put_items(
        self,
        session: Session,
        row: BaselineRow,
        items: Mapping[str, DraftItem],
        *,
        replace: bool = True,
    ) -> None:
        payloads: dict[str, JSONValue] = {}
        rows = []
        for key in sorted(items):
            item = items[key]
            canonical_hash = content_hash(item.canonical)
            payloads[canonical_hash] = item.canonical
            rows.append(
                {
                    "baseline_id": row.id,
                    "key": key,
                    "kind": item.kind.value,
                    "canonical_hash": canonical_hash,
                    "raw_hash": item.raw_hash or canonical_hash,
                }
            )
        self.store.put_payloads(session, payloads)
        for batch in in_batches(rows):
            session.execute(insert(BaselineItemRow), batch)
        if replace:
            row.item_count = len(rows)

    # change requests --------------------------------------------------------------------------

    def create_request(
        self,
        portal: str,
        *,
        title: str,
        by: str,
        at: datetime,
        valid_from: datetime,
        valid_until: datetime,
        changes: Sequence[PlannedChange],
        note: str,
    ) -> ChangeRequest:
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal, create=True)
            row = ChangeRequestRow(
                portal_id=portal_id,
                title=title,
                status=CRStatus.PROPOSED.value,
                requested_by=by,
                requested_at=at,
                valid_from=valid_from,
                valid_until=valid_until,
                changes_json=json.dumps(
                    [{"op": c.op.value, "key": c.key, "expect": dict(c.expect)} for c in changes]
                ),
            )
            session.add(row)
            session.flush()
            record(
                session,
                portal_id,
                at,
                by,
                "cr.created",
                f"CR-{row.id}",
                note or title,
                {"title": title, "changes": json.loads(row.changes_json)},
            )
            return _request(row, portal, None)

    def decide_request(
        self,
        portal: str,
        request_id: int,
        approve: bool,
        by: str,
        note: str,
        at: datetime,
        single_approver: bool = False,
    ) -> ChangeRequest:
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal)
            row = session.scalars(
                select(ChangeRequestRow)
                .where(ChangeRequestRow.id == request_id, ChangeRequestRow.portal_id == portal_id)
                .with_for_update()
            ).first()
            if row is None:
                raise UsageError(f"portal {portal!r} has no change request CR-{request_id}")
            status, log = decide_request(
                row.id,
                CRStatus(row.status),
                row.title,
                approve=approve,
                by=by,
                note=note,
                requested_by=row.requested_by,
                single_approver=single_approver,
            )
            row.status = status.value
            row.decided_by, row.decided_at, row.decision_note = by, at, note
            write_log(session, portal_id, at, log)
            return _request(row, portal, None)

    def requests(self, portal: str, ids: Collection[int] | None = None) -> list[ChangeRequest]:
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal)
            query = (
                select(ChangeRequestRow, BaselineRow.version)
                .outerjoin(BaselineRow, ChangeRequestRow.released_baseline_id == BaselineRow.id)
                .where(ChangeRequestRow.portal_id == portal_id)
                .order_by(ChangeRequestRow.id)
            )
            if ids is not None:
                query = query.where(ChangeRequestRow.id.in_(list(ids)))
            found = [_request(row, portal, version) for row, version in session.execute(query)]
        if ids is not None:
            missing = sorted(set(ids) - {r.id for r in found})
            if missing:
                raise UsageError(
                    f"portal {portal!r} has no change request "
                    + ", ".join(f"CR-{i}" for i in missing)
                )
        return found

    # waivers ----------------------------------------------------------------------------------

    def waive(
        self,
        portal: str,
        defect_ids: Sequence[int],
        *,
        by: str,
        reason: str,
        until: datetime,
        at: datetime,
    ) -> list[Defect]:
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal)
            rows = locked_defects(session, portal, portal_id, defect_ids, WAIVABLE, "waived")
            decision = waive_defects(defect_ids, by=by, reason=reason, until=until)
            _end_waivers(session, list(rows), at, "superseded")
            for row in rows.values():
                row.status = DefectStatus.WAIVED.value
                session.add(
                    WaiverRow(
                        defect_id=row.id,
                        waived_by=by,
                        waived_at=at,
                        reason=reason,
                        until=until,
                    )
                )
                write_event(session, row.id, None, at, decision.entry)
            write_log(session, portal_id, at, decision.log)
        return self.store.defects(portal, ids=defect_ids)

    def check_acceptable(
        self, portal: str, defect_ids: Sequence[int]
    ) -> Callable[[Session, int], None]:
        """A check, run under the portal's lock, that the defects can still be accepted."""

        def check(session: Session, portal_id: int) -> None:
            rows = locked_defects(session, portal, portal_id, defect_ids, ACCEPTABLE, "accepted")
            statuses = {i: DefectStatus(row.status) for i, row in rows.items()}
            linked = {i for i, row in rows.items() if row.accepted_baseline_id is not None}
            require_acceptable(statuses, linked)

        return check

    def check_releasable(
        self, portal: str, request_ids: Sequence[int]
    ) -> Callable[[Session, int], None]:
        """A check, run under the portal's lock, that the CRs are still approved and in no
        proposal: two releases of one CR at once cannot both pass it."""

        def check(session: Session, portal_id: int) -> None:
            rows = {
                row.id: row
                for row in session.scalars(
                    select(ChangeRequestRow)
                    .where(
                        ChangeRequestRow.portal_id == portal_id,
                        ChangeRequestRow.id.in_(list(request_ids)),
                    )
                    .with_for_update()
                )
            }
            found = {
                i: (CRStatus(row.status), row.released_baseline_id is not None)
                for i, row in rows.items()
            }
            require_releasable(portal, found, request_ids)

        return check

    # the log ----------------------------------------------------------------------------------

    def log(self, portal: str, since: datetime | None = None) -> list[LogEntry]:
        with self.store.session() as session:
            query = (
                select(GovernanceLogRow)
                .join(PortalRow, GovernanceLogRow.portal_id == PortalRow.id)
                .where(PortalRow.name == portal)
                .order_by(GovernanceLogRow.at, GovernanceLogRow.id)
            )
            if since is not None:
                query = query.where(GovernanceLogRow.at >= since)
            return [log_entry(row, portal) for row in session.scalars(query)]


def _request(row: ChangeRequestRow, portal: str, version: int | None) -> ChangeRequest:
    changes: list[dict[str, Any]] = json.loads(row.changes_json)
    return ChangeRequest(
        id=row.id,
        portal=portal,
        title=row.title,
        status=CRStatus(row.status),
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        changes=tuple(
            PlannedChange(ChangeOp(c["op"]), c["key"], c.get("expect") or {}) for c in changes
        ),
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
        released_version=version,
    )


def log_entry(row: GovernanceLogRow, portal: str) -> LogEntry:
    """A governance log row as the model's entry (every reader of the log builds it here)."""
    return LogEntry(
        id=row.id,
        portal=portal,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        note=row.note,
        detail=json.loads(row.detail_json),
    )
