"""Proposing a baseline version and releasing change requests from the browser, on SQLite and
Postgres, through the services ``baseline propose`` and ``baseline release`` call: four eyes
after a proposal, a snapshot that did not read every part refused with its reason, one
proposal at a time, roles checked on the server (a forged POST of a lower role gets 403), the
CSRF token required, every decision logged under the signed-in person. And the defect list's
bulk actions."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
import pytest

from hubaudit.cli import main
from hubaudit.emulator import PortalEmulator
from hubaudit.emulator.server import missing_scopes_body
from hubaudit.model.baselines import BaselineStatus
from hubaudit.model.change_requests import CRStatus
from hubaudit.model.defects import DefectStatus
from hubaudit.services.baselines import baseline_versions
from hubaudit.services.change_requests import change_requests
from hubaudit.services.log import governance_log
from hubaudit.services.triage import DefectQuery, list_defects

from .test_web import DEFECTS, act, defects_of, open_ids
from .web_support import World, csrf_of

BASELINES = "/portals/demo/baselines"
RELEASE = "/portals/demo/baselines/release"
WINDOW = {"from": "2020-01-01", "until": "2099-12-31"}


@pytest.fixture
def world(web_world: World) -> World:
    return web_world


def versions(world: World) -> list[tuple[int, BaselineStatus, str]]:
    return [
        (r.baseline.version, r.baseline.status, r.baseline.proposed_by)
        for r in baseline_versions(world.store, "demo")
    ]


def shown(response: httpx.Response) -> str:
    """The page's text as a reader sees it: entities decoded, runs of white space one space."""
    return " ".join(html.unescape(response.text).split())


def test_a_proposal_from_the_browser_is_approved_by_another_member_of_the_council(
    world: World,
) -> None:
    ada = world.sign_in("ada")
    page = ada.get(BASELINES).text
    assert "Propose the latest snapshot as the next version" in page
    proposed = act(ada, BASELINES, note="night 2 is the architecture now")
    assert proposed.status_code == 303
    assert proposed.headers["location"] == f"{BASELINES}/2?done=proposed"
    assert versions(world)[-1] == (2, BaselineStatus.PROPOSED, "ada")
    entry = governance_log(world.store, "demo")[-1]
    assert (entry.actor, entry.action, entry.note) == (
        "ada",
        "baseline.proposed",
        "night 2 is the architecture now",
    )

    # the proposer (an admin, who may decide) is offered no approval, and one forged is refused
    review = ada.get(proposed.headers["location"])
    assert "Proposed as the next baseline version" in review.text
    assert "four eyes" in review.text and 'value="approve"' not in review.text
    refused = act(ada, f"{BASELINES}/2", decision="approve", note="mine")
    assert refused.status_code == 403 and "four eyes" in refused.text
    assert versions(world)[-1][1] is BaselineStatus.PROPOSED

    carl = world.sign_in("carl")
    assert 'value="approve"' in carl.get(f"{BASELINES}/2").text
    approved = act(carl, f"{BASELINES}/2", decision="approve", note="agreed")
    assert approved.status_code == 303
    version = baseline_versions(world.store, "demo")[-1].baseline
    assert (version.status, version.proposed_by, version.approved_by) == (
        BaselineStatus.APPROVED,
        "ada",
        "carl",
    )
    log = [(e.actor, e.action) for e in governance_log(world.store, "demo")][-2:]
    assert log == [("ada", "baseline.proposed"), ("carl", "baseline.approved")]


def test_one_proposal_at_a_time_roles_and_csrf(world: World) -> None:
    before = versions(world)
    # a viewer and a council member (who decides, not proposes) see no form; forged: 403
    for name in ("vera", "carl"):
        person = world.sign_in(name)
        assert "Propose the latest snapshot" not in person.get(BASELINES).text
        assert act(person, BASELINES, note="forged").status_code == 403, name
    rita = world.sign_in("rita")
    # no CSRF token: refused
    missing = rita.post(BASELINES, data={"note": "no token"})
    assert missing.status_code == 403 and "CSRF" in missing.text
    # a proposal needs its note; an unknown snapshot is refused; both on the page, as words
    no_note = act(rita, BASELINES, note=" ")
    assert no_note.status_code == 400 and "needs a note" in no_note.text
    assert 'name="snapshot"' in no_note.text  # the form again, to correct
    unknown = act(rita, BASELINES, note="x", snapshot="999")
    assert unknown.status_code == 400 and "no complete snapshot 999" in shown(unknown)
    letters = act(rita, BASELINES, note="x", snapshot="latest!")
    assert letters.status_code == 400 and "not a number" in letters.text
    assert versions(world) == before

    assert act(rita, BASELINES, note="tidy-up").status_code == 303
    assert versions(world)[-1] == (2, BaselineStatus.PROPOSED, "rita")
    # while it awaits the council, the page says so instead of offering the form
    page = shown(rita.get(BASELINES))
    assert "v2 is proposed and awaits the council's decision" in page
    assert "Propose the latest snapshot as the next version" not in page
    # and a second proposal (a stale page, a second tab) is refused with the service's reason
    again = rita.post(BASELINES, data={"csrf": csrf_of(page), "note": "again"})
    assert again.status_code == 400
    assert "baseline v2 of 'demo' is already proposed: approve or reject it first" in shown(again)
    assert len(versions(world)) == len(before) + 1
    assert [e.action for e in governance_log(world.store, "demo")].count("baseline.proposed") == 2


def test_a_snapshot_that_did_not_read_every_part_is_refused_with_its_reason(
    world: World, emulator: PortalEmulator, tmp_path: Path
) -> None:
    emulator.inject("/crm/v3/pipelines/tickets", 403, body=missing_scopes_body(["tickets"]))
    main(["--config", str(tmp_path / "hubaudit.toml"), "snapshot", "--portal", "demo"])
    latest = world.store.latest_snapshot("demo")
    assert latest is not None
    assert "pipeline:tickets" in {c.scope for c in latest.coverage if c.status.value == "failed"}
    before, log = versions(world), governance_log(world.store, "demo")

    rita = world.sign_in("rita")
    page = shown(rita.get(BASELINES))
    assert f"Snapshot #{latest.id} did not read every part of the portal (pipeline:tickets)" in page
    refused = act(rita, BASELINES, note="the latest")
    assert refused.status_code == 400
    reason = shown(refused)
    assert f"snapshot {latest.id} did not read every part of the portal" in reason
    assert "MISSING_SCOPES" in reason and "a baseline must come from a complete snapshot" in reason
    assert versions(world) == before and governance_log(world.store, "demo") == log


def _create(rita: httpx.Client) -> list[int]:
    """Five CRs, by rita: three the portal implemented on night 2, two it did not."""
    ids = []
    for title, change in (
        ("TikTok", "add property:contacts:tiktok_handle type=string"),
        ("Drop competitor", "remove property:deals:competitor"),
        ("Free-text source", "modify property:deals:deal_source type=string fieldType=text"),
        ("Not yet", "add property:contacts:not_done_yet type=string"),
        ("Never", "add property:contacts:never type=string"),
    ):
        made = act(rita, "/portals/demo/crs/new", "/portals/demo/crs", title=title,
                   changes=change, **WINDOW)  # fmt: skip
        assert made.status_code == 303, made.text
        ids.append(int(re.findall(r"/crs/(\d+)", made.headers["location"])[0]))
    return ids


def test_implemented_change_requests_are_released_into_the_proposal(world: World) -> None:
    rita, carl = world.sign_in("rita"), world.sign_in("carl")
    tiktok, competitor, source, not_done, never = _create(rita)
    page = f"/portals/demo/crs/{tiktok}"
    # not approved yet: no release button, and a forged release is refused as words
    assert "Release into the proposal" not in rita.get(page).text
    early = act(rita, page, RELEASE, ids=str(tiktok))
    assert early.status_code == 400 and f"CR-{tiktok} is proposed" in early.text
    for request in (tiktok, competitor, source, not_done):
        crs = f"/portals/demo/crs/{request}"
        assert act(carl, crs, decision="approve", note="go").status_code == 303
    rejected = act(carl, f"/portals/demo/crs/{never}", decision="reject", note="no")
    assert rejected.headers["location"] == f"/portals/demo/crs/{never}?done=rejected"
    assert "Rejected." in rita.get(rejected.headers["location"]).text
    entry = governance_log(world.store, "demo")[-1]
    assert (entry.actor, entry.action, entry.subject) == ("carl", "cr.rejected", f"CR-{never}")
    refused = act(rita, page, RELEASE, ids=str(never))
    assert refused.status_code == 400 and f"CR-{never} is rejected" in refused.text
    # not implemented, or unknown: refused as words, nothing written
    log = governance_log(world.store, "demo")
    assert "Release into the proposal" not in rita.get(f"/portals/demo/crs/{not_done}").text
    pending = act(rita, page, RELEASE, ids=str(not_done))
    assert pending.status_code == 400 and "only what is implemented" in pending.text
    unknown = act(rita, page, RELEASE, ids="99")
    assert unknown.status_code == 400 and "has no change request CR-99" in shown(unknown)
    none = act(rita, page, RELEASE)
    assert none.status_code == 400 and "choose at least one" in none.text
    # a viewer and a council member may not release; without the CSRF token nobody may
    for person in (world.sign_in("vera"), carl):
        assert act(person, page, RELEASE, ids=str(tiktok)).status_code == 403
    assert rita.post(RELEASE, data={"ids": str(tiktok)}).status_code == 403
    assert governance_log(world.store, "demo") == log and len(versions(world)) == 1

    # one, from its own page: no proposal yet, so one is proposed from v1
    assert "Release into the proposal" in rita.get(page).text
    vera = world.sign_in("vera")
    assert all(RELEASE not in p.get(page).text for p in (vera, carl))  # not theirs to do
    released = act(rita, page, RELEASE, ids=str(tiktok), note="marketing needs it")
    assert released.status_code == 303
    assert released.headers["location"] == f"{BASELINES}/2?done=released"
    assert versions(world)[-1] == (2, BaselineStatus.PROPOSED, "rita")
    assert "Release into the proposal" not in rita.get(page).text
    # the rest, several at once, from the proposal's review page
    review = rita.get(released.headers["location"]).text
    assert "Released into the proposed baseline version." in review
    offered = re.findall(r'name="ids" value="(\d+)"', review)
    assert sorted(map(int, offered)) == sorted([competitor, source])
    assert all(RELEASE not in p.get(f"{BASELINES}/2").text for p in (vera, carl))
    both = act(rita, f"{BASELINES}/2", RELEASE, ids=[str(competitor), str(source)])
    assert both.status_code == 303
    record = baseline_versions(world.store, "demo")[-1]
    assert sorted(record.requests) == sorted([tiktok, competitor, source])
    entries = [(e.actor, e.action, e.subject) for e in governance_log(world.store, "demo")][-2:]
    assert entries == [
        ("rita", "crs.released", f"CR-{tiktok}"),
        ("rita", "crs.released", f"CR-{competitor}, CR-{source}"),
    ]
    assert governance_log(world.store, "demo")[-2].note == "marketing needs it"
    assert 'name="ids"' not in rita.get(f"{BASELINES}/2").text  # nothing left to release

    # the council approves: the CRs are released in v2
    assert act(carl, f"{BASELINES}/2", decision="approve", note="v2").status_code == 303
    statuses = {p.request.id: p.request.status for p in change_requests(world.store, "demo")}
    assert statuses[tiktok] is CRStatus.RELEASED and statuses[not_done] is CRStatus.APPROVED
    assert statuses[never] is CRStatus.REJECTED
    assert "baseline v2" in rita.get(page).text


def test_the_defect_list_assigns_waives_and_accepts_several_at_once(world: World) -> None:
    first, second, third, fourth = open_ids(world)[:4]
    vera = world.sign_in("vera")
    assert 'value="assign"' not in vera.get(DEFECTS).text
    forged = act(vera, DEFECTS, ids=[str(first)], action="assign", owner="v@x.example")
    assert forged.status_code == 403

    rita = world.sign_in("rita")
    listing = rita.get(DEFECTS).text
    for action in ("acknowledge", "resolve", "accept", "assign", "waive"):
        assert f'name="action" value="{action}"' in listing, action
    pair = [str(first), str(second)]
    assigned = act(rita, DEFECTS, ids=pair, action="assign", owner="sam@northwind.example",
                   due="2099-01-31", back="list")  # fmt: skip
    assert assigned.status_code == 303
    assert assigned.headers["location"] == f"{DEFECTS}?done=assigned"
    assert "Assigned." in rita.get(assigned.headers["location"]).text
    owners = {d.id: (d.owner, str(d.due)) for d in list_defects(world.store, "demo", DefectQuery())}
    assert owners[first] == owners[second] == ("sam@northwind.example", "2099-01-31")
    no_reason = act(rita, DEFECTS, ids=pair, action="waive", until="2099-01-31", back="list")
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    waived = act(rita, DEFECTS, ids=pair, action="waive", reason="Q1", until="2099-01-31",
                 back="list")  # fmt: skip
    assert waived.status_code == 303
    accepted = act(rita, DEFECTS, ids=[str(third), str(fourth)], action="accept", note="keep",
                   back="list")  # fmt: skip
    assert accepted.status_code == 303
    statuses = defects_of(world)
    assert statuses[first] is statuses[second] is DefectStatus.WAIVED
    assert set(baseline_versions(world.store, "demo")[-1].defects) == {third, fourth}
    actions = [(e.actor, e.action) for e in governance_log(world.store, "demo")]
    for action in ("defects.assigned", "defects.waived", "defects.accepted"):
        assert ("rita", action) in actions
