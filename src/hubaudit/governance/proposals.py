"""The council's decisions as pure rules: a proposed baseline version amended, approved or
rejected; defects waived; change requests decided.

Each function takes what is stored now and the decision, and returns what to write (statuses,
timeline entries, waivers ended, the log entry); :mod:`hubaudit.store.council` writes it in
one transaction under the portal's lock, and checks nothing of its own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from hubaudit.errors import NotAllowed, UsageError
from hubaudit.governance.defects import TimelineEntry, defects_subject
from hubaudit.model.baselines import BaselineStatus
from hubaudit.model.change_requests import CRStatus
from hubaudit.model.defects import DefectEventName, DefectStatus
from hubaudit.model.governance_log import LogRecord
from hubaudit.model.items import JSONValue

WAIVABLE = (DefectStatus.OPEN, DefectStatus.ACKNOWLEDGED, DefectStatus.WAIVED)
ACCEPTABLE = WAIVABLE
AMENDMENTS = ("defects.accepted", "crs.released")
"""The log actions that amend a proposed version: whoever takes one shares in proposing it."""


@dataclass(frozen=True)
class Amendment:
    """What amending the proposed version writes besides its items: each accepted defect's
    timeline entry (the defects are linked to the version) and the log entry."""

    entry: TimelineEntry
    log: LogRecord


def amend_proposal(
    version: int,
    *,
    by: str,
    note: str,
    action: str,
    subject: str,
    defects: Sequence[int],
    requests: Sequence[int],
    items: Collection[str],
) -> Amendment:
    """The council (or RevOps) put ``items`` into proposed version ``version``, accepting
    ``defects`` and releasing the CRs ``requests`` with it."""
    return Amendment(
        TimelineEntry(
            DefectEventName.ACCEPT_PROPOSED, {"by": by, "note": note, "version": version}
        ),
        LogRecord(
            by,
            action,
            subject,
            note,
            {
                "version": version,
                "defects": list(defects),
                "change_requests": list(requests),
                "items": sorted(items),
            },
        ),
    )


def draft_started(version: int, from_version: int, *, by: str, note: str, source: str) -> LogRecord:
    """The log entry of a proposed version started from the latest approved one."""
    return LogRecord(
        by,
        "baseline.proposed",
        f"baseline v{version}",
        note,
        {"source": source, "from_version": from_version},
    )


def require_acceptable(statuses: Mapping[int, DefectStatus], linked: Collection[int]) -> None:
    """Defects already linked to the proposed version cannot be accepted into it again (their
    statuses were checked against :data:`ACCEPTABLE` already)."""
    for defect_id in sorted(statuses):
        if defect_id in linked:
            raise UsageError(f"defect {defect_id} is already accepted into the proposed version")


def require_releasable(
    portal: str,
    requests: Mapping[int, tuple[CRStatus, bool]],
    request_ids: Collection[int],
) -> None:
    """Every CR named exists (``requests``: status and whether a proposal already releases it,
    by id) and is approved and in no proposal: two releases of one CR cannot both pass."""
    for request_id in sorted(request_ids):
        found = requests.get(request_id)
        if found is None:
            raise UsageError(f"portal {portal!r} has no change request CR-{request_id}")
        status, in_proposal = found
        if status is not CRStatus.APPROVED or in_proposal:
            where = " and already in the proposed version" if in_proposal else ""
            raise UsageError(
                f"CR-{request_id} is {status.value}{where}; only an approved CR not yet "
                "released can be released"
            )


def four_eyes(
    subject: str,
    proposers: Collection[str],
    by: str,
    *,
    approve: bool,
    single_approver: bool,
) -> dict[str, JSONValue]:
    """Whoever proposed ``subject`` (or amended the proposal) does not approve it, unless the
    team is one person (``single_approver``): then the approval's log detail says so.
    Returns what the log entry's detail adds. Names compare without regard to case."""
    if not approve:
        return {}
    same = sorted({p for p in proposers if p.casefold() == by.casefold()})
    if not same:
        return {}
    if not single_approver:
        raise NotAllowed(
            f"{by} proposed {subject} and cannot approve it too: another member of the "
            "council must (four eyes)"
        )
    return {"single_approver": True}


@dataclass(frozen=True)
class ProposalDecision:
    """What approving or rejecting a proposed version writes.

    Approved: the version is ``approved``; ``closed`` defects become ``accepted`` with
    ``resolution`` (their waivers end, ``accepted``); the linked CRs become ``released``.
    Rejected: the version is ``rejected``; every linked defect and CR is unlinked (``closed``
    lists the defects unlinked). Each defect in ``closed`` gets ``entry``."""

    status: BaselineStatus
    closed: tuple[int, ...]
    resolution: str | None
    entry: TimelineEntry
    request_status: CRStatus | None
    log: LogRecord


def decide_proposal(
    portal: str,
    proposed: int | None,
    asked: int | None,
    linked_defects: Mapping[int, DefectStatus],
    linked_requests: Sequence[int],
    item_count: int,
    *,
    approve: bool,
    by: str,
    note: str,
    proposers: Collection[str] = (),
    single_approver: bool = False,
) -> ProposalDecision:
    """Approve or reject the proposed version ``proposed`` (``asked``: the version the person
    named, if any). ``linked_defects`` are the defects it accepts, with their statuses now; a
    defect that was resolved or accepted meanwhile is left as it is when approving.
    ``proposers``: who proposed or amended it (see :func:`four_eyes`)."""
    if proposed is None:
        raise UsageError(f"portal {portal!r} has no proposed baseline version")
    if asked is not None and asked != proposed:
        raise UsageError(
            f"baseline v{asked} of {portal!r} is not the proposed version "
            f"(v{proposed} is); an approved or rejected version never changes"
        )
    subject = f"baseline v{proposed}"
    eyes = four_eyes(subject, proposers, by, approve=approve, single_approver=single_approver)
    if approve:
        closed = tuple(i for i, s in sorted(linked_defects.items()) if s in ACCEPTABLE)
    else:
        closed = tuple(sorted(linked_defects))
    detail: dict[str, JSONValue] = {
        "defects": list(closed),
        "change_requests": list(linked_requests),
        "items": item_count,
        **eyes,
    }
    if approve:
        return ProposalDecision(
            BaselineStatus.APPROVED,
            closed,
            f"accepted into baseline v{proposed} by {by}",
            TimelineEntry(DefectEventName.ACCEPTED, {"by": by, "version": proposed}),
            CRStatus.RELEASED,
            LogRecord(by, "baseline.approved", subject, note, detail),
        )
    return ProposalDecision(
        BaselineStatus.REJECTED,
        closed,
        None,
        TimelineEntry(DefectEventName.ACCEPT_REJECTED, {"by": by, "note": note}),
        None,
        LogRecord(by, "baseline.rejected", subject, note, detail),
    )


@dataclass(frozen=True)
class WaiverDecision:
    """What waiving defects writes: each defect's timeline entry, and the log entry (the
    defects become ``waived``; a waiver already in force is ``superseded``)."""

    entry: TimelineEntry
    log: LogRecord


def waive_defects(
    defect_ids: Collection[int], *, by: str, reason: str, until: datetime
) -> WaiverDecision:
    return WaiverDecision(
        TimelineEntry(
            DefectEventName.WAIVED, {"by": by, "reason": reason, "until": until.isoformat()}
        ),
        LogRecord(
            by,
            "defects.waived",
            defects_subject(defect_ids),
            reason,
            {"defects": sorted(defect_ids), "until": until.isoformat()},
        ),
    )


def decide_request(
    request_id: int,
    status: CRStatus,
    title: str,
    *,
    approve: bool,
    by: str,
    note: str,
    requested_by: str | None = None,
    single_approver: bool = False,
) -> tuple[CRStatus, LogRecord]:
    """Approve or reject a proposed change request: its new status and the log entry. Its
    requester does not approve it (:func:`four_eyes`)."""
    if status is not CRStatus.PROPOSED:
        raise UsageError(
            f"CR-{request_id} is {status.value}; only a proposed CR can be approved or rejected"
        )
    eyes = four_eyes(
        f"CR-{request_id}",
        () if requested_by is None else (requested_by,),
        by,
        approve=approve,
        single_approver=single_approver,
    )
    return (
        CRStatus.APPROVED if approve else CRStatus.REJECTED,
        LogRecord(
            by,
            "cr.approved" if approve else "cr.rejected",
            f"CR-{request_id}",
            note,
            {"title": title, **eyes},
        ),
    )
