"""The shared vocabulary: plain frozen values that every layer passes around.

Nothing here does I/O, and nothing here imports a hubaudit module outside ``model/``.

One module per concept:

- ``items``: Config items, kinds and snapshots: what a read of a portal holds.
- ``changes``: Changes between two points: their operations, classifications, severities, who made
  them and what depends on them.
- ``baselines``: Baseline versions: the architecture as the council approved it.
- ``defects``: Defects (unplanned changes tracked over time), their waivers and events.
- ``change_requests``: Change requests: planned changes the council approved before they happen.
- ``governance_log``: The governance log: every decision, with who, when and why.
- ``findings``: Findings: breaches of architecture policies, their waivers and updates.
- ``surface``: The governed surface of a portal and the hub it is on.
- ``kpis``: Governance KPIs over a period.
- ``audit_result``: What one audit found, as every report format shows it.
- ``history``: Points in time, item history and diffs between two points.
- ``runs``: Recorded runs, their statistics, and the workers that claim them.
- ``view``: A snapshot as the architecture policies read it.

Every public name is re-exported here, so ``from hubaudit.model import X`` keeps working;
new code imports from the concept module. The re-exports are resolved on first use: importing
one concept module (``hubaudit.model.items``) loads that one, not the whole vocabulary.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hubaudit.model.audit_result import AuditResult
    from hubaudit.model.baselines import BaselineInfo, BaselineStatus
    from hubaudit.model.change_requests import (
        ChangeRequest,
        CRProgress,
        CRStatus,
        PlannedChange,
        PlannedChangeState,
    )
    from hubaudit.model.changes import (
        Attribution,
        Change,
        ChangeOp,
        Classification,
        Dependency,
        Severity,
    )
    from hubaudit.model.defects import (
        Defect,
        DefectEvent,
        DefectEventName,
        DefectStatus,
        DefectUpdate,
        FieldChange,
        Waiver,
    )
    from hubaudit.model.findings import Breach, Finding, FindingStatus, FindingUpdate, FindingWaiver
    from hubaudit.model.governance_log import LogEntry, LogRecord
    from hubaudit.model.history import Diff, HistoryEntry, ItemAtPoint, Point, StandIn
    from hubaudit.model.items import (
        STANDARD_OBJECT_TYPE_IDS,
        ConfigItem,
        CoverageStatus,
        ItemKey,
        ItemVersion,
        JSONValue,
        Kind,
        KindCoverage,
        PruneResult,
        SnapshotInfo,
        SnapshotStamp,
        StoredItem,
        kind_of,
        schema_object_type_id,
    )
    from hubaudit.model.kpis import Kpis, WeekCount
    from hubaudit.model.runs import RunRecord, RunStats, RunStatus, RunTrigger, WorkerInfo
    from hubaudit.model.surface import HubInfo, SurfaceArea, SurfaceGovernance, SurfaceStatus
    from hubaudit.model.view import PastVersion, PortalView, ViewItem

# each public name: the concept module that holds it
_HOMES = {
    "AuditResult": "audit_result",
    "BaselineInfo": "baselines",
    "BaselineStatus": "baselines",
    "ChangeRequest": "change_requests",
    "CRProgress": "change_requests",
    "CRStatus": "change_requests",
    "PlannedChange": "change_requests",
    "PlannedChangeState": "change_requests",
    "Attribution": "changes",
    "Change": "changes",
    "ChangeOp": "changes",
    "Classification": "changes",
    "Dependency": "changes",
    "Severity": "changes",
    "Defect": "defects",
    "DefectEvent": "defects",
    "DefectEventName": "defects",
    "DefectStatus": "defects",
    "DefectUpdate": "defects",
    "FieldChange": "defects",
    "Waiver": "defects",
    "Breach": "findings",
    "Finding": "findings",
    "FindingStatus": "findings",
    "FindingUpdate": "findings",
    "FindingWaiver": "findings",
    "LogEntry": "governance_log",
    "LogRecord": "governance_log",
    "Diff": "history",
    "HistoryEntry": "history",
    "ItemAtPoint": "history",
    "Point": "history",
    "StandIn": "history",
    "STANDARD_OBJECT_TYPE_IDS": "items",
    "ConfigItem": "items",
    "CoverageStatus": "items",
    "ItemKey": "items",
    "ItemVersion": "items",
    "JSONValue": "items",
    "Kind": "items",
    "KindCoverage": "items",
    "PruneResult": "items",
    "SnapshotInfo": "items",
    "SnapshotStamp": "items",
    "StoredItem": "items",
    "kind_of": "items",
    "schema_object_type_id": "items",
    "Kpis": "kpis",
    "WeekCount": "kpis",
    "RunRecord": "runs",
    "RunStats": "runs",
    "RunStatus": "runs",
    "RunTrigger": "runs",
    "WorkerInfo": "runs",
    "HubInfo": "surface",
    "SurfaceArea": "surface",
    "SurfaceGovernance": "surface",
    "SurfaceStatus": "surface",
    "PastVersion": "view",
    "PortalView": "view",
    "ViewItem": "view",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "STANDARD_OBJECT_TYPE_IDS",
    "Attribution",
    "AuditResult",
    "BaselineInfo",
    "BaselineStatus",
    "Breach",
    "CRProgress",
    "CRStatus",
    "Change",
    "ChangeOp",
    "ChangeRequest",
    "Classification",
    "ConfigItem",
    "CoverageStatus",
    "Defect",
    "DefectEvent",
    "DefectEventName",
    "DefectStatus",
    "DefectUpdate",
    "Dependency",
    "Diff",
    "FieldChange",
    "Finding",
    "FindingStatus",
    "FindingUpdate",
    "FindingWaiver",
    "HistoryEntry",
    "HubInfo",
    "ItemAtPoint",
    "ItemKey",
    "ItemVersion",
    "JSONValue",
    "Kind",
    "KindCoverage",
    "Kpis",
    "LogEntry",
    "LogRecord",
    "PastVersion",
    "PlannedChange",
    "PlannedChangeState",
    "Point",
    "PortalView",
    "PruneResult",
    "RunRecord",
    "RunStats",
    "RunStatus",
    "RunTrigger",
    "Severity",
    "SnapshotInfo",
    "SnapshotStamp",
    "StandIn",
    "StoredItem",
    "SurfaceArea",
    "SurfaceGovernance",
    "SurfaceStatus",
    "ViewItem",
    "Waiver",
    "WeekCount",
    "WorkerInfo",
    "kind_of",
    "schema_object_type_id",
]
