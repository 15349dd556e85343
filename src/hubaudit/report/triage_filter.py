"""A run's report as a triage view narrowed by what RevOps asks for: the report's own view model
(:mod:`hubaudit.report.view`: its summary line, its tiers and handled sections, its names), with
only the changes that match severity, kind, defect status, person and text.

The filter narrows changes, not the view's rules: an item keeps the changes that match and
stays in its tier and section; one left with none is left out. Counts of what is shown and of
the whole report are told, so "3 of 40 items" is never read as "3 items"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from hubaudit.model.audit_result import AuditResult
from hubaudit.model.changes import Severity
from hubaudit.model.defects import DefectStatus
from hubaudit.model.items import Kind, kind_of
from hubaudit.report.view import ChangeRow, ChangeSection, ItemRow, ReportView, build, section_of


@dataclass(frozen=True)
class DriftFilter:
    """What to show; an empty criterion matches all."""

    severities: frozenset[Severity] = frozenset()
    kinds: frozenset[Kind] = frozenset()
    statuses: frozenset[DefectStatus] = frozenset()
    """The status of the change's defect (a change with no defect — planned, ignored,
    HubSpot's own — has none, so a status leaves it out)."""
    person: str | None = None
    """Who made the change as the report names them (``""``: HubSpot does not say);
    ``None``: anyone."""
    text: str = ""
    """A piece of the item's name or key or of the change's field (its path or its name)."""

    @property
    def narrows(self) -> bool:
        return bool(
            self.severities
            or self.kinds
            or self.statuses
            or self.person is not None
            or self.text.strip()
        )


@dataclass(frozen=True)
class TriageView:
    """A report's view and the part of its drift a filter shows."""

    view: ReportView
    triage: tuple[ChangeSection, ...]
    """The tiers (act now, other new, carried over) with what matched."""
    handled: tuple[ChangeSection, ...]
    """The handled sections (acknowledged, waived, planned…) with what matched."""
    statuses: Mapping[int, DefectStatus]
    """Each defect's status by id: as given (now), else as the report stored it."""
    shown_items: int
    shown_changes: int
    total_items: int
    total_changes: int

    @property
    def people(self) -> tuple[str, ...]:
        """Everyone who made a change in the report (``""``: HubSpot does not say)."""
        return tuple(p.who for p in self.view.people)


def triage_view(
    result: AuditResult,
    chosen: DriftFilter = DriftFilter(),
    now: Mapping[int, DefectStatus] | None = None,
) -> TriageView:
    """The report of ``result`` through its view model, its drift narrowed to ``chosen``. A
    defect's status is the one in ``now`` (the defects as they stand since the run) where
    given, else the one the report stored."""
    view = build(result)
    statuses = {d.id: d.status for d in result.present_defects} | dict(now or {})
    text = chosen.text.strip().casefold()

    def item_matches(item: ItemRow) -> bool:
        return not chosen.kinds or kind_of(item.key) in chosen.kinds

    def change_matches(item: ItemRow, change: ChangeRow) -> bool:
        if chosen.severities and change.severity not in chosen.severities:
            return False
        if chosen.statuses and (
            change.defect_id is None or statuses.get(change.defect_id) not in chosen.statuses
        ):
            return False
        if chosen.person is not None and change.who != chosen.person:
            return False
        if text:
            names = (item.name, item.key, change.field or "", change.field_label)
            return any(text in name.casefold() for name in names)
        return True

    def narrowed(sections: tuple[ChangeSection, ...]) -> tuple[ChangeSection, ...]:
        kept = []
        for section in sections:
            items = [
                replace(item, changes=changes)
                for item in section.items
                if item_matches(item)
                for changes in [tuple(c for c in item.changes if change_matches(item, c))]
                if changes
            ]
            if items:
                kept.append(section_of(section.title, section.why, items, section.classification))
        return tuple(kept)

    everything = view.triage + view.handled
    triage, handled = narrowed(view.triage), narrowed(view.handled)
    return TriageView(
        view=view,
        triage=triage,
        handled=handled,
        statuses=statuses,
        shown_items=sum(len(s.items) for s in triage + handled),
        shown_changes=sum(s.count for s in triage + handled),
        total_items=sum(len(s.items) for s in everything),
        total_changes=sum(s.count for s in everything),
    )
