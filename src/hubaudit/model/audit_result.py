"""What one audit found, as every report format shows it."""

from __future__ import annotations

from dataclasses import dataclass, field

from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change, Classification
from hubaudit.model.defects import Defect, DefectUpdate
from hubaudit.model.findings import Finding, FindingUpdate
from hubaudit.model.items import KindCoverage, SnapshotInfo
from hubaudit.model.kpis import Kpis
from hubaudit.model.surface import HubInfo, SurfaceArea


@dataclass(frozen=True)
class AuditResult:
    """Everything one audit found; renderers are pure functions of this value."""

    portal: str
    snapshot: SnapshotInfo
    baseline: BaselineInfo
    changes: tuple[Change, ...]
    not_verified: tuple[KindCoverage, ...]
    defects: DefectUpdate = field(default_factory=DefectUpdate)
    resolved_defects: tuple[Defect, ...] = ()
    notes: tuple[str, ...] = ()
    """What the audit could not do but did not need to fail for (an audit trail not readable)."""
    expired_waivers: tuple[Defect, ...] = ()
    """Defects whose waiver ran out before this audit: reopened, and said so in the report."""
    present_defects: tuple[Defect, ...] = ()
    """The defects of this audit's unplanned (and waived) changes: one per item, each listing
    its field changes."""
    findings: tuple[Finding, ...] = ()
    """Policy breaches present in this snapshot (open or waived), tracked by fingerprint."""
    finding_update: FindingUpdate = field(default_factory=FindingUpdate)
    resolved_findings: tuple[Finding, ...] = ()
    surface: tuple[SurfaceArea, ...] = ()
    """The governed surface: what hubaudit read, and the areas governed by manual sign-off."""
    hub: HubInfo | None = None
    kpis: Kpis | None = None
    run_id: int | None = None
    """The run that produced it, when it was recorded as one."""
    tracked_defects: tuple[Defect, ...] = ()
    """The defects behind this result's changes, as the audit left them: their status
    (acknowledged, waived…), first sighting and waiver, for the reports' triage."""
    expiring_days: int = 7
    """A waiver ending within this many days of the snapshot is listed as expiring soon."""

    @property
    def unplanned(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.classification is Classification.DEFECT)
