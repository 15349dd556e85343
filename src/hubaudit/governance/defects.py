"""The defect lifecycle as a pure plan: what one audit's changes do to the defects already known.

One defect per real problem: its fingerprint is (portal, key, field path). Seen again, it is the
same defect (``last_seen``, ``occurrences``); gone while its part was read completely, it resolves
itself: ``reverted`` when the portal went back to the same baseline, ``accepted`` when the council
approved a newer baseline that took the change in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hubaudit.model import BaselineInfo, Change, ChangeOp, Defect, DefectStatus

ACTIVE = frozenset({DefectStatus.OPEN, DefectStatus.ACKNOWLEDGED})
# a waived defect's drift can go away too; then it is resolved like any other
RESOLVABLE = ACTIVE | {DefectStatus.WAIVED}


def _same(a: object, b: object) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def fingerprint(portal: str, key: str, field_path: str | None) -> str:
    text = "\x1f".join((portal, key, field_path or ""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Resolution:
    defect: Defect
    status: DefectStatus
    reason: str


@dataclass(frozen=True)
class DefectPlan:
    new: list[Change] = field(default_factory=list)
    seen_again: list[tuple[Defect, Change]] = field(default_factory=list)
    reopened: list[tuple[Defect, Change]] = field(default_factory=list)
    waived: list[tuple[Defect, Change]] = field(default_factory=list)
    resolved: list[Resolution] = field(default_factory=list)


def plan_defects(
    existing: Mapping[str, Defect],
    unplanned: Sequence[Change],
    is_verified: Callable[[str], bool],
    baseline: BaselineInfo,
    baseline_took_it: Callable[[Defect], bool] = lambda _defect: False,
    explained: Mapping[str, str] | None = None,
) -> DefectPlan:
    """Decide, for every unplanned change and every known defect, what happens to it.

    ``existing`` maps fingerprint to defect; each change carries its fingerprint.
    ``is_verified(key)`` says whether the key's part was compared in this audit: a defect whose
    part was not read stays as it is. ``baseline_took_it(defect)`` says whether the current
    baseline holds the defect's drifted value: only then is a vanished defect ``accepted``.
    ``explained`` maps the fingerprints of changes that are still there but no longer defects
    (planned by a CR, or ignored by a rule) to why: their defects resolve with that reason.
    """
    explained = explained or {}
    plan = DefectPlan()
    seen: set[str] = set()
    for change in unplanned:
        seen.add(change.fingerprint)
        defect = existing.get(change.fingerprint)
        if defect is None:
            plan.new.append(change)
        elif defect.status in ACTIVE:
            plan.seen_again.append((defect, change))
        elif defect.status is DefectStatus.WAIVED and _same(defect.after, change.after):
            plan.waived.append((defect, change))
        elif defect.status is DefectStatus.WAIVED:
            # the waiver tolerated one value; the item has drifted on to another
            plan.reopened.append((defect, change))
        else:
            plan.reopened.append((defect, change))
    removed_now = {c.key for c in unplanned if c.op is ChangeOp.REMOVED}
    for print_, defect in existing.items():
        if print_ in seen or defect.status not in RESOLVABLE or not is_verified(defect.key):
            continue
        if print_ in explained:
            plan.resolved.append(Resolution(defect, DefectStatus.RESOLVED, explained[print_]))
        elif defect.field is not None and defect.key in removed_now:
            # Not reverted: the whole item is gone, which its own defect reports.
            reason = "superseded: the whole item was removed"
            plan.resolved.append(Resolution(defect, DefectStatus.RESOLVED, reason))
        elif defect.baseline_version != baseline.version and baseline_took_it(defect):
            reason = f"accepted into baseline v{baseline.version}"
            plan.resolved.append(Resolution(defect, DefectStatus.ACCEPTED, reason))
        else:
            plan.resolved.append(Resolution(defect, DefectStatus.RESOLVED, "reverted"))
    return plan
