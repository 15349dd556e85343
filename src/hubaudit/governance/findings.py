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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hubaudit.model import Breach, Finding, FindingStatus

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
