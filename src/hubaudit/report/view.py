"""One view model of a report: its sections and rows, built once from an audit result.

The text, Markdown and HTML renderers lay out the same :class:`ReportView`; what goes in which
section, in which order, with which counts, is decided here and nowhere else, so no format shows
what another leaves out. Values stay raw (HubSpot's strings unescaped, JSON values as read):
escaping belongs to each format (Jinja2's autoescape for HTML and Markdown, ``terminal_safe``
for text). Importing this module costs nothing beyond the model: no template engine.

A section's order and an item's name, status and owner are decided here too: a layout shows
what it is given, in the order given (``items`` as found, ``groups`` by kind), so a new order
(triage) or a new column (a person's email, a defect's status) is a change to this module and
one line in each layout, not three copies of the logic."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from hubaudit.model.audit_result import AuditResult
from hubaudit.model.changes import Change, ChangeOp, Classification, Severity
from hubaudit.model.defects import Defect
from hubaudit.model.findings import Finding, FindingStatus
from hubaudit.model.items import JSONValue, KindCoverage
from hubaudit.model.kpis import Kpis
from hubaudit.model.surface import SurfaceArea
from hubaudit.report.json_report import dependents_count
from hubaudit.report.links import record_url
from hubaudit.report.sections import (
    VENDOR_TITLE,
    VENDOR_WHY,
    by_group,
    coverage_parts,
    ignored_by_rule,
    no_unplanned_changes,
    severity_counts,
    who,
)


class Prose(str):
    """hubaudit's own words (a section's title, what it holds), never a HubSpot string: every
    instance is a constant of this module (``tests/test_report_templates.py`` checks). Templates
    print it as it is: HTML escapes only ``<>&`` (it is text, never an attribute), Markdown
    nothing, so ``[governance] vendor_governed`` reads as written."""

    __slots__ = ()

    def __html__(self) -> str:
        return html.escape(self, quote=False)


def when(moment: datetime) -> str:
    """A moment as every report and history view shows it: ``2026-11-23 06:00 UTC``."""
    return f"{moment:%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class DependentRow:
    """Something that depends on a changed item (a workflow reading a property…)."""

    source: str
    label: str | None
    relation: str
    detail: str
    active: bool


@dataclass(frozen=True)
class ChangeRow:
    """One change: one field of a modified item, or an added or removed item."""

    field: str | None
    op: ChangeOp
    before: JSONValue
    after: JSONValue
    severity: Severity
    raised_by_impact: int
    who: str
    at: datetime | None
    classification: Classification
    defect_id: int | None
    change_request: int | None
    note: str | None
    dependents_count: int
    field_label: str | None = None
    """The field with names inside (``stages["Waiting on us"].label``); ``field`` stays raw."""
    before_text: str | None = None
    """``before`` with names (team members by email…); ``None``: show the raw value."""
    after_text: str | None = None
    revert: str | None = None
    """How to put it back: the baseline value to restore, with names."""

    @property
    def field_or_op(self) -> str:
        return self.field_label or self.field or self.op.value

    @property
    def field_mark(self) -> str:
        """``+`` a field that appeared, ``-`` one that went, ``~`` one that changed."""
        if self.before is None:
            return "+"
        if self.after is None:
            return "-"
        return "~"

    @property
    def planned_by(self) -> int | None:
        """The change request a planned change belongs to."""
        if self.classification is Classification.PLANNED:
            return self.change_request
        return None


@dataclass(frozen=True)
class ItemRow:
    """One item's changes, what depends on it and where it is in HubSpot's UI."""

    key: str
    label: str | None
    """The item's human name (a user's email and name…), ``None`` where it has none."""
    op: ChangeOp
    url: str | None
    changes: tuple[ChangeRow, ...]
    dependents: tuple[DependentRow, ...]
    dependents_total: int
    summary: tuple[tuple[str, str], ...] = ()
    """An added or removed item by the fields that matter for its kind."""


@dataclass(frozen=True)
class ItemGroup:
    """Items of one kind and, where it has one, object type (``Properties · deals``)."""

    title: str
    items: tuple[ItemRow, ...]


@dataclass(frozen=True)
class ChangeSection:
    """Changes of one classification: in the order found, and grouped by kind."""

    classification: Classification
    title: Prose
    why: Prose
    count: int
    severities: tuple[tuple[Severity, int], ...]
    items: tuple[ItemRow, ...]
    groups: tuple[ItemGroup, ...]

    @property
    def severity_line(self) -> str:
        """``1 high, 2 medium``: how many of each severity, worst first."""
        return ", ".join(f"{n} {severity.value}" for severity, n in self.severities)


@dataclass(frozen=True)
class DefectRow:
    """A defect that left a state: its waiver expired, or it was resolved."""

    id: int
    key: str
    field: str | None
    resolution: str | None
    waived_by: str | None
    waived_until: datetime | None
    waiver_reason: str | None


@dataclass(frozen=True)
class FindingRow:
    id: int
    severity: Severity
    policy: str
    key: str
    subject: str
    url: str | None
    message: str
    reason: str
    status: FindingStatus
    fresh: bool
    waived_until: datetime | None
    waiver_reason: str | None
    resolution: str | None
    label: str | None = None
    """The item's human name (a workflow's name), where the finding is about one item."""


@dataclass(frozen=True)
class CoverageRow:
    kind: str
    complete: int
    parts: int
    failed: int
    unsupported: int


@dataclass(frozen=True)
class NotVerifiedRow:
    scope: str
    status: str
    reason: str | None


@dataclass(frozen=True)
class IgnoredRow:
    rule: str
    count: int


@dataclass(frozen=True)
class DefectCounts:
    opened: int
    seen_again: int
    reopened: int
    resolved: int
    new_severities: tuple[tuple[Severity, int], ...]


@dataclass(frozen=True)
class FindingCounts:
    total: int
    opened: int
    reopened: int
    resolved: int
    waived: int


@dataclass(frozen=True)
class ReportView:
    """Everything a human-readable report shows, in the order it shows it."""

    portal: str
    snapshot_id: int
    taken_at: datetime
    item_count: int
    baseline_version: int
    approved_by: str
    approved_at: datetime
    coverage: tuple[CoverageRow, ...]
    clean_bill: str
    unplanned: ChangeSection
    expired_waivers: tuple[DefectRow, ...]
    other_sections: tuple[ChangeSection, ...]
    ignored: tuple[IgnoredRow, ...]
    not_verified: tuple[NotVerifiedRow, ...]
    resolved_defects: tuple[DefectRow, ...]
    defects: DefectCounts
    findings: tuple[FindingRow, ...]
    resolved_findings: tuple[FindingRow, ...]
    finding_counts: FindingCounts
    surface: tuple[SurfaceArea, ...]
    kpis: Kpis | None
    notes: tuple[str, ...]
    unplanned_items_by_op: tuple[tuple[ChangeOp, int], ...]

    @property
    def coverage_line(self) -> str:
        """``property 1/3 (1 failed), workflow 1/1``: parts read completely of each kind."""
        return (
            ", ".join(
                f"{row.kind} {row.complete}/{row.parts}"
                + (f" ({row.failed} failed)" if row.failed else "")
                + (f" ({row.unsupported} unsupported)" if row.unsupported else "")
                for row in self.coverage
            )
            or "nothing was read"
        )

    @property
    def planned(self) -> ChangeSection:
        return self._section(Classification.PLANNED)

    @property
    def waived(self) -> ChangeSection:
        return self._section(Classification.WAIVED)

    @property
    def vendor(self) -> ChangeSection:
        return self._section(Classification.VENDOR)

    @property
    def ignored_count(self) -> int:
        return sum(row.count for row in self.ignored)

    def _section(self, classification: Classification) -> ChangeSection:
        return next(s for s in self.other_sections if s.classification is classification)


SECTION_TEXT = {
    Classification.DEFECT: (Prose("Unplanned changes"), Prose("changes nobody planned: defects")),
    Classification.PLANNED: (
        Prose("Planned changes"),
        Prose("approved change requests, in their window"),
    ),
    Classification.WAIVED: (Prose("Waived"), Prose("defects tolerated until their waiver ends")),
    Classification.VENDOR: (Prose(VENDOR_TITLE), Prose(VENDOR_WHY)),
}


def summary_text(summary: Sequence[tuple[str, str]]) -> str:
    """``type: string/text; group: Deal information``: an added or removed item in one line."""
    return "; ".join(f"{name}: {text}" for name, text in summary)


def change_row(change: Change) -> ChangeRow:
    names = change.names
    before = names.before if names is not None else None
    after = names.after if names is not None else None
    if names is not None and change.field is None and names.summary:
        # a whole item added or removed: its summary, not its payload
        if change.op is ChangeOp.REMOVED:
            before = summary_text(names.summary)
        elif change.op is ChangeOp.ADDED:
            after = summary_text(names.summary)
    return ChangeRow(
        field=change.field,
        op=change.op,
        before=change.before,
        after=change.after,
        severity=change.severity,
        raised_by_impact=change.raised_by_impact,
        who=who(change),
        at=change.attribution.at,
        classification=change.classification,
        defect_id=change.defect_id,
        change_request=change.change_request,
        note=change.note,
        dependents_count=dependents_count(change),
        field_label=names.field if names is not None else None,
        before_text=before,
        after_text=after,
        revert=names.revert if names is not None else None,
    )


def item_row(changes: Sequence[Change], result: AuditResult | None = None) -> ItemRow:
    """One item from its changes (all of one key): what depends on it, each once."""
    first = changes[0]
    seen: dict[tuple[str, str, str], DependentRow] = {}
    for change in changes:
        for d in change.dependents:
            seen.setdefault(
                (d.source, d.relation, d.detail),
                DependentRow(d.source, d.label, d.relation, d.detail, d.active),
            )
    total = max([len(seen), *(dependents_count(c) for c in changes)])
    names = first.names
    removed = first.op is ChangeOp.REMOVED and first.field is None
    return ItemRow(
        key=first.key,
        label=(names.item if names is not None else None) or first.label,
        op=first.op,
        url=None if result is None or removed else record_url(result, first.key),
        changes=tuple(change_row(c) for c in changes),
        dependents=tuple(seen.values()),
        dependents_total=total,
        summary=names.summary if names is not None else (),
    )


def items_in_order(
    changes: Iterable[Change], result: AuditResult | None = None
) -> tuple[ItemRow, ...]:
    """Consecutive changes of one key as one item, in the order given."""
    return tuple(item_row(list(group), result) for _key, group in groupby(changes, lambda c: c.key))


def items_grouped(changes: Sequence[Change], result: AuditResult) -> tuple[ItemGroup, ...]:
    """Items in key order, grouped by kind and object type, groups by title."""
    return tuple(
        ItemGroup(title, tuple(item_row(group, result) for _key, group in items))
        for title, items in by_group(changes)
    )


def change_section(
    result: AuditResult, classification: Classification, changes: Sequence[Change]
) -> ChangeSection:
    title, why = SECTION_TEXT[classification]
    return ChangeSection(
        classification=classification,
        title=title,
        why=why,
        count=len(changes),
        severities=tuple(severity_counts(changes)),
        items=items_in_order(changes, result),
        groups=items_grouped(changes, result),
    )


def defect_row(defect: Defect) -> DefectRow:
    waiver = defect.waiver
    return DefectRow(
        id=defect.id,
        key=defect.key,
        field=defect.field,
        resolution=defect.resolution,
        waived_by=waiver.waived_by if waiver is not None else None,
        waived_until=waiver.until if waiver is not None else None,
        waiver_reason=waiver.reason if waiver is not None else None,
    )


def finding_row(finding: Finding, result: AuditResult | None, fresh: bool) -> FindingRow:
    waiver = finding.waiver if finding.status is FindingStatus.WAIVED else None
    return FindingRow(
        id=finding.id,
        severity=finding.severity,
        policy=finding.policy,
        key=finding.key,
        subject=finding.subject,
        url=record_url(result, finding.key) if result is not None else None,
        message=finding.message,
        reason=finding.reason,
        status=finding.status,
        fresh=fresh,
        waived_until=waiver.until if waiver is not None else None,
        waiver_reason=waiver.reason if waiver is not None else None,
        resolution=finding.resolution,
        label=finding.label,
    )


def not_verified_row(part: KindCoverage) -> NotVerifiedRow:
    return NotVerifiedRow(part.scope, part.status.value, part.reason)


def build(result: AuditResult) -> ReportView:
    """The view of one audit result; built once per rendering, shared by every layout."""
    unplanned = result.unplanned
    update = result.defects
    new_ids = set(update.opened) | set(update.reopened)
    fresh_findings = set(result.finding_update.opened) | set(result.finding_update.reopened)
    keys_by_op = Counter(op for _key, op in {(c.key, c.op) for c in unplanned})
    return ReportView(
        portal=result.portal,
        snapshot_id=result.snapshot.id,
        taken_at=result.snapshot.taken_at,
        item_count=result.snapshot.item_count,
        baseline_version=result.baseline.version,
        approved_by=result.baseline.approved_by or "",
        approved_at=result.baseline.moment,
        coverage=tuple(CoverageRow(*part) for part in coverage_parts(result)),
        clean_bill=no_unplanned_changes(result),
        unplanned=change_section(result, Classification.DEFECT, unplanned),
        expired_waivers=tuple(defect_row(d) for d in result.expired_waivers),
        other_sections=tuple(
            change_section(
                result,
                classification,
                [c for c in result.changes if c.classification is classification],
            )
            for classification in (
                Classification.PLANNED,
                Classification.WAIVED,
                Classification.VENDOR,
            )
        ),
        ignored=tuple(IgnoredRow(rule, count) for rule, count in ignored_by_rule(result)),
        not_verified=tuple(not_verified_row(p) for p in result.not_verified),
        resolved_defects=tuple(defect_row(d) for d in result.resolved_defects),
        defects=DefectCounts(
            opened=len(update.opened),
            seen_again=len(update.seen_again),
            reopened=len(update.reopened),
            resolved=len(update.resolved),
            new_severities=tuple(severity_counts([c for c in unplanned if c.defect_id in new_ids])),
        ),
        findings=tuple(finding_row(f, result, f.id in fresh_findings) for f in result.findings),
        resolved_findings=tuple(finding_row(f, result, False) for f in result.resolved_findings),
        finding_counts=FindingCounts(
            total=len(result.findings),
            opened=len(result.finding_update.opened),
            reopened=len(result.finding_update.reopened),
            resolved=len(result.finding_update.resolved),
            waived=sum(1 for f in result.findings if f.status is FindingStatus.WAIVED),
        ),
        surface=result.surface,
        kpis=result.kpis,
        notes=result.notes,
        unplanned_items_by_op=tuple(
            (op, keys_by_op[op]) for op in (ChangeOp.ADDED, ChangeOp.MODIFIED, ChangeOp.REMOVED)
        ),
    )
