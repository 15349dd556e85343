"""The web app's dashboard, health page and side-by-side baseline diff, over loopback on
SQLite and Postgres: each reads through the services what the CLI reads, role-checked, its
HubSpot strings escaped, its chart inline SVG (no script)."""

from __future__ import annotations

import html
import re
import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hubaudit.model.changes import Severity
from hubaudit.services.baselines import baseline_changelog, baseline_versions
from hubaudit.services.kpis import portal_kpis
from hubaudit.services.lists import open_defect_counts
from hubaudit.services.runs import recent_runs
from hubaudit.services.triage import DefectQuery, list_defects
from hubaudit.store.runs import RunStore

from .web_support import SCRIPT_LABEL, World, csrf_of


@pytest.fixture
def world(web_world: World) -> World:
    return web_world


def test_the_dashboard_shows_the_services_kpis_and_the_report_chart(world: World) -> None:
    vera = world.sign_in("vera")  # a viewer may read it
    assert 'href="/portals/demo/dashboard"' in vera.get("/").text
    page = vera.get("/portals/demo/dashboard")
    assert page.status_code == 200
    kpis = portal_kpis(world.store, "demo", None, datetime.now(UTC)).kpis
    assert kpis.unplanned > 0  # night 2 drifted
    found = re.search(r'<dd class="unplanned">(\d+)</dd>', page.text)
    assert found and int(found.group(1)) == kpis.unplanned
    counts = open_defect_counts(world.store, "demo")
    opened = re.search(r'<dd class="open-defects">(\d+)', page.text)
    assert opened and int(opened.group(1)) == sum(counts.values()) > 0
    # the report's chart: inline SVG, one bar group per week, nothing run
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text
    assert page.text.count("<title>") == len(kpis.weeks) + 1  # and the page's own
    assert "<script" not in page.text
    for week in kpis.weeks:
        assert f"<td>{week.week}</td>" in page.text
    # a longer period has more weeks; a period not offered is refused
    longer = vera.get("/portals/demo/dashboard?weeks=26").text
    assert longer.count("<tr><td>20") == 26
    for bad in ("7", "abc", "-1"):
        refused = vera.get(f"/portals/demo/dashboard?weeks={bad}")
        assert refused.status_code == 400 and "weeks" in refused.text
    assert vera.get("/portals/nope/dashboard").status_code == 404
    anonymous = world.client().get("/portals/demo/dashboard")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_the_health_page_shows_what_health_and_runs_show(world: World) -> None:
    vera = world.sign_in("vera")
    page = vera.get("/health")
    assert page.status_code == 200
    assert '<dd class="database">ok</dd>' in page.text
    assert "no live scheduler or worker" in page.text
    runs = recent_runs(world.store, None, 30)
    assert runs  # the audit of night 2 left a run
    shown = [int(i) for i in re.findall(r"<tr><td>(\d+)</td><td><a href=\"/portals/", page.text)]
    assert shown == [r.id for r in runs]
    # a worker on this host beating now is alive; one stopped is not
    now = datetime.now(UTC)
    store = RunStore(world.store)
    store.heartbeat("w-fresh", socket.gethostname(), 1, "worker", now, started=True)
    store.heartbeat("w-gone", socket.gethostname(), 2, "worker", now, started=True, stopped=True)
    store.heartbeat("w-old", socket.gethostname(), 3, "worker", now - timedelta(hours=1))
    page = vera.get("/health")
    assert "worker w-fresh: heartbeat" in page.text
    assert "w-gone" not in page.text and "w-old" not in page.text
    assert "no live scheduler or worker" not in page.text
    assert vera.get("/health?stale_after=x").status_code == 400


def test_any_two_baseline_versions_side_by_side(world: World) -> None:
    rita = world.sign_in("rita")
    defect = next(
        d for d in list_defects(world.store, "demo", DefectQuery()) if "renewal_type" in d.key
    )
    token = csrf_of(rita.get(f"/portals/demo/defects/{defect.id}").text)
    accepted = rita.post(
        "/portals/demo/defects",
        data={"csrf": token, "ids": str(defect.id), "action": "accept", "note": "keep"},
    )
    assert accepted.status_code == 303
    assert [v.baseline.version for v in baseline_versions(world.store, "demo")] == [1, 2]

    vera = world.sign_in("vera")
    listing = vera.get("/portals/demo/baselines").text
    assert 'action="/portals/demo/baselines/diff"' in listing
    assert 'name="from"' in listing and 'name="to"' in listing
    page = vera.get("/portals/demo/baselines/diff?from=1&to=2")
    assert page.status_code == 200
    changes = baseline_changelog(world.store, "demo", 1, 2).changes
    assert changes
    assert f"{len(changes)} change" in page.text
    assert page.text.count('<tr class="op-') == len(changes)
    # the label holding markup stays text
    assert SCRIPT_LABEL not in page.text and html.escape(SCRIPT_LABEL) in page.text
    # either way round
    back = vera.get("/portals/demo/baselines/diff?from=2&to=1")
    assert back.status_code == 200 and back.text.count('<tr class="op-') == len(changes)

    assert vera.get("/portals/demo/baselines/diff?from=1&to=1").status_code == 400
    assert vera.get("/portals/demo/baselines/diff?from=1&to=9").status_code == 404
    assert vera.get("/portals/demo/baselines/diff?from=x&to=2").status_code == 400
    assert vera.get("/portals/demo/baselines/diff?to=2").status_code == 400


def test_the_open_defect_counts_match_the_defect_list(world: World) -> None:
    counts = open_defect_counts(world.store, "demo")
    page = world.sign_in("carl").get("/portals/demo/dashboard").text
    for severity in Severity:
        if counts.get(severity):
            assert f'<span class="sev-{severity.value}">{counts[severity]} ' in page


def _payload(world: World, key: str) -> dict[str, object]:
    from hubaudit.services.baselines import latest_items

    payload = latest_items(world.store, "demo", {key}).payload(key)
    assert isinstance(payload, dict)
    return payload


def test_the_cr_form_checks_values_against_the_latest_snapshot(world: World) -> None:
    from hubaudit.services.change_requests import change_requests

    key = "property:deals:renewal_type"
    payload = _payload(world, key)
    text = next(f for f, v in sorted(payload.items()) if isinstance(v, str))
    flag = next(f for f, v in sorted(payload.items()) if isinstance(v, bool))
    rita = world.sign_in("rita")
    window = {"from": "2020-01-01", "until": "2099-12-31"}
    new, crs = "/portals/demo/crs/new", "/portals/demo/crs"

    def post(changes: str) -> httpx.Response:
        token = csrf_of(rita.get(new).text)
        return rita.post(crs, data={"csrf": token, "title": "T", "changes": changes, **window})

    before = len(change_requests(world.store, "demo"))
    refusals = {
        f"modify {key} no_such_field=1": "has no field 'no_such_field'",
        f"modify {key} {text}=123": f"{text} is text in the latest snapshot",
        f"modify {key} {flag}=maybe": f"{flag} is true or false in the latest snapshot",
        f"modify {key} {text}=[1]": "not a list",
    }
    for changes, message in refusals.items():
        refused = post(changes)
        assert refused.status_code == 400, changes
        alert = re.search(r'role="alert">(.*?)</p>', refused.text, re.S)
        assert alert and message in html.unescape(alert.group(1)), (changes, alert.group(1))
        # the form keeps what was typed
        assert html.escape(changes, quote=True) in refused.text or changes in refused.text
    assert len(change_requests(world.store, "demo")) == before  # nothing written

    # the same item with values of the item's own types is accepted
    made = post(f"modify {key} {text}='\"123\"' {flag}={str(not payload[flag]).lower()}")
    assert made.status_code == 303, made.text
    assert len(change_requests(world.store, "demo")) == before + 1


def test_the_kpis_lean_defect_read_matches_the_whole_defects(world: World) -> None:
    from hubaudit.model.defects import DefectStatus
    from hubaudit.store.reports import ReportStore

    whole = world.store.defects("demo")
    lean = ReportStore(world.store).defect_times("demo")
    assert [(t.status, t.first_seen_at, t.resolved_at) for t in lean] == [
        (d.status, d.first_seen_at, d.resolved_at) for d in whole
    ]
    assert ReportStore(world.store).defect_times("no-such-portal") == []
    kpis = portal_kpis(world.store, "demo", None, datetime.now(UTC)).kpis
    still_open = [d for d in whole if d.resolved_at is None and d.status is not DefectStatus.WAIVED]
    assert sum(kpis.open_by_age.values()) == len(still_open) > 0


def test_the_dashboard_reads_a_snapshots_items_once_while_it_is_the_latest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hubaudit.analysis.canonical import make_item
    from hubaudit.services import kpis

    read: list[object] = []
    real = kpis.snapshot_view

    def counted(store: object, point: object) -> object:
        read.append(point)
        return real(store, point)  # type: ignore[arg-type]

    monkeypatch.setattr(kpis, "snapshot_view", counted)
    now = datetime.now(UTC)
    fresh = kpis.portal_kpis(world.store, "demo", None, now).kpis
    first = kpis.portal_kpis(world.store, "demo", None, now, reuse=True).kpis
    again = kpis.portal_kpis(world.store, "demo", None, now, reuse=True).kpis
    assert first == again == fresh
    assert len(read) == 2  # the plain call and the first reuse; the second reused it
    # a new latest snapshot is read afresh
    latest = world.store.latest_snapshot("demo")
    assert latest is not None
    items = world.store.snapshot_items(latest.id)
    hashes = {h for i in items.values() for h in (i.canonical_hash, i.raw_hash)}
    payloads = world.store.load_payloads(hashes)
    key = next(k for k in sorted(items) if k.startswith("property:"))
    rest = [
        make_item(i.kind, k, payloads[i.raw_hash], payloads[i.canonical_hash])  # type: ignore[arg-type]
        for k, i in items.items()
        if k != key
    ]
    world.store.save_snapshot("demo", now, latest.coverage, rest)
    after = kpis.portal_kpis(world.store, "demo", None, now, reuse=True).kpis
    assert len(read) == 3 and after.items == fresh.items - 1


def test_the_defect_list_names_items_and_fields_as_the_cli_does(world: World) -> None:
    client = world.sign_in("carl")
    page = html.unescape(client.get("/portals/demo/defects").text)
    links = re.findall(r'<a href="/portals/demo/defects/\d+">([^<]*)</a>', page)
    assert "sam.okafor@northwind.example (Sam Okafor)" in links
    assert "Lead nurture - EMEA" in links
    assert not [x for x in links if re.fullmatch(r"(user|workflow|team):\d+", x)]
    assert 'stages["Waiting on us"]' in page and "stages.3" not in page
    assert "7 field changes" in page  # deal_source's retype: one defect
    # the text filter finds a defect by its display name
    found = html.unescape(client.get("/portals/demo/defects?q=sam.okafor").text)
    assert "sam.okafor@northwind.example (Sam Okafor)" in found
