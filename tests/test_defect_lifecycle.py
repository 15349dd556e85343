"""The defect lifecycle: accepted only when the new baseline holds the drifted value."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hubaudit.config import PortalConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.governance.defects import group_drift, plan_defects
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.defects import Defect, DefectStatus
from hubaudit.model.items import Kind
from hubaudit.services.audit_run import approve_baseline, run_audit, take_snapshot
from hubaudit.store.repository import Store

from .conftest import baseline_from_night1

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def defect(key: str, field: str | None, after: object = "B") -> Defect:
    return Defect(
        id=1,
        portal="p",
        fingerprint=f"{key}|{field}",
        kind=Kind.PROPERTY,
        key=key,
        field=field,
        status=DefectStatus.OPEN,
        severity=Severity.LOW,
        before="A",
        after=after,
        first_seen_at=NOW,
        last_seen_at=NOW,
        occurrences=1,
        baseline_version=1,
        op=ChangeOp.MODIFIED if field else ChangeOp.ADDED,
        path=tuple(field.split(".")) if field else (),
    )


def baseline(version: int) -> BaselineInfo:
    return BaselineInfo(version, "p", version, "c", NOW, "n", None, 0, ())


def test_a_field_defect_of_a_deleted_item_is_superseded_not_reverted() -> None:
    old = defect("property:contacts:x", "label")
    removal = Change(
        Kind.PROPERTY,
        "property:contacts:x",
        ChangeOp.REMOVED,
        None,
        (),
        {},
        None,
        fingerprint="removal",
    )
    drifts = group_drift("p", [removal])
    plan = plan_defects({old.fingerprint: old}, drifts, lambda _k: True, baseline(1))
    assert plan.new == drifts
    (resolution,) = plan.resolved
    assert resolution.status is DefectStatus.RESOLVED
    assert resolution.reason == "superseded: the whole item was removed"


def test_a_new_baseline_that_does_not_hold_the_drift_means_reverted() -> None:
    old = defect("property:contacts:x", "label")
    plan = plan_defects(
        {old.fingerprint: old}, [], lambda _k: True, baseline(2), baseline_took_it=lambda _d: False
    )
    assert [(r.status, r.reason) for r in plan.resolved] == [(DefectStatus.RESOLVED, "reverted")]
    plan = plan_defects(
        {old.fingerprint: old}, [], lambda _k: True, baseline(2), baseline_took_it=lambda _d: True
    )
    assert [(r.status, r.reason) for r in plan.resolved] == [
        (DefectStatus.ACCEPTED, "accepted into baseline v2")
    ]


def test_approving_the_drifted_portal_accepts_its_defects(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    drift = run_audit(store, portal, client)
    assert len(drift.defects.opened) == 18  # 27 changes to 18 items
    # The council accepts the night's state as v2: every defect closes as accepted.
    approve_baseline(store, "demo", drift.snapshot, "Council", "accept Q4 changes")
    accepted = run_audit(store, portal, client)
    assert accepted.changes == ()
    assert {(d.status, d.resolution) for d in store.defects("demo")} == {
        (DefectStatus.ACCEPTED, "accepted into baseline v2")
    }


def test_a_revert_before_an_unrelated_new_baseline_is_still_reverted(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    run_audit(store, portal, client)
    emulator.load(portal_dirs["night1"])  # put back...
    back = take_snapshot(store, portal, client)
    approve_baseline(store, "demo", back, "Council", "v2, re-signed")  # ...then a new version
    run_audit(store, portal, client)
    assert {(d.status, d.resolution) for d in store.defects("demo")} == {
        (DefectStatus.RESOLVED, "reverted")
    }
