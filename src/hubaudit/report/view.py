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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from hubaudit.governance.triage import (
    Standing,
    Tier,
    TriageFacts,
    standing_of,
    tier_of,
    triage_order,
)
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.changes import Change, ChangeOp, Classification, Severity
from hubaudit.model.defects import Defect, DefectStatus
from hubaudit.model.findings import Finding, FindingStatus
from hubaudit.model.items import JSONValue, KindCoverage
from hubaudit.model.kpis import Kpis
from hubaudit.model.surface import SurfaceArea
from hubaudit.report.json_report import dependents_count
from hubaudit.report.links import record_url
from hubaudit.report.sections import (
    SEVERITY_ORDER,
    VENDOR_TITLE,
    VENDOR_WHY,
    coverage_parts,
    defect_severity_counts,
    group_title,
    ignored_by_rule,
    no_unplanned_changes,
    plural,
    severity_counts,
    times,
    value_json,
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
    confidence: str = "unknown"
    """How sure HubSpot's attribution is: ``medium``, ``low`` or ``unknown``."""
    field_label: str = ""
    """The field as a person reads it (``label``; ``stages["Waiting on us"]``)."""
    before_text: str = "(none)"
    after_text: str = "(none)"
    revert: str = ""
    """What to do to put it back: the baseline value to restore, or what to delete."""

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

    @property
    def who_line(self) -> str:
        """``ana@example.com (medium confidence)``; ``unknown`` when HubSpot does not say."""
        if not self.who:
            return "unknown"
        return f"{self.who} ({self.confidence} confidence)"


@dataclass(frozen=True)
class WaiverInfo:
    by: str
    until: datetime
    reason: str


@dataclass(frozen=True)
class ItemRow:
    """One item's changes of one standing, what depends on it and where it is in HubSpot."""

    key: str
    label: str | None
    """The item's human name (a user's email and name…), ``None`` where it has none."""
    op: ChangeOp
    url: str | None
    changes: tuple[ChangeRow, ...]
    dependents: tuple[DependentRow, ...]
    dependents_total: int
    summary: tuple[tuple[str, str], ...] = ()
    """An added or removed item's fields that matter for its kind: (field, value)."""
    payload: JSONValue = None
    """An added or removed item's whole payload (shown behind a disclosure)."""
    group: str = ""
    """Its kind and object type: ``Properties · deals``."""
    standing: Standing = Standing.NEW
    reopened: bool = False
    age_days: int | None = None
    """Days since its defect was first seen, for drift carried over or handled."""
    seen: int = 0
    """Audits that saw its defect."""
    waiver: WaiverInfo | None = None

    @property
    def severity(self) -> Severity:
        return max((c.severity for c in self.changes), key=lambda s: s.rank)

    @property
    def defect_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(c.defect_id for c in self.changes if c.defect_id is not None))

    @property
    def mark(self) -> str:
        return {ChangeOp.ADDED: "+", ChangeOp.REMOVED: "-"}.get(self.op, "~")

    @property
    def name(self) -> str:
        return self.label or self.key

    @property
    def age(self) -> str:
        """``open 12 days``, ``open 1 day``, ``open under a day``."""
        if self.age_days is None:
            return ""
        if self.age_days == 0:
            return "open under a day"
        return "open " + plural(self.age_days, "day")

    @property
    def status(self) -> str:
        """Its standing in words: ``new``, ``carried over, open 12 days, seen 12 times``,
        ``waived until 2026-12-31 by Rita: migration``, ``planned by CR-1``…"""
        standing = self.standing
        if standing is Standing.NEW:
            return "new (reopened)" if self.reopened else "new"
        if standing in (Standing.CARRIED_OVER, Standing.ACKNOWLEDGED):
            parts = [standing.value, self.age] + ([f"seen {times(self.seen)}"] if self.seen else [])
            return ", ".join(p for p in parts if p)
        if standing is Standing.WAIVED:
            if self.waiver is None:
                return "waived"
            w = self.waiver
            return f"waived until {w.until:%Y-%m-%d} by {w.by}: {w.reason}"
        if standing is Standing.PLANNED:
            crs = sorted({c.planned_by for c in self.changes if c.planned_by is not None})
            return "planned" + (" by " + ", ".join(f"CR-{n}" for n in crs) if crs else "")
        if standing is Standing.IGNORED:
            return "ignored"
        return VENDOR_TITLE


@dataclass(frozen=True)
class ChangeSection:
    """Changes of one standing (or one tier of new drift), items in triage order."""

    title: Prose
    why: Prose
    count: int
    """How many changes (fields) it holds."""
    severities: tuple[tuple[Severity, int], ...]
    items: tuple[ItemRow, ...]
    classification: Classification = Classification.DEFECT

    @property
    def severity_line(self) -> str:
        """``1 high, 2 medium``: how many of each severity, worst first."""
        return ", ".join(f"{n} {severity.value}" for severity, n in self.severities)

    @property
    def count_line(self) -> str:
        """``2 items, 3 changes``."""
        return plural(len(self.items), "item") + ", " + plural(self.count, "change")


@dataclass(frozen=True)
class PersonRow:
    """Who made changes in this report, as HubSpot attributes them."""

    who: str
    changes: int
    items: int
    confidence: tuple[tuple[str, int], ...]
    severities: tuple[tuple[Severity, int], ...]

    @property
    def line(self) -> str:
        """``it.admin@example.com made 17 changes to 9 items (confidence: 17 low)``."""
        who = self.who or "unknown (HubSpot does not say)"
        made = "made " + plural(self.changes, "change") + " to " + plural(self.items, "item")
        sure = ", ".join(f"{n} {level}" for level, n in self.confidence)
        return f"{who} {made} (confidence: {sure})" if self.who else f"{who}: {made[5:]}"


@dataclass(frozen=True)
class ExpiringRow:
    """A waiver that ends soon: a defect's or a finding's."""

    subject: str
    key: str
    label: str | None
    by: str
    until: datetime
    reason: str
    days_left: int

    @property
    def left(self) -> str:
        if self.days_left <= 0:
            return "ends today"
        return "ends in " + plural(self.days_left, "day")


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
    summary_line: str
    """``Drift: 3 added, 12 changed, 2 removed — 4 new critical``: first and last."""
    unplanned: ChangeSection
    """Every unplanned change (for counts); its items are laid out by ``triage``."""
    triage: tuple[ChangeSection, ...]
    """Drift to act on, in triage order: act now, other new, carried over (only those with
    items)."""
    handled: tuple[ChangeSection, ...]
    """What is handled, by standing: acknowledged, waived, planned, ignored, HubSpot's own
    (only those with items); collapsed in HTML."""
    people: tuple[PersonRow, ...]
    expiring: tuple[ExpiringRow, ...]
    expiring_days: int
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

    @property
    def handled_line(self) -> str:
        """``Handled: 2 acknowledged, 1 waived, 1 planned`` (items)."""
        counts = Counter(item.standing for section in self.handled for item in section.items)
        return "Handled: " + ", ".join(f"{n} {standing.value}" for standing, n in counts.items())

    @property
    def items_line(self) -> str:
        """``Items changed without a plan since baseline v3: 1 added, 2 modified, 0 removed.``"""
        counts = ", ".join(f"{n} {op.value}" for op, n in self.unplanned_items_by_op)
        return f"Items changed without a plan since baseline v{self.baseline_version}: {counts}."

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
TIER_TEXT = {
    Tier.ACT_NOW: (
        Prose("Act now"),
        Prose("new critical and high drift, worst and newest first"),
    ),
    Tier.NEW: (Prose("Other new drift"), Prose("new since the last audit")),
    Tier.CARRIED_OVER: (
        Prose("Carried over"),
        Prose("still open from earlier audits, with their age"),
    ),
}
STANDING_TEXT = {
    Standing.ACKNOWLEDGED: (
        Prose("Acknowledged"),
        Prose("known and being handled; still drifting"),
    ),
    Standing.WAIVED: (Prose("Waived"), Prose("defects tolerated until their waiver ends")),
    Standing.PLANNED: (
        Prose("Planned"),
        Prose("approved change requests, in their window"),
    ),
    Standing.IGNORED: (Prose("Ignored"), Prose("hidden by ignore rules")),
    Standing.VENDOR: (Prose(VENDOR_TITLE), Prose(VENDOR_WHY)),
}
SUMMARY_KEY_FIELDS = (
    "label",
    "name",
    "email",
    "type",
    "fieldType",
    "groupName",
    "objectType",
    "category",
    "isEnabled",
    "hubspotDefined",
)


def _text(value: JSONValue) -> str:
    if isinstance(value, str):
        return value
    return value_json(value)


@dataclass(frozen=True)
class FieldNames:
    field_label: str
    before_text: str
    after_text: str
    revert: str


@dataclass(frozen=True)
class ItemNames:
    label: str
    summary: tuple[tuple[str, str], ...]
    fields: tuple[FieldNames, ...]


def summary_text(summary: Sequence[tuple[str, str]]) -> str:
    """``type: string/text; group: Deal information``: an added or removed item in one line."""
    return "; ".join(f"{name}: {text}" for name, text in summary)


def names_of(changes: Sequence[Change]) -> ItemNames:
    """The human names of one item and of its changes: label, summary of an added or removed
    item, each field's label, its values as text and how to put it back.

    The names the audit gave (``Change.names``, from ``analysis/names.py``) where there are
    some; else plain fallbacks (the key, the field path, the values as JSON, the baseline
    value), in this one function."""
    first = changes[0]
    named = first.names
    label = (named.item if named is not None else None) or first.label or first.key
    payload = first.after if first.op is ChangeOp.ADDED else first.before
    summary: tuple[tuple[str, str], ...] = named.summary if named is not None else ()
    if not summary and first.field is None and isinstance(payload, dict):
        scalars = {k: v for k, v in payload.items() if not isinstance(v, dict | list)}
        chosen = [k for k in SUMMARY_KEY_FIELDS if k in scalars]
        chosen += sorted(k for k in scalars if k not in chosen)
        summary = tuple((k, _text(scalars[k])) for k in chosen[:6])

    def revert(c: Change) -> str:
        if c.names is not None and c.names.revert is not None:
            return c.names.revert
        if c.field is None:
            return f"delete {label}" if c.op is ChangeOp.ADDED else f"recreate {label}"
        if c.before is None:
            return f"remove {c.field}"
        return f"set {c.field} back to {value_json(c.before)}"

    def shown(c: Change, value: JSONValue, text: str | None) -> str:
        if c.field is None and value is not None:  # a whole item: its summary, not its payload
            return summary_text(summary) or "(the whole item)"
        return text if text is not None else value_json(value)

    def field_names(c: Change) -> FieldNames:
        n = c.names
        return FieldNames(
            (n.field if n is not None else None) or c.field or c.op.value,
            shown(c, c.before, n.before if n is not None else None),
            shown(c, c.after, n.after if n is not None else None),
            revert(c),
        )

    return ItemNames(label=label, summary=summary, fields=tuple(field_names(c) for c in changes))


def change_row(change: Change, names: FieldNames | None = None) -> ChangeRow:
    names = names or names_of([change]).fields[0]
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
        confidence=change.attribution.confidence,
        field_label=names.field_label,
        before_text=names.before_text,
        after_text=names.after_text,
        revert=names.revert,
    )


@dataclass(frozen=True)
class Tracking:
    """What the report knows of the defects behind its changes."""

    defects: Mapping[int, Defect]
    new: frozenset[int]
    reopened: frozenset[int]
    taken_at: datetime | None

    @classmethod
    def of(cls, result: AuditResult | None) -> Tracking:
        if result is None:
            return cls({}, frozenset(), frozenset(), None)
        update = result.defects
        return cls(
            {d.id: d for d in result.present_defects},
            frozenset(update.opened) | frozenset(update.reopened),
            frozenset(update.reopened),
            result.snapshot.taken_at,
        )

    def standing(self, change: Change) -> Standing:
        defect = self.defects.get(change.defect_id) if change.defect_id is not None else None
        status = defect.status if defect is not None else None
        new = change.defect_id is None or change.defect_id in self.new
        return standing_of(change.classification, status, new)


def item_row(
    changes: Sequence[Change],
    result: AuditResult | None = None,
    tracking: Tracking | None = None,
) -> ItemRow:
    """One item from its changes (all of one key and standing): what depends on it, each
    once; its names; where its defect stands."""
    tracking = tracking or Tracking.of(result)
    first = changes[0]
    seen: dict[tuple[str, str, str], DependentRow] = {}
    for change in changes:
        for d in change.dependents:
            seen.setdefault(
                (d.source, d.relation, d.detail),
                DependentRow(d.source, d.label, d.relation, d.detail, d.active),
            )
    total = max([len(seen), *(dependents_count(c) for c in changes)])
    names = names_of(changes)
    removed = first.op is ChangeOp.REMOVED and first.field is None  # no page left in HubSpot
    defects = [
        tracking.defects[c.defect_id]
        for c in changes
        if c.defect_id is not None and c.defect_id in tracking.defects
    ]
    oldest = min(defects, key=lambda d: d.first_seen_at) if defects else None
    standing = tracking.standing(first)
    waiver = next(
        (d.waiver for d in defects if d.waiver is not None and d.waiver.ended_at is None), None
    )
    return ItemRow(
        key=first.key,
        label=names.label,
        op=first.op,
        url=None if result is None or removed else record_url(result, first.key),
        changes=tuple(change_row(c, n) for c, n in zip(changes, names.fields, strict=True)),
        dependents=tuple(seen.values()),
        dependents_total=total,
        summary=names.summary,
        payload=(first.after if first.op is ChangeOp.ADDED else first.before)
        if first.field is None
        else None,
        group=group_title(first),
        standing=standing,
        reopened=any(c.defect_id in tracking.reopened for c in changes),
        age_days=(tracking.taken_at - oldest.first_seen_at).days
        if oldest is not None and tracking.taken_at is not None and standing is not Standing.NEW
        else None,
        seen=oldest.occurrences if oldest is not None else 0,
        waiver=None
        if waiver is None or standing is not Standing.WAIVED
        else WaiverInfo(waiver.waived_by, waiver.until, waiver.reason),
    )


def items_in_order(
    changes: Iterable[Change], result: AuditResult | None = None
) -> tuple[ItemRow, ...]:
    """Consecutive changes of one key as one item, in the order given."""
    tracking = Tracking.of(result)
    return tuple(
        item_row(list(group), result, tracking)
        for _key, group in groupby(changes, lambda c: (c.key, tracking.standing(c)))
    )


def _facts(item: ItemRow) -> TriageFacts:
    times_ = [c.at for c in item.changes if c.at is not None]
    return TriageFacts(item.standing, item.severity, max(times_) if times_ else None, item.key)


def triaged(changes: Sequence[Change], result: AuditResult) -> tuple[ItemRow, ...]:
    """Items (one key and standing each, fields in key order) in triage order."""
    tracking = Tracking.of(result)
    ordered = sorted(
        changes,
        key=lambda c: (c.key, tracking.standing(c), -c.severity.rank, c.field or ""),
    )
    items = [
        item_row(list(group), result, tracking)
        for _key, group in groupby(ordered, lambda c: (c.key, tracking.standing(c)))
    ]
    return tuple(triage_order(items, _facts))


def section_of(
    title: Prose,
    why: Prose,
    items: Sequence[ItemRow],
    classification: Classification = Classification.DEFECT,
) -> ChangeSection:
    rows = [c for item in items for c in item.changes]
    counts = Counter(c.severity for c in rows)
    return ChangeSection(
        title=title,
        why=why,
        count=len(rows),
        severities=tuple((s, counts[s]) for s in SEVERITY_ORDER if counts[s]),
        items=tuple(items),
        classification=classification,
    )


def change_section(
    result: AuditResult, classification: Classification, changes: Sequence[Change]
) -> ChangeSection:
    title, why = SECTION_TEXT[classification]
    return section_of(title, why, triaged(changes, result), classification)


def summary_line(result: AuditResult, new_severities: Sequence[tuple[Severity, int]]) -> str:
    """Terraform's closing line for drift: ``Drift: 3 added, 12 changed, 2 removed — 4 new
    critical, 1 new high`` (items, every classification)."""
    ops = Counter(op for _key, op in {(c.key, c.op) for c in result.changes})
    if not ops:
        if result.not_verified:
            return (
                "Drift: none in what was read — "
                + plural(len(result.not_verified), "part")
                + " not verified."
            )
        return f"Drift: none — the portal matches baseline v{result.baseline.version}."
    drift = (
        f"Drift: {ops[ChangeOp.ADDED]} added, {ops[ChangeOp.MODIFIED]} changed, "
        f"{ops[ChangeOp.REMOVED]} removed"
    )
    new = ", ".join(f"{n} new {s.value}" for s, n in new_severities if s.rank >= 3)
    others = sum(n for s, n in new_severities if s.rank < 3)
    if others:
        new += (", " if new else "") + f"{others} other new"
    return f"{drift} — {new or 'nothing new'}."


def people_of(changes: Sequence[Change]) -> tuple[PersonRow, ...]:
    """Who made the changes (HubSpot's own changes left out), most changes first."""
    by: dict[str, list[Change]] = {}
    for change in changes:
        if change.classification is not Classification.VENDOR:
            by.setdefault(who(change), []).append(change)
    rows = []
    for person, made in by.items():
        sure = Counter(c.attribution.confidence for c in made)
        rows.append(
            PersonRow(
                who=person,
                changes=len(made),
                items=len({c.key for c in made}),
                confidence=tuple(sorted(sure.items(), key=lambda p: (-p[1], p[0]))),
                severities=tuple(severity_counts(made)),
            )
        )
    return tuple(sorted(rows, key=lambda r: (not r.who, -r.changes, r.who)))


def expiring_of(result: AuditResult) -> tuple[ExpiringRow, ...]:
    """Waivers in force (of defects and of findings) that end within ``expiring_days``."""
    if result.expiring_days <= 0:
        return ()
    now = result.snapshot.taken_at
    horizon = now + timedelta(days=result.expiring_days)
    # (subject, key, label, by, until, reason) of every waiver in force
    waivers = [
        (f"defect #{d.id}", d.key, d.label, d.waiver.waived_by, d.waiver.until, d.waiver.reason)
        for d in result.present_defects
        if d.status is DefectStatus.WAIVED and d.waiver is not None and d.waiver.ended_at is None
    ] + [
        (f"finding #{f.id}", f.key, f.label, f.waiver.by, f.waiver.until, f.waiver.reason)
        for f in result.findings
        if f.status is FindingStatus.WAIVED and f.waiver is not None
    ]
    rows = [
        ExpiringRow(subject, key, label, by, until, reason, (until - now).days)
        for subject, key, label, by, until, reason in waivers
        if now <= until <= horizon
    ]
    return tuple(sorted(rows, key=lambda r: (r.until, r.subject)))


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
    items = triaged(result.changes, result)
    tiers = {
        tier: [i for i in items if tier_of(i.standing, i.severity) is tier] for tier in TIER_TEXT
    }
    standings = {s: [i for i in items if i.standing is s] for s in STANDING_TEXT}
    new_severities = tuple(defect_severity_counts([c for c in unplanned if c.defect_id in new_ids]))
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
        summary_line=summary_line(result, new_severities),
        unplanned=change_section(result, Classification.DEFECT, unplanned),
        triage=tuple(section_of(*TIER_TEXT[tier], rows) for tier, rows in tiers.items() if rows),
        handled=tuple(
            section_of(*STANDING_TEXT[standing], rows)
            for standing, rows in standings.items()
            if rows
        ),
        people=people_of(result.changes),
        expiring=expiring_of(result),
        expiring_days=result.expiring_days,
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
            new_severities=new_severities,
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
