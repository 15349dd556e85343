"""What every report shows, in one place: the groups and counts the renderers lay out.

Each renderer (text, Markdown, HTML…) is a pure function of an audit result; the choices of
what goes in which section live here, so that no format shows what another leaves out."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from hubaudit.model.audit_result import AuditResult
from hubaudit.model.changes import Change, Classification, Severity
from hubaudit.model.items import CoverageStatus, Kind

KIND_TITLES = {
    Kind.PROPERTY: "Properties",
    Kind.PROPERTY_GROUP: "Property groups",
    Kind.PIPELINE: "Pipelines",
    Kind.WORKFLOW: "Workflows",
    Kind.LIFECYCLE_STAGE: "Lifecycle stages",
    Kind.OBJECT_SCHEMA: "Custom object schemas",
    Kind.ASSOCIATION_LABEL: "Association labels",
    Kind.USER: "Users",
    Kind.TEAM: "Teams",
    Kind.ROLE: "Roles",
}
PER_OBJECT_TYPE = frozenset(
    {Kind.PROPERTY, Kind.PROPERTY_GROUP, Kind.PIPELINE, Kind.LIFECYCLE_STAGE}
)
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)


VENDOR_TITLE = "HubSpot's own changes"
VENDOR_WHY = (
    "HubSpot changed its own definitions; not defects unless [governance] vendor_governed "
    "names them"
)


def no_unplanned_changes(result: AuditResult) -> str:
    """What a report says when nothing unplanned was seen: that the portal matches its
    baseline only when every part the baseline governs was read (rule 11) and nothing changed
    at all (planned, waived, ignored or HubSpot's own changes are differences too)."""
    if not result.not_verified:
        if result.changes:
            return "No unplanned changes (the differences from the baseline are listed below)."
        return "No unplanned changes: the portal matches the approved baseline."
    count = len(result.not_verified)
    parts = f"{count} part{'s' if count != 1 else ''} of the baseline"
    verb = "were" if count != 1 else "was"
    return (
        f"No unplanned changes in what was read, but {parts} {verb} not verified "
        "(listed below): this is not a clean bill."
    )


def severity_counts(changes: Sequence[Change]) -> list[tuple[Severity, int]]:
    counts = Counter(c.severity for c in changes)
    return [(s, counts[s]) for s in SEVERITY_ORDER if counts[s]]


def defect_severity_counts(changes: Sequence[Change]) -> list[tuple[Severity, int]]:
    """Defects by their worst change's severity: one count per defect (an item's drift), not
    per field changed; a change without a defect counts as its own."""
    worst: dict[object, Severity] = {}
    for change in changes:
        ident: object = (
            change.defect_id if change.defect_id is not None else (change.key, change.field)
        )
        if ident not in worst or change.severity.rank > worst[ident].rank:
            worst[ident] = change.severity
    counts = Counter(worst.values())
    return [(s, counts[s]) for s in SEVERITY_ORDER if counts[s]]


def by_item(changes: Sequence[Change]) -> list[tuple[str, list[Change]]]:
    """Changes of one item together, in key order."""
    ordered = sorted(changes, key=lambda c: (c.key, c.field or ""))
    return [(key, list(group)) for key, group in groupby(ordered, key=lambda c: c.key)]


def group_title(change: Change) -> str:
    title = KIND_TITLES[change.kind]
    if change.kind in PER_OBJECT_TYPE:
        return f"{title} · {change.key.split(':', 2)[1]}"
    return title


def by_group(changes: Sequence[Change]) -> list[tuple[str, list[tuple[str, list[Change]]]]]:
    """Items grouped by kind and, where it has one, object type."""
    groups: dict[str, list[tuple[str, list[Change]]]] = {}
    for key, items in by_item(changes):
        groups.setdefault(group_title(items[0]), []).append((key, items))
    return sorted(groups.items(), key=lambda pair: pair[0])


def ignored_by_rule(result: AuditResult) -> list[tuple[str, int]]:
    counts = Counter(
        c.note or "" for c in result.changes if c.classification is Classification.IGNORED
    )
    return sorted(counts.items())


def coverage_parts(result: AuditResult) -> list[tuple[str, int, int, int, int]]:
    """(kind, complete, parts, failed, unsupported) for every kind read."""
    counts: dict[str, Counter[CoverageStatus]] = {}
    for part in result.snapshot.coverage:
        counts.setdefault(part.kind.value, Counter())[part.status] += 1
    return [
        (
            kind,
            statuses[CoverageStatus.COMPLETE],
            sum(statuses.values()),
            statuses[CoverageStatus.FAILED],
            statuses[CoverageStatus.UNSUPPORTED],
        )
        for kind, statuses in sorted(counts.items())
    ]


def value_json(value: Any, width: int | None = None) -> str:
    """A value as compact JSON, ``(none)`` for absent, cut to ``width`` characters."""
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def cut(text: str, width: int | None = None) -> str:
    """``text`` cut to ``width`` characters, an ellipsis marking the cut."""
    if width is not None and len(text) > width:
        return text[: width - 1] + "…"
    return text


def pretty_json(value: Any) -> str:
    """A whole payload as indented JSON, for a disclosure in the HTML report."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)


def who(change: Change) -> str:
    return change.attribution.user_email or change.attribution.user_id or ""


def percent(share: float | None) -> str:
    """A share as a percentage that never rounds to all or nothing: ``100%`` only when it is
    all, ``0%`` only when it is none (476 of 478 is ``99.6%``, not ``100%``)."""
    if share is None:
        return "n/a"
    for places in range(4):
        text = f"{share:.{places}%}"
        number = float(text.rstrip("%"))
        if (number < 100 or share >= 1) and (number > 0 or share <= 0):
            return text
    return "99.99%" if share < 1 else "100%"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 item``, ``2 items``; ``many`` where adding an s is wrong (``1 depends``/``2 depend``)."""
    return f"{count} {singular if count == 1 else many or singular + 's'}"


def times(count: int) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")
