"""Findings tracked like defects, on SQLite and Postgres: one per breach, seen again, resolved
when fixed, reopened, waivable; never resolved by a part that could not be read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from hubaudit.config import PolicySettings
from hubaudit.errors import UsageError
from hubaudit.model.findings import FindingStatus
from hubaudit.services.audit_run import record_findings
from hubaudit.store.council import CouncilStore
from hubaudit.store.findings import FindingStore
from hubaudit.store.repository import Store

from .test_policies import NOW, Portal, prop, user


def night(n: int) -> Callable[[], datetime]:
    return lambda: NOW + timedelta(days=n)


def test_a_breach_is_one_finding_seen_again_resolved_when_fixed_and_reopened(
    store: Store,
) -> None:
    portal = Portal()
    portal.properties["contacts"].append(prop("tiktok", "TikTok", description=""))
    update, present, _ = record_findings(store, portal.view(), {}, night(0))
    (finding,) = present
    assert (finding.policy, finding.status, update.opened) == (
        "property-description",
        FindingStatus.OPEN,
        (finding.id,),
    )

    update, present, _ = record_findings(store, portal.view(), {}, night(1))
    assert update.seen_again == (finding.id,) and update.opened == ()
    assert present[0].occurrences == 2
    assert present[0].first_seen_at == NOW and present[0].last_seen_at == NOW + timedelta(days=1)

    portal.properties["contacts"][-1]["description"] = "Handle on TikTok, set by marketing."
    update, present, resolved = record_findings(store, portal.view(), {}, night(2))
    assert present == [] and update.resolved == (finding.id,)
    assert resolved[0].resolution == "fixed: no longer breached"

    portal.properties["contacts"][-1]["description"] = ""
    update, present, _ = record_findings(store, portal.view(), {}, night(3))
    assert update.reopened == (finding.id,)
    assert present[0].status is FindingStatus.OPEN and present[0].resolution is None


def test_findings_reopened_together_are_written_in_one_statement_not_one_a_row(
    store: Store,
) -> None:
    portal = Portal()
    tiktoks = [prop(f"tiktok_{n}", f"TikTok {n}", description="") for n in range(6)]
    portal.properties["contacts"] += tiktoks
    record_findings(store, portal.view(), {}, night(0))
    for made in tiktoks:
        made["description"] = "Handle on TikTok."
    record_findings(store, portal.view(), {}, night(1))  # all six resolved
    for made in tiktoks:
        made["description"] = ""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE FINDINGS"):
            statements.append(statement)

    sa.event.listen(store.engine, "after_cursor_execute", seen)
    try:
        update, present, _ = record_findings(store, portal.view(), {}, night(2))
    finally:
        sa.event.remove(store.engine, "after_cursor_execute", seen)
    assert len(update.reopened) == 6 and all(f.status is FindingStatus.OPEN for f in present)
    assert all(f.resolution is None and f.resolved_at is None for f in present)
    assert len(statements) == 2  # the sightings' values, then reopening: each for every row


def test_a_part_that_could_not_be_read_neither_sees_nor_resolves_its_findings(
    store: Store,
) -> None:
    portal = Portal()
    portal.properties["contacts"].append(prop("tiktok", "TikTok", description=""))
    record_findings(store, portal.view(), {}, night(0))

    portal.unread.add("property:contacts")  # 403 on contacts' properties tonight
    update, present, resolved = record_findings(store, portal.view(), {}, night(1))
    assert (update.resolved, present, resolved) == ((), [], [])

    # read, but without the sensitive properties: an absent item is unknown, not fixed
    portal.unread.clear()
    portal.unverified["property:contacts"] = ("dataSensitivity=sensitive",)
    portal.properties["contacts"].pop()
    update, _, _ = record_findings(store, portal.view(), {}, night(2))
    assert update.resolved == ()
    (kept,) = FindingStore(store).findings("acme")
    assert kept.status is FindingStatus.OPEN and kept.occurrences == 1

    portal.unverified.clear()  # read whole, and gone: deleted, so no longer a breach
    update, _, _ = record_findings(store, portal.view(), {}, night(3))
    assert update.resolved == (kept.id,)


def test_a_waiver_covers_the_finding_as_it_was_and_ends_when_it_changes_or_runs_out(
    store: Store,
) -> None:
    portal = Portal()
    portal.users += [user(str(n), f"u{n}@x.example", True) for n in range(3, 6)]  # 4 admins
    _, (finding,), _ = record_findings(store, portal.view(), {}, night(0))
    findings = FindingStore(store)
    with pytest.raises(UsageError, match="no finding 999"):
        findings.waive("acme", [999], by="Rita", reason="x", until=NOW, at=NOW)
    (waived,) = findings.waive(
        "acme",
        [finding.id],
        by="Rita",
        reason="migration week",
        until=NOW + timedelta(days=5),
        at=NOW,
    )
    assert waived.status is FindingStatus.WAIVED and waived.waiver is not None
    with pytest.raises(UsageError, match="only open ones can be waived"):
        findings.waive("acme", [finding.id], by="Rita", reason="x", until=NOW, at=NOW)
    log = CouncilStore(store).log("acme")
    assert [(e.action, e.actor, e.note) for e in log] == [
        ("findings.waived", "Rita", "migration week")
    ]

    update, (same,), _ = record_findings(store, portal.view(), {}, night(1))
    assert same.status is FindingStatus.WAIVED and update.seen_again == (finding.id,)

    portal.users.append(user("6", "u6@x.example", True))  # a fifth: not what was waived
    update, (reopened,), _ = record_findings(store, portal.view(), {}, night(2))
    assert update.reopened == (finding.id,)
    assert reopened.status is FindingStatus.OPEN and reopened.waiver is None

    findings.waive(
        "acme", [finding.id], by="Rita", reason="again", until=NOW + timedelta(days=4), at=NOW
    )
    update, (expired,), _ = record_findings(store, portal.view(), {}, night(5))
    assert update.expired_waivers == (finding.id,)
    assert expired.status is FindingStatus.OPEN
    actions = [e.action for e in CouncilStore(store).log("acme")]
    assert actions.count("finding-waiver.expired") == 1
    assert "finding-waiver.ended" in actions


def test_turning_a_policy_off_resolves_its_findings(store: Store) -> None:
    portal = Portal()
    portal.properties["contacts"].append(prop("RegionCode", "Region code"))
    _, (finding,), _ = record_findings(store, portal.view(), {}, night(0))
    off = {"property-naming": PolicySettings("property-naming", enabled=False)}
    update, present, resolved = record_findings(store, portal.view(), off, night(1))
    assert present == [] and update.resolved == (finding.id,)
    assert resolved[0].resolution == "its policy is no longer enabled"


def test_kpis_count_each_change_once_as_it_was_first_seen(store: Store) -> None:
    """A defect later waived, or planned after the fact, is one unplanned change; ignored
    changes are not counted; open defects by age are those open at the period's end."""
    from dataclasses import replace

    from hubaudit.model.changes import Attribution, Change, ChangeOp, Classification
    from hubaudit.model.items import Kind
    from hubaudit.services.kpis import default_since, governance_kpis, weeks_between
    from hubaudit.store.reports import ReportStore

    store_portal = Portal()
    record_findings(store, store_portal.view(), {}, night(0))  # makes the portal
    who = Attribution(user_email="ana@example.com")
    change = Change(
        Kind.PROPERTY,
        "property:deals:x",
        ChangeOp.MODIFIED,
        "label",
        ("label",),
        1,
        2,
        fingerprint="f" * 64,
        attribution=who,
    )
    noise = replace(change, fingerprint="n" * 64, classification=Classification.IGNORED)
    reports = ReportStore(store)
    reports.record_sightings("acme", [change, noise], 1, NOW)
    reports.record_sightings(
        "acme", [replace(change, classification=Classification.WAIVED)], 2, NOW + timedelta(days=1)
    )
    reports.record_sightings(
        "acme", [replace(change, classification=Classification.PLANNED)], 3, NOW + timedelta(days=2)
    )
    until = NOW + timedelta(days=3)
    kpis = governance_kpis(store, "acme", None, set(), default_since(until), until)
    assert (kpis.unplanned, kpis.planned) == (1, 0)
    assert kpis.top_changers == (("ana@example.com", 1),)
    assert len(kpis.weeks) == 12 == len(weeks_between(default_since(until), until))
    earlier = governance_kpis(
        store, "acme", None, set(), NOW - timedelta(days=30), NOW - timedelta(days=1)
    )
    assert (earlier.unplanned, sum(earlier.open_by_age.values())) == (0, 0)
