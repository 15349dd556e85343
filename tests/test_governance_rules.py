"""The governance rules as pure functions: what to write, decided without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hubaudit.errors import UsageError
from hubaudit.governance.defects import (
    DefectPlan,
    Drift,
    Resolution,
    decide_status,
    defect_writes,
    expired_waivers,
    group_drift,
    require_statuses,
)
from hubaudit.governance.findings import (
    FindingPlan,
    expired_finding_waivers,
    finding_writes,
    require_waivable,
    waive_findings,
)
from hubaudit.governance.proposals import (
    amend_proposal,
    decide_proposal,
    decide_request,
    require_acceptable,
    require_releasable,
    waive_defects,
)
from hubaudit.model.baselines import BaselineStatus
from hubaudit.model.change_requests import CRStatus
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.defects import Defect, DefectEventName, DefectStatus, FieldChange, Waiver
from hubaudit.model.findings import Breach, Finding, FindingStatus, FindingWaiver
from hubaudit.model.items import Kind

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def defect(id_: int, status: DefectStatus = DefectStatus.OPEN, after: object = "B") -> Defect:
    return Defect(
        id=id_,
        portal="p",
        fingerprint=change(id_, after).fingerprint,
        kind=Kind.PROPERTY,
        key=f"property:contacts:x{id_}",
        field="label",
        status=status,
        severity=Severity.LOW,
        before="A",
        after=after,
        first_seen_at=NOW,
        last_seen_at=NOW,
        occurrences=1,
        baseline_version=1,
        op=ChangeOp.MODIFIED,
        path=("label",),
    )


def change(id_: int, after: object = "B") -> Drift:
    """The drift of one field of item ``x{id_}``."""
    (drift,) = group_drift(
        "p",
        [
            Change(
                Kind.PROPERTY,
                f"property:contacts:x{id_}",
                ChangeOp.MODIFIED,
                "label",
                ("label",),
                "A",
                after,  # type: ignore[arg-type]
            )
        ],
    )
    return drift


def test_a_new_defect_opens_with_its_value_in_the_timeline() -> None:
    writes = defect_writes(DefectPlan(new=[change(1, after="C")]))
    ((opened, entry),) = writes.opened
    assert opened.fingerprint == change(1, after="C").fingerprint != change(1).fingerprint
    assert (entry.name, dict(entry.detail)) == (
        DefectEventName.OPENED,
        {"changes": [{"field": "label", "after": "C"}]},
    )
    assert writes.sightings == () and writes.closings == () and writes.waivers_ended == ()


def test_a_sighting_says_changed_only_when_the_drift_moved_on() -> None:
    same = (defect(1), change(1))
    moved = (defect(2), change(2, after="Z"))
    writes = defect_writes(DefectPlan(seen_again=[same, moved]))
    assert [(s.defect.id, s.reopen, [e.name for e in s.timeline]) for s in writes.sightings] == [
        (1, False, []),
        (2, False, [DefectEventName.CHANGED]),
    ]
    assert dict(writes.sightings[1].timeline[0].detail) == {
        "changes": [{"field": "label", "after": "Z"}]
    }


def test_a_reopened_defect_ends_its_waiver_and_a_resolved_one_says_how_it_closed() -> None:
    waived = defect(1, DefectStatus.WAIVED)
    gone = defect(2)
    taken = defect(3)
    plan = DefectPlan(
        reopened=[(waived, change(1, after="Z"))],
        waived=[(defect(4, DefectStatus.WAIVED), change(4))],
        resolved=[
            Resolution(gone, DefectStatus.RESOLVED, "reverted"),
            Resolution(taken, DefectStatus.ACCEPTED, "accepted into baseline v2"),
        ],
    )
    writes = defect_writes(plan)
    reopened, still_waived = writes.sightings
    assert reopened.reopen and [e.name for e in reopened.timeline] == [
        DefectEventName.CHANGED,
        DefectEventName.REOPENED,
    ]
    assert not still_waived.reopen and still_waived.timeline == ()
    assert writes.waivers_ended == (
        (1, "drift changed"),
        (2, "drift resolved"),
        (3, "drift resolved"),
    )
    assert [
        (c.resolution.defect.id, c.entry.name, dict(c.entry.detail)) for c in writes.closings
    ] == [
        (2, DefectEventName.RESOLVED, {"resolution": "reverted"}),
        (3, DefectEventName.ACCEPTED, {"resolution": "accepted into baseline v2"}),
    ]


def waiver(id_: int, defect_id: int, until: datetime, ended: datetime | None = None) -> Waiver:
    return Waiver(id_, defect_id, "ana", NOW - timedelta(days=9), "vendor fix", until, ended)


def test_only_waivers_in_force_that_ran_out_expire_in_defect_order() -> None:
    waivers = [
        waiver(1, 7, NOW),  # runs out exactly now
        waiver(2, 3, NOW - timedelta(days=1)),
        waiver(3, 5, NOW + timedelta(seconds=1)),  # still in force
        waiver(4, 2, NOW - timedelta(days=2), ended=NOW - timedelta(days=3)),  # ended already
    ]
    expired = expired_waivers(waivers, NOW)
    assert [e.waiver.defect_id for e in expired] == [3, 7]
    first = expired[0]
    until = (NOW - timedelta(days=1)).isoformat()
    assert (first.entry.name, dict(first.entry.detail)) == (
        DefectEventName.WAIVER_EXPIRED,
        {"until": until},
    )
    assert (first.log.actor, first.log.action, first.log.subject) == (
        "hubaudit",
        "waiver.expired",
        "defect #3",
    )
    assert first.log.note == f"waiver (vendor fix) ended {until}; the defect is open again"


def test_a_decision_needs_every_defect_to_exist_in_an_allowed_status() -> None:
    statuses = {1: DefectStatus.OPEN, 2: DefectStatus.RESOLVED}
    allowed = {DefectStatus.OPEN, DefectStatus.ACKNOWLEDGED}
    require_statuses(statuses, "p", [1], allowed, "resolved")
    with pytest.raises(UsageError, match="portal 'p' has no defect 9"):
        require_statuses(statuses, "p", [1, 9], allowed, "resolved")
    with pytest.raises(
        UsageError, match="defect 2 is resolved; only acknowledged or open defects can become x"
    ):
        require_statuses(statuses, "p", [1, 2], allowed, "x")


def test_resolving_by_hand_names_the_person_and_acknowledging_keeps_no_resolution() -> None:
    resolved = decide_status([3, 1], DefectStatus.RESOLVED, "ana", "fixed in HubSpot")
    assert resolved.resolution == "resolved by ana: fixed in HubSpot"
    assert resolved.entry.name is DefectEventName.RESOLVED
    assert (resolved.log.action, resolved.log.subject, dict(resolved.log.detail)) == (
        "defects.resolved",
        "defects #1, #3",
        {"defects": [1, 3]},
    )
    assert decide_status([1], DefectStatus.RESOLVED, "ana", "").resolution == "resolved by ana"
    acked = decide_status([1], DefectStatus.ACKNOWLEDGED, "bo", "")
    assert acked.resolution is None and acked.entry.name is DefectEventName.ACKNOWLEDGED


def finding(id_: int, status: FindingStatus, until: datetime | None = None) -> Finding:
    waiver = None if until is None else FindingWaiver("ana", NOW - timedelta(days=3), "ok", until)
    return Finding(
        id=id_,
        portal="p",
        fingerprint=f"f{id_}",
        policy="naming",
        subject=f"property:contacts:x{id_}",
        key=f"property:contacts:x{id_}",
        status=status,
        severity=Severity.LOW,
        message="m",
        detail={},
        scopes=(),
        first_seen_at=NOW,
        last_seen_at=NOW,
        occurrences=1,
        waiver=waiver,
    )


def breach(id_: int) -> Breach:
    return Breach("naming", f"property:contacts:x{id_}", "k", "m", Severity.LOW, ())


def test_a_reopened_waived_finding_loses_its_waiver_with_a_log_entry() -> None:
    was_waived = finding(1, FindingStatus.WAIVED, NOW + timedelta(days=1))
    plan = FindingPlan(
        new=[breach(5)],
        seen_again=[(finding(2, FindingStatus.OPEN), breach(2))],
        reopened=[(was_waived, breach(1)), (finding(3, FindingStatus.RESOLVED), breach(3))],
        resolved=[(finding(4, FindingStatus.OPEN), "fixed: no longer breached")],
    )
    writes = finding_writes(plan)
    assert writes.opened == (breach(5),)
    assert [(s.finding.id, s.reopen, s.log is not None) for s in writes.sightings] == [
        (2, False, False),
        (1, True, True),
        (3, True, False),
    ]
    log = writes.sightings[1].log
    assert log is not None and (log.action, log.subject) == ("finding-waiver.ended", "finding #1")
    assert [(f.id, why) for f, why in writes.resolved] == [(4, "fixed: no longer breached")]


def test_finding_waivers_expire_when_their_day_has_come() -> None:
    waived = [
        finding(4, FindingStatus.WAIVED, NOW),
        finding(2, FindingStatus.WAIVED, NOW - timedelta(hours=1)),
        finding(3, FindingStatus.WAIVED, NOW + timedelta(hours=1)),
        finding(1, FindingStatus.OPEN, NOW - timedelta(hours=1)),
    ]
    expired = expired_finding_waivers(waived, NOW)
    assert [f.id for f, _log in expired] == [2, 4]
    assert expired[1][1].note == f"waiver (ok) ended {NOW.isoformat()}; the finding is open again"


def test_only_open_findings_can_be_waived_and_the_log_says_through_when() -> None:
    require_waivable({1: FindingStatus.OPEN}, "p", [1])
    with pytest.raises(UsageError, match="portal 'p' has no finding 2"):
        require_waivable({1: FindingStatus.OPEN}, "p", [1, 2])
    with pytest.raises(UsageError, match="finding 1 is waived; only open ones can be waived"):
        require_waivable({1: FindingStatus.WAIVED}, "p", [1])
    log = waive_findings([2, 1], by="ana", reason="r", until=NOW)
    assert (log.subject, dict(log.detail)) == (
        "findings #1, #2",
        {"findings": [1, 2], "until": NOW.isoformat()},
    )
    many = waive_findings(range(1, 40), by="ana", reason="r", until=NOW)
    assert many.subject == "39 findings"


def test_approving_accepts_only_defects_still_acceptable_and_releases_the_crs() -> None:
    linked = {4: DefectStatus.OPEN, 2: DefectStatus.RESOLVED, 3: DefectStatus.WAIVED}
    decision = decide_proposal("p", 3, None, linked, [7], 12, approve=True, by="cc", note="ok")
    assert decision.status is BaselineStatus.APPROVED
    assert decision.closed == (3, 4)
    assert decision.resolution == "accepted into baseline v3 by cc"
    assert decision.request_status is CRStatus.RELEASED
    assert (decision.entry.name, dict(decision.entry.detail)) == (
        DefectEventName.ACCEPTED,
        {"by": "cc", "version": 3},
    )
    assert (decision.log.action, decision.log.subject, dict(decision.log.detail)) == (
        "baseline.approved",
        "baseline v3",
        {"defects": [3, 4], "change_requests": [7], "items": 12},
    )


def test_rejecting_unlinks_every_defect_and_cr() -> None:
    linked = {4: DefectStatus.OPEN, 2: DefectStatus.RESOLVED}
    decision = decide_proposal("p", 3, 3, linked, [7], 12, approve=False, by="cc", note="no")
    assert decision.status is BaselineStatus.REJECTED
    assert decision.closed == (2, 4) and decision.resolution is None
    assert decision.request_status is None
    assert decision.entry.name is DefectEventName.ACCEPT_REJECTED
    assert decision.log.action == "baseline.rejected"


def test_a_proposal_decision_needs_the_proposed_version() -> None:
    with pytest.raises(UsageError, match="has no proposed baseline version"):
        decide_proposal("p", None, None, {}, [], 0, approve=True, by="cc", note="")
    with pytest.raises(UsageError, match="baseline v2 of 'p' is not the proposed version"):
        decide_proposal("p", 3, 2, {}, [], 0, approve=True, by="cc", note="")


def test_an_amendment_links_defects_and_logs_the_items_sorted() -> None:
    amendment = amend_proposal(
        4,
        by="ana",
        note="n",
        action="defects.accept-proposed",
        subject="defect #1",
        defects=[1],
        requests=[],
        items={"b": None, "a": None},
    )
    assert amendment.entry.name is DefectEventName.ACCEPT_PROPOSED
    assert dict(amendment.entry.detail) == {"by": "ana", "note": "n", "version": 4}
    assert dict(amendment.log.detail)["items"] == ["a", "b"]


def test_accepting_and_releasing_twice_is_refused() -> None:
    require_acceptable({1: DefectStatus.OPEN}, set())
    with pytest.raises(UsageError, match="defect 1 is already accepted into the proposed version"):
        require_acceptable({1: DefectStatus.OPEN}, {1})
    require_releasable("p", {5: (CRStatus.APPROVED, False)}, [5])
    with pytest.raises(UsageError, match="has no change request CR-6"):
        require_releasable("p", {5: (CRStatus.APPROVED, False)}, [6])
    with pytest.raises(UsageError, match="CR-5 is approved and already in the proposed version"):
        require_releasable("p", {5: (CRStatus.APPROVED, True)}, [5])
    with pytest.raises(UsageError, match="CR-5 is proposed; only an approved CR"):
        require_releasable("p", {5: (CRStatus.PROPOSED, False)}, [5])


def test_a_change_request_is_decided_once() -> None:
    status, log = decide_request(5, CRStatus.PROPOSED, "t", approve=False, by="cc", note="n")
    assert status is CRStatus.REJECTED and (log.action, log.subject) == ("cr.rejected", "CR-5")
    with pytest.raises(UsageError, match="CR-5 is approved; only a proposed CR"):
        decide_request(5, CRStatus.APPROVED, "t", approve=True, by="cc", note="n")


def test_a_waiver_decision_records_reason_and_until() -> None:
    decision = waive_defects([2], by="ana", reason="r", until=NOW)
    assert decision.entry.name is DefectEventName.WAIVED
    assert dict(decision.entry.detail) == {"by": "ana", "reason": "r", "until": NOW.isoformat()}
    assert (decision.log.action, decision.log.subject) == ("defects.waived", "defect #2")


def test_which_defects_the_baseline_holds_is_read_in_one_go() -> None:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from hubaudit.model.baselines import BaselineInfo
    from hubaudit.model.items import StoredItem
    from hubaudit.services.audit_run import baseline_holds

    items = {
        "property:contacts:x1": StoredItem(Kind.PROPERTY, "property:contacts:x1", "h1", "h1"),
        "property:contacts:x2": StoredItem(Kind.PROPERTY, "property:contacts:x2", "h2", "h2"),
        "lifecycle_stage:contacts:lead": StoredItem(
            Kind.LIFECYCLE_STAGE, "lifecycle_stage:contacts:lead", "l1", "l1"
        ),
        "lifecycle_stage:contacts:mql": StoredItem(
            Kind.LIFECYCLE_STAGE, "lifecycle_stage:contacts:mql", "l2", "l2"
        ),
    }
    bodies: dict[str, Mapping[str, Any]] = {
        "h1": {"label": "B"},
        "h2": {"label": "A"},
        "l1": {"label": "Lead", "displayOrder": 1},
        "l2": {"label": "MQL", "displayOrder": 0},
    }
    reads: list[set[str]] = []

    def load(hashes: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        wanted = set(hashes)
        reads.append(wanted)
        return {h: bodies[h] for h in wanted}

    order = replace(
        defect(5, after=["MQL", "Lead"]),
        key="lifecycle_stage:contacts",
        kind=Kind.LIFECYCLE_STAGE,
        field="stages order",
        path=("stages order",),
    )
    added = replace(defect(6), key="property:contacts:x1", field=None, op=ChangeOp.ADDED)
    same_version = replace(defect(7), baseline_version=2)

    def listing(d: Defect) -> Defect:
        """The defect listing its one field change, as a stored defect does."""
        return replace(d, changes=(FieldChange(d.field, d.path, d.before, d.after, d.severity),))

    defects = [listing(d) for d in (defect(1), defect(2), order, added, same_version)]
    baseline = BaselineInfo(9, "p", 2, "c", NOW, "n", None, len(items), ())
    assert baseline_holds(defects, baseline, items, load) == {1, 5, 6}
    assert reads == [{"h1", "h2", "l1", "l2"}]  # one read for every defect asked about


def test_an_item_key_is_parsed_once_into_its_kind_and_the_rest() -> None:
    from hubaudit.model.items import ItemKey, kind_of

    key = ItemKey.parse("association_label:0-3:0-2:USER_DEFINED:106")
    assert key.kind is Kind.ASSOCIATION_LABEL
    assert key.segments == ("0-3", "0-2", "USER_DEFINED", "106")
    assert str(key) == "association_label:0-3:0-2:USER_DEFINED:106"
    prop = ItemKey.parse("property:deals:odd:name")
    assert (prop.object_type, prop.name) == ("deals", "odd:name")
    part = ItemKey.parse("workflow")
    assert (part.kind, part.rest, part.segments, str(part)) == (Kind.WORKFLOW, "", (), "workflow")
    assert kind_of("lifecycle_stage:contacts") is Kind.LIFECYCLE_STAGE
    with pytest.raises(ValueError, match="'nothing' is not a valid Kind"):
        ItemKey.parse("nothing:x")
