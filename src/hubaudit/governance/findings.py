"""The finding lifecycle as a pure plan: what one evaluation's breaches do to known findings.

One finding per breach of a policy: its fingerprint is (portal, policy, subject). Seen again, it
is the same finding (``last_seen``, ``occurrences``); gone while the parts it was judged from
were read completely, it resolves itself; back again, it reopens. A waiver tolerates a finding
as it was when waived: if what it says changes (a fourth super admin where three were waived),
it reopens. A finding whose policy is no longer enabled resolves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from hubaudit.errors import UsageError
from hubaudit.governance.defects import expiry_record
from hubaudit.model.findings import Breach, Finding, FindingStatus
from hubaudit.model.governance_log import LogRecord

ACTIVE = frozenset({FindingStatus.OPEN, FindingStatus.WAIVED})


def finding_fingerprint(portal: str, policy: str, subject: str) -> str:
    return hashlib.sha256("\x1f".join((portal, policy, subject)).encode("utf-8")).hexdigest()


def same_detail(a: object, b: object) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@dataclass(frozen=True)
class FindingPlan:
    new: list[Breach] = field(default_factory=list)
    seen_again: list[tuple[Finding, Breach]] = field(default_factory=list)
    reopened: list[tuple[Finding, Breach]] = field(default_factory=list)
    waived: list[tuple[Finding, Breach]] = field(default_factory=list)
    resolved: list[tuple[Finding, str]] = field(default_factory=list)


def plan_findings(
    portal: str,
    existing: Mapping[str, Finding],
    breaches: Sequence[Breach],
    ran: frozenset[str],
    judged: Callable[[Finding], bool],
    waived_detail: Mapping[int, object] | None = None,
    whole: Callable[[Breach], bool] = lambda _breach: True,
) -> FindingPlan:
    """Decide, for every breach and every known finding, what happens to it.

    ``ran`` are the policies evaluated; ``judged(finding)`` says whether the parts the finding
    was judged from were read well enough now to say it is gone; ``waived_detail`` maps a
    waived finding's id to what it said when it was waived; ``whole(breach)`` says whether the
    breach was judged from every item it is about: only then can it differ from its waiver
    (a set of duplicates read without a sensitive member is the waived set, not a new one)."""
    waived_detail = waived_detail or {}
    plan = FindingPlan()
    seen: set[str] = set()
    for breach in breaches:
        print_ = finding_fingerprint(portal, breach.policy, breach.subject)
        if print_ in seen:
            continue  # one policy naming one subject twice is one finding
        seen.add(print_)
        finding = existing.get(print_)
        if finding is None:
            plan.new.append(breach)
        elif finding.status is FindingStatus.OPEN:
            plan.seen_again.append((finding, breach))
        elif finding.status is FindingStatus.WAIVED and (
            not whole(breach)
            or same_detail(waived_detail.get(finding.id, finding.detail), breach.detail)
        ):
            plan.waived.append((finding, breach))
        else:
            plan.reopened.append((finding, breach))
    for print_, finding in existing.items():
        if print_ in seen or finding.status not in ACTIVE:
            continue
        if finding.policy not in ran:
            plan.resolved.append((finding, "its policy is no longer enabled"))
        elif judged(finding):
            plan.resolved.append((finding, "fixed: no longer breached"))
    return plan


# What to write -----------------------------------------------------------------------------

HUBAUDIT = "hubaudit"


@dataclass(frozen=True)
class FindingSighting:
    """A known finding seen again: its row takes the breach's values; ``reopen`` makes it open
    again without a waiver (``log`` says so when it was waived)."""

    finding: Finding
    breach: Breach
    reopen: bool
    log: LogRecord | None = None


@dataclass(frozen=True)
class FindingWrites:
    """Everything one evaluation writes to the findings, in order: new ones, sightings (seen
    again, still waived, reopened), then resolutions (finding, why)."""

    opened: tuple[Breach, ...] = ()
    sightings: tuple[FindingSighting, ...] = ()
    resolved: tuple[tuple[Finding, str], ...] = ()


def finding_writes(plan: FindingPlan) -> FindingWrites:
    """What the database must hold after ``plan``: a reopened finding that was waived loses its
    waiver, and the log says that what it says changed since it was waived."""
    reopened = {finding.id for finding, _breach in plan.reopened}
    sightings = []
    for finding, breach in [*plan.seen_again, *plan.waived, *plan.reopened]:
        log = None
        if finding.id in reopened and finding.status is FindingStatus.WAIVED:
            log = LogRecord(
                HUBAUDIT,
                "finding-waiver.ended",
                f"finding #{finding.id}",
                "what the finding says changed since it was waived; it is open again",
                {"finding": finding.id},
            )
        sightings.append(FindingSighting(finding, breach, finding.id in reopened, log))
    return FindingWrites(tuple(plan.new), tuple(sightings), tuple(plan.resolved))


def expired_finding_waivers(
    waived: Sequence[Finding], at: datetime
) -> list[tuple[Finding, LogRecord]]:
    """Of the waived findings, those whose waiver ran out by ``at`` (by id), each with the log
    entry that says it is open again."""
    found = []
    for finding in sorted(waived, key=lambda f: f.id):
        waiver = finding.waiver
        if finding.status is not FindingStatus.WAIVED or waiver is None or waiver.until > at:
            continue
        until = waiver.until.isoformat()
        log = expiry_record("finding-waiver.expired", "finding", finding.id, waiver.reason, until)
        found.append((finding, log))
    return found


def require_waivable(
    statuses: Mapping[int, FindingStatus], portal: str, finding_ids: Collection[int]
) -> None:
    """Every finding named exists (``statuses`` by id) and is open, or none is waived."""
    for finding_id in sorted(finding_ids):
        status = statuses.get(finding_id)
        if status is None:
            raise UsageError(f"portal {portal!r} has no finding {finding_id}")
        if status is not FindingStatus.OPEN:
            raise UsageError(
                f"finding {finding_id} is {status.value}; only open ones can be waived"
            )


def waive_findings(
    finding_ids: Collection[int], *, by: str, reason: str, until: datetime
) -> LogRecord:
    """The log entry of waiving open findings through ``until``, as they are now."""
    ids = sorted(finding_ids)
    text = ("finding " if len(ids) == 1 else "findings ") + ", ".join(f"#{i}" for i in ids)
    return LogRecord(
        by,
        "findings.waived",
        text if len(text) <= 64 else f"{len(ids)} findings",
        reason,
        {"findings": ids, "until": until.isoformat()},
    )
