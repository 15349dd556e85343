"""A month of governance over the emulator, on SQLite and on Postgres: baseline v1 approved; CRs
approved; the planned change is `planned`; an unplanned one is a defect; a waiver runs out and
reopens its defect; another defect is accepted and the CR released into v2; the v1 → v2 changelog
is exactly those changes; and the governance log tells the whole story."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hubaudit.config import PortalConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.errors import DatabaseError, UsageError
from hubaudit.governance.change_requests import parse_planned_change
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.change_requests import CRStatus
from hubaudit.model.changes import Change, Classification
from hubaudit.model.defects import DefectStatus
from hubaudit.report import render
from hubaudit.services.actor import Actor
from hubaudit.services.audit_run import run_audit, take_snapshot
from hubaudit.services.baselines import decide_baseline, propose_from_snapshot, release_requests
from hubaudit.services.change_requests import request_progress
from hubaudit.services.timetravel import diff_points, resolve_point
from hubaudit.services.triage import accept_defects, waive_defects
from hubaudit.store.council import CouncilStore
from hubaudit.store.repository import Store

NOV = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


class Calendar:
    """The month's clock: each audit happens at 02:00 on the given day."""

    def __init__(self) -> None:
        self.now = NOV

    def day(self, day: int, hour: int = 2) -> None:
        self.now = NOV.replace(day=day, hour=hour)

    def __call__(self) -> datetime:
        return self.now


def edit(folder: Path, name: str, change: Callable[[list[dict[str, Any]]], None]) -> None:
    path = folder / "properties" / f"{name}.json"
    properties = json.loads(path.read_text())
    change(properties)
    path.write_text(json.dumps(properties))


def renewal_date(type_: str = "date") -> dict[str, Any]:
    return {
        "name": "renewal_date",
        "label": "Renewal date",
        "type": type_,
        "fieldType": "date" if type_ == "date" else "text",
        "description": "When the contract renews",
        "groupName": "dealinformation",
        "options": [],
        "displayOrder": -1,
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": False,
        "hidden": False,
        "formField": True,
        "dataSensitivity": "non_sensitive",
        "createdAt": "2026-11-04T10:00:00Z",
        "updatedAt": "2026-11-04T10:00:00Z",
    }


TEAM_EDITOR = "2304117"
"""A portal user: HubSpot names the editor of a definition a user changed (HubSpot-defined ones
too, where its absence would make the change HubSpot's own)."""


def relabel(name: str, label: str) -> Callable[[list[dict[str, Any]]], None]:
    def change(properties: list[dict[str, Any]]) -> None:
        for prop in properties:
            if prop["name"] == name:
                prop["label"] = label
                prop["updatedUserId"] = TEAM_EDITOR

    return change


def where(result: AuditResult) -> dict[tuple[str, str | None], Change]:
    return {(c.key, c.field): c for c in result.changes}


@pytest.mark.slow
def test_a_month_of_governance(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    clock = Calendar()
    governance = CouncilStore(store)
    live = portal_dirs["night1"]

    def audit(day: int) -> AuditResult:
        clock.day(day)
        emulator.load(live)
        return run_audit(store, portal, client, clock=clock)

    # Nov 1: the council approves v1 from the portal as it is
    clock.day(1)
    first = take_snapshot(store, portal, client, clock=clock)
    proposed = propose_from_snapshot(
        store, "demo", first, Actor("Rita (RevOps)"), "Q4 architecture", clock
    )
    assert (proposed.version, proposed.status.value) == (1, "proposed")
    assert store.latest_baseline("demo") is None  # a proposal is not yet a baseline
    clock.day(1, 9)
    v1 = decide_baseline(store, "demo", 1, True, Actor("Council"), "signed off", clock).baseline
    assert (v1.status.value, v1.approved_by) == ("approved", "Council")
    assert audit(2).changes == ()

    # Nov 3: two change requests, approved with a window to the 20th
    clock.day(3, 10)
    cr1 = governance.create_request(
        "demo",
        title="Track renewals",
        by="Rita (RevOps)",
        at=clock(),
        valid_from=NOV.replace(day=3, hour=0),
        valid_until=NOV.replace(day=21, hour=0),
        changes=[
            parse_planned_change(
                "add property:deals:renewal_date type=date groupName=dealinformation"
            )
        ],
        note="",
    )
    cr2 = governance.create_request(
        "demo",
        title="Clearer lost reason",
        by="Rita (RevOps)",
        at=clock(),
        valid_from=NOV.replace(day=3, hour=0),
        valid_until=NOV.replace(day=21, hour=0),
        changes=[
            parse_planned_change('modify property:deals:closed_lost_reason "label=Lost reason"')
        ],
        note="",
    )
    assert [p.summary for p in request_progress(store, "demo", [cr1])] == ["not started"]
    for request in (cr1, cr2):
        governance.decide_request("demo", request.id, True, "Council", "go ahead", clock())

    # Nov 5: the planned change lands; an unplanned one too; a CR is implemented differently
    edit(live, "deals", lambda props: props.append(renewal_date()))
    edit(live, "deals", relabel("amount", "Deal amount"))
    edit(live, "deals", relabel("closed_lost_reason", "Reason lost"))
    edit(
        live,
        "contacts",
        lambda props: props.append(
            {
                **renewal_date("string"),
                "name": "tiktok_handle",
                "label": "TikTok handle",
                "groupName": "contactinformation",
            }
        ),
    )
    night5 = audit(5)
    found = where(night5)
    planned = found[("property:deals:renewal_date", None)]
    assert (planned.classification, planned.change_request) == (Classification.PLANNED, cr1.id)
    assert planned.defect_id is None
    relabelled = found[("property:deals:amount", "label")]
    assert relabelled.classification is Classification.DEFECT
    differently = found[("property:deals:closed_lost_reason", "label")]
    assert differently.classification is Classification.DEFECT
    assert differently.note is not None
    assert "implemented differently than approved" in differently.note
    assert 'label is "Reason lost", approved "Lost reason"' in differently.note
    tiktok = found[("property:contacts:tiktok_handle", None)]
    assert tiktok.classification is Classification.DEFECT
    assert {c.key for c in night5.unplanned} == {
        "property:deals:amount",
        "property:deals:closed_lost_reason",
        "property:contacts:tiktok_handle",
    }
    progress = {p.request.id: p.summary for p in request_progress(store, "demo", [cr1, cr2])}
    assert progress == {cr1.id: "implemented", cr2.id: "partially implemented"}
    text = render(night5, "text")
    assert "Planned: 1 item, 1 change" in text and "planned by CR-" in text
    assert "implemented differently than approved" in text
    stored = store.defect("demo", differently.defect_id or 0)
    assert stored.note == differently.note

    # Nov 6: the relabel is waived until the 12th (through its end); a waiver needs a reason
    clock.day(6, 11)
    amount_id = relabelled.defect_id
    assert amount_id is not None
    with pytest.raises(UsageError, match="needs a reason"):
        waive_defects(store, "demo", [amount_id], Actor("Rita"), "  ", NOV.replace(day=13), clock)
    waived = waive_defects(
        store,
        "demo",
        [amount_id],
        Actor("Rita"),
        "finance asked; reverting after close",
        NOV.replace(day=13),
        clock,
    )
    assert waived[0].status is DefectStatus.WAIVED
    night7 = audit(7)
    assert where(night7)[("property:deals:amount", "label")].classification is (
        Classification.WAIVED
    )
    assert night7.expired_waivers == ()

    # Nov 13: the waiver has run out; the defect is open again and the report says so
    night13 = audit(13)
    assert [d.id for d in night13.expired_waivers] == [amount_id]
    assert where(night13)[("property:deals:amount", "label")].classification is (
        Classification.DEFECT
    )
    assert store.defect("demo", amount_id).status is DefectStatus.OPEN
    assert "Waivers expired" in render(night13, "text")
    assert json.loads(render(night13, "json"))["summary"]["waivers_expired"] == 1

    # Nov 14: TikTok is accepted into v2, and CR-1 released into the same proposal
    clock.day(14, 10)
    tiktok_id = tiktok.defect_id
    assert tiktok_id is not None
    with pytest.raises(UsageError, match=r"partially implemented"):
        release_requests(store, "demo", [cr2.id], Actor("Rita"), None, clock)
    draft = accept_defects(store, "demo", [tiktok_id], Actor("Rita"), "marketing needs it", clock)
    assert (draft.version, draft.status.value, draft.source) == (2, "proposed", "accepted")
    again = release_requests(store, "demo", [cr1.id], Actor("Rita"), None, clock)
    assert again.version == 2  # the same proposal, amended
    with pytest.raises(UsageError, match="already proposed"):
        propose_from_snapshot(store, "demo", night13.snapshot, Actor("Rita"), "again")
    # the proposal changes nothing yet: audits still compare with v1
    night14 = audit(14)
    assert night14.baseline.version == 1
    assert where(night14)[("property:deals:renewal_date", None)].classification is (
        Classification.PLANNED
    )
    clock.day(14, 16)
    v2 = decide_baseline(store, "demo", 2, True, Actor("Council"), "accepted", clock)
    assert (v2.defects, v2.requests) == ((tiktok_id,), (cr1.id,))
    accepted = store.defect("demo", tiktok_id)
    assert accepted.status is DefectStatus.ACCEPTED
    assert accepted.accepted_version == 2
    assert governance.requests("demo", [cr1.id])[0].status is CRStatus.RELEASED
    with pytest.raises(UsageError, match="no proposed baseline"):
        decide_baseline(store, "demo", 2, False, Actor("Council"), "too late", clock)

    # the changelog v1 → v2 is exactly the accepted defect and the released CR
    changelog = diff_points(
        store,
        "demo",
        resolve_point(store, "demo", "baseline:1"),
        resolve_point(store, "demo", "baseline:2"),
    )
    assert {(c.key, c.op.value, c.field) for c in changelog.changes} == {
        ("property:deals:renewal_date", "added", None),
        ("property:contacts:tiktok_handle", "added", None),
    }

    # Nov 15: against v2, only the still-unresolved drift is left
    night15 = audit(15)
    assert night15.baseline.version == 2
    assert {(c.key, c.field) for c in night15.changes} == {
        ("property:deals:amount", "label"),
        ("property:deals:closed_lost_reason", "label"),
    }

    # Nov 22: CR-2's window is over; its drift is still a defect that says how it differs
    night22 = audit(22)
    lost = where(night22)[("property:deals:closed_lost_reason", "label")]
    assert lost.classification is Classification.DEFECT
    assert lost.note is None  # the CR is no longer in force: plain unplanned drift

    # the governance log tells the whole story, in order
    story = [(e.actor, e.action, e.subject) for e in governance.log("demo")]
    assert story == [
        ("Rita (RevOps)", "baseline.proposed", "baseline v1"),
        ("Council", "baseline.approved", "baseline v1"),
        ("Rita (RevOps)", "cr.created", f"CR-{cr1.id}"),
        ("Rita (RevOps)", "cr.created", f"CR-{cr2.id}"),
        ("Council", "cr.approved", f"CR-{cr1.id}"),
        ("Council", "cr.approved", f"CR-{cr2.id}"),
        ("Rita", "defects.waived", f"defect #{amount_id}"),
        ("hubaudit", "waiver.expired", f"defect #{amount_id}"),
        ("Rita", "baseline.proposed", "baseline v2"),
        ("Rita", "defects.accepted", f"defect #{tiktok_id}"),
        ("Rita", "crs.released", f"CR-{cr1.id}"),
        ("Council", "baseline.approved", "baseline v2"),
    ]
    waiver_entry = next(e for e in governance.log("demo") if e.action == "defects.waived")
    assert waiver_entry.note == "finance asked; reverting after close"
    assert waiver_entry.detail["until"] == NOV.replace(day=13).isoformat()


def test_the_governance_log_refuses_updates_and_deletes(
    store: Store, portal: PortalConfig, client: HubSpotClient
) -> None:
    snapshot = take_snapshot(store, portal, client)
    propose_from_snapshot(store, "demo", snapshot, Actor("Rita"), "first")
    for statement in (
        "UPDATE governance_log SET actor = 'someone else'",
        "DELETE FROM governance_log",
    ):
        with (
            pytest.raises((DatabaseError, sa.exc.DatabaseError), match="append-only"),
            store.session() as session,
        ):
            session.execute(sa.text(statement))
    assert [e.actor for e in CouncilStore(store).log("demo")] == ["Rita"]


def test_an_approved_version_never_changes_and_a_rejected_one_frees_its_defects(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    snapshot = take_snapshot(store, portal, client)
    propose_from_snapshot(store, "demo", snapshot, Actor("Rita"), "first")
    decide_baseline(store, "demo", None, True, Actor("Council"), "ok")
    with pytest.raises(UsageError, match="no proposed baseline"):
        decide_baseline(store, "demo", 1, True, Actor("Council"), "again")
    emulator.load(portal_dirs["night2"])
    result = run_audit(store, portal, client)
    tiktok = where(result)[("property:contacts:tiktok_handle", None)].defect_id
    assert tiktok is not None
    draft = accept_defects(store, "demo", [tiktok], Actor("Rita"), "keep it")
    with pytest.raises(UsageError, match="already accepted"):
        accept_defects(store, "demo", [tiktok], Actor("Rita"), "twice")
    with pytest.raises(UsageError, match="is not the proposed version"):
        decide_baseline(store, "demo", 1, True, Actor("Council"), "wrong one")
    rejected = decide_baseline(store, "demo", draft.version, False, Actor("Council"), "no")
    assert (rejected.baseline.status.value, rejected.defects) == ("rejected", (tiktok,))
    assert store.defect("demo", tiktok).accepted_version is None
    assert store.latest_baseline("demo").version == 1  # type: ignore[union-attr]
    # the defect can be accepted again, into a new proposal: v3 (v2 stays rejected on record)
    assert accept_defects(store, "demo", [tiktok], Actor("Rita"), "second try").version == 3
    versions = [(b.version, b.status.value) for b in CouncilStore(store).versions("demo")]
    assert versions == [(1, "approved"), (2, "rejected"), (3, "proposed")]


def test_a_change_outside_its_window_or_before_approval_is_a_defect(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    snapshot = take_snapshot(store, portal, client)
    propose_from_snapshot(store, "demo", snapshot, Actor("Rita"), "first")
    decide_baseline(store, "demo", None, True, Actor("Council"), "ok")
    governance = CouncilStore(store)
    now = datetime.now(UTC)
    planned = [parse_planned_change("add property:contacts:tiktok_handle")]
    pending = governance.create_request(
        "demo",
        title="pending",
        by="Rita",
        at=now,
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=1),
        changes=planned,
        note="",
    )
    expired = governance.create_request(
        "demo",
        title="expired",
        by="Rita",
        at=now,
        valid_from=now - timedelta(days=9),
        valid_until=now - timedelta(days=2),
        changes=planned,
        note="",
    )
    governance.decide_request("demo", expired.id, True, "Council", "was fine then", now)
    emulator.load(portal_dirs["night2"])
    result = run_audit(store, portal, client)
    change = where(result)[("property:contacts:tiktok_handle", None)]
    assert change.classification is Classification.DEFECT  # CR-pending is not approved
    governance.decide_request("demo", pending.id, True, "Council", "ok", now)
    with pytest.raises(UsageError, match="only a proposed CR"):
        governance.decide_request("demo", pending.id, False, "Council", "changed mind", now)
    again = run_audit(store, portal, client)
    planned_now = where(again)[("property:contacts:tiktok_handle", None)]
    assert (planned_now.classification, planned_now.change_request) == (
        Classification.PLANNED,
        pending.id,
    )
    # its defect from the night before resolves: the change is planned now
    defect = store.defect("demo", change.defect_id or 0)
    assert defect.status is DefectStatus.RESOLVED
    assert defect.resolution == f"planned by CR-{pending.id}: pending"
