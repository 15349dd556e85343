"""The web app over loopback (uvicorn in a thread, httpx), on SQLite and Postgres: sign-in and
sessions, roles checked on the server for every request, CSRF, decisions recorded under the
signed-in person, four eyes, the proxy header only from trusted addresses, security headers
and escaping of HubSpot's strings."""

from __future__ import annotations

import dataclasses
import html
import re

import httpx
import pytest

from hubaudit.config import WebSection
from hubaudit.model.baselines import BaselineStatus
from hubaudit.model.defects import DefectStatus
from hubaudit.services.baselines import baseline_versions
from hubaudit.services.log import governance_log
from hubaudit.services.triage import DefectQuery, list_defects
from hubaudit.services.users import disable_user
from hubaudit.web.app import CSP
from hubaudit.web.server import BackgroundServer, build_app

from .web_support import SCRIPT_LABEL, SECRET, World, csrf_of


@pytest.fixture
def world(web_world: World) -> World:
    return web_world


def defects_of(world: World) -> dict[int, DefectStatus]:
    return {d.id: d.status for d in list_defects(world.store, "demo", DefectQuery())}


def open_ids(world: World) -> list[int]:
    return sorted(i for i, s in defects_of(world).items() if s is DefectStatus.OPEN)


def act(
    client: httpx.Client, page: str, to: str | None = None, **form: str | list[str]
) -> httpx.Response:
    """Submit a form of ``page`` (to ``to``, default the page) as its own form would: with the
    page's CSRF token."""
    token = csrf_of(client.get(page).text)
    return client.post(to or page.split("?")[0], data={"csrf": token, **form})


DEFECTS = "/portals/demo/defects"


def test_signing_in_and_out(world: World) -> None:
    anonymous = world.client()
    response = anonymous.get("/portals/demo/defects?severity=high")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/portals/demo/defects?severity=high"
    # a POST without a session is refused, not redirected
    assert anonymous.post("/portals/demo/defects", data={"ids": "1"}).status_code == 403

    # a wrong password and an unknown name get the same answer
    login = anonymous.get("/login")
    token = csrf_of(login.text)
    for name, password in (("rita", "wrong password!!"), ("nobody", "whatever-it-is")):
        refused = anonymous.post(
            "/login", data={"username": name, "password": password, "csrf": token}
        )
        assert refused.status_code == 401
        assert "wrong user name or password" in refused.text
    # the sign-in form's own CSRF token is required
    forged = world.client().post("/login", data={"username": "rita", "password": "x"})
    assert forged.status_code == 403

    rita = world.sign_in("rita")
    cookie = next(c for c in rita.cookies.jar if c.name == "hubaudit_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    header = rita.get("/").headers  # the cookie was set by the sign-in's 303
    assert header["content-security-policy"] == CSP
    assert rita.get("/").status_code == 200
    # a tampered cookie signs no one in
    tampered = world.client(cookies={"hubaudit_session": cookie.value[:-2] + "xx"})
    assert tampered.get("/").status_code == 303

    token = csrf_of(rita.get("/").text)
    assert rita.post("/logout", data={"csrf": token}).status_code == 303
    # the session is revoked on the server: the old cookie no longer works
    replay = world.client(cookies={"hubaudit_session": cookie.value})
    assert replay.get("/").status_code == 303


def test_a_disabled_account_loses_its_sessions_at_once(world: World) -> None:
    carl = world.sign_in("carl")
    assert carl.get("/portals/demo/baselines").status_code == 200
    disable_user(world.store, "carl")
    assert carl.get("/portals/demo/baselines").status_code == 303


def test_roles_are_checked_on_the_server_and_csrf_on_every_post(world: World) -> None:
    ids = open_ids(world)
    before = defects_of(world)
    vera = world.sign_in("vera")
    listing = vera.get("/portals/demo/defects")
    assert listing.status_code == 200 and f'href="/portals/demo/defects/{ids[0]}"' in listing.text
    detail = vera.get(f"/portals/demo/defects/{ids[0]}")
    # a viewer sees no action buttons
    for page in (listing.text, detail.text):
        assert 'name="action"' not in page and 'name="decision"' not in page
    # and a forged POST, even with the viewer's own valid CSRF token, is refused
    forged = act(
        vera, f"/portals/demo/defects/{ids[0]}", DEFECTS, ids=str(ids[0]), action="acknowledge"
    )
    assert forged.status_code == 403
    assert vera.get("/portals/demo/crs/new").status_code == 403

    rita = world.sign_in("rita")
    # a POST without the CSRF token is refused, whoever sends it
    missing = rita.post("/portals/demo/defects", data={"ids": str(ids[0]), "action": "acknowledge"})
    assert missing.status_code == 403 and "CSRF" in missing.text
    wrong = rita.post(
        "/portals/demo/defects",
        data={"ids": str(ids[0]), "action": "acknowledge", "csrf": csrf_of(vera.get("/").text)},
    )
    assert wrong.status_code == 403
    assert defects_of(world) == before
    assert governance_log(world.store, "demo")[-1].actor == "Ada"  # nothing was logged


def test_the_council_story_with_four_eyes(world: World) -> None:
    first, second, third = open_ids(world)[:3]
    rita = world.sign_in("rita")
    waived = act(
        rita,
        f"/portals/demo/defects/{first}",
        DEFECTS,
        ids=str(first),
        action="waive",
        reason="Q1 campaign",
        until="2099-01-31",
    )
    assert waived.status_code == 303
    assert waived.headers["location"] == f"/portals/demo/defects/{first}?done=waived"
    accepted = act(
        rita,
        f"/portals/demo/defects/{second}",
        DEFECTS,
        ids=str(second),
        action="accept",
        note="keep",
    )
    assert accepted.status_code == 303
    statuses = defects_of(world)
    assert statuses[first] is DefectStatus.WAIVED
    # a waiver needs its reason: refused, nothing written
    refused = act(
        rita,
        f"/portals/demo/defects/{third}",
        DEFECTS,
        ids=str(third),
        action="waive",
        until="2099-01-31",
    )
    assert refused.status_code == 400 and "reason" in refused.text
    assert defects_of(world)[third] is DefectStatus.OPEN

    # the proposer (revops) cannot approve: by role
    assert (
        act(rita, "/portals/demo/baselines/2", decision="approve", note="mine").status_code == 403
    )
    # an admin who amended the proposal cannot approve it either: four eyes
    ada = world.sign_in("ada")
    assert act(ada, f"/portals/demo/defects/{third}", DEFECTS, ids=str(third), action="accept",
               note="this too").status_code == 303  # fmt: skip
    review = ada.get("/portals/demo/baselines/2")
    assert "four eyes" in review.text and 'value="approve"' not in review.text
    four_eyes = act(ada, "/portals/demo/baselines/2", decision="approve", note="ok")
    assert four_eyes.status_code == 403 and "four eyes" in four_eyes.text
    assert baseline_versions(world.store, "demo")[-1].baseline.status is BaselineStatus.PROPOSED

    # a council member reviews the diff and approves
    carl = world.sign_in("carl")
    review = carl.get("/portals/demo/baselines/2")
    assert review.status_code == 200
    assert f'href="/portals/demo/defects/{second}"' in review.text
    assert 'value="approve"' in review.text
    approved = act(carl, "/portals/demo/baselines/2", decision="approve", note="agreed")
    assert approved.status_code == 303
    version = baseline_versions(world.store, "demo")[-1]
    assert version.baseline.status is BaselineStatus.APPROVED
    assert version.baseline.approved_by == "carl"
    assert set(version.defects) == {second, third}
    assert defects_of(world)[second] is DefectStatus.ACCEPTED

    log = [(e.actor, e.action) for e in governance_log(world.store, "demo")]
    assert ("rita", "defects.waived") in log and ("rita", "defects.accepted") in log
    assert log[-1] == ("carl", "baseline.approved")
    page = carl.get("/portals/demo/log?q=rita").text
    assert re.findall(r'<td class="actor">(\w+)</td>', page) == ["rita", "rita", "rita"]
    exported = carl.get("/portals/demo/log.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "carl,baseline.approved" in exported.text and "rita,defects.waived" in exported.text


def test_change_requests_from_the_form_with_four_eyes(world: World) -> None:
    rita = world.sign_in("rita")
    window = {"from": "2020-01-01", "until": "2099-12-31"}
    new, crs = "/portals/demo/crs/new", "/portals/demo/crs"
    bad = act(rita, new, crs, title="Typo", changes="modify property:deals:nope x=1", **window)
    assert bad.status_code == 400 and "property:deals:nope" in bad.text
    made = act(
        rita, new, crs, title="TikTok", changes="add property:contacts:tiktok_handle type=string",
        **window,
    )  # fmt: skip
    assert made.status_code == 303 and made.headers["location"].startswith("/portals/demo/crs/")
    page = made.headers["location"].split("?")[0]
    # rita may not decide; ada (admin) created nothing and may
    assert act(rita, page, decision="approve", note="go").status_code == 403
    ada = world.sign_in("ada")
    assert act(ada, page, decision="approve", note="go").status_code == 303
    assert governance_log(world.store, "demo")[-1].actor == "ada"
    assert "approved" in ada.get(page).text


def test_hubspot_strings_stay_text_and_pages_carry_no_inline_script(world: World) -> None:
    carl = world.sign_in("carl")
    label = next(
        d for d in list_defects(world.store, "demo", DefectQuery()) if d.label == SCRIPT_LABEL
    )
    for path in (
        "/",
        "/portals/demo/defects",
        f"/portals/demo/defects/{label.id}",
        "/portals/demo/baselines",
        "/portals/demo/baselines/1",
        "/portals/demo/crs",
        "/portals/demo/log",
        "/portals/demo/runs",
    ):
        response = carl.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == CSP
        assert "<script" not in response.text and "style=" not in response.text, path
    detail = carl.get(f"/portals/demo/defects/{label.id}").text
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; Renewal type" in detail
    assert carl.get("/static/app.css").status_code == 200
    assert carl.get("/portals/nowhere/defects").status_code == 404


def test_the_proxy_header_is_believed_only_from_trusted_addresses(world: World) -> None:
    def served(web: WebSection) -> BackgroundServer:
        config = dataclasses.replace(world.config, web=web)
        return BackgroundServer(build_app(config, world.store, SECRET))

    header = {"X-Forwarded-Email": "carl"}
    trusted = WebSection(trusted_proxies=("127.0.0.0/8",), proxy_header="X-Forwarded-Email")
    with served(trusted) as server, httpx.Client(base_url=server.url) as client:
        page = client.get("/portals/demo/baselines", headers=header)
        assert page.status_code == 200 and "Carl (council)" in page.text
        # the session opened for the proxy's person carries a CSRF token for forms
        token = csrf_of(page.text)
        refused = client.post("/portals/demo/baselines/1", headers=header, data={"csrf": token})
        assert refused.status_code == 400  # v1 is not proposed: the decision itself is refused
        unknown = client.get("/", headers={"X-Forwarded-Email": "mallory"})
        assert unknown.status_code == 303
    elsewhere = WebSection(trusted_proxies=("10.0.0.0/8",), proxy_header="X-Forwarded-Email")
    with served(elsewhere) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/", headers=header).status_code == 303


def test_findings_are_listed_and_waived_by_revops_only(world: World) -> None:
    from hubaudit.model.findings import FindingStatus
    from hubaudit.services.triage import list_findings

    found = list_findings(world.store, "demo")
    assert found
    target = found[0]
    vera = world.sign_in("vera")
    page = vera.get("/portals/demo/findings")
    assert page.status_code == 200 and target.message.split("'")[0][:20] in page.text
    assert 'name="ids"' not in page.text
    forged = act(vera, "/portals/demo/findings", ids=str(target.id), reason="r", until="2099-01-31")
    assert forged.status_code == 403
    rita = world.sign_in("rita")
    no_reason = act(rita, "/portals/demo/findings", ids=str(target.id), until="2099-01-31")
    assert no_reason.status_code == 400
    waived = act(
        rita, "/portals/demo/findings", ids=str(target.id), reason="legacy", until="2099-01-31"
    )
    assert waived.status_code == 303
    after = {f.id: f for f in list_findings(world.store, "demo")}
    assert after[target.id].status is FindingStatus.WAIVED
    assert after[target.id].waiver is not None and after[target.id].waiver.by == "rita"


def test_an_items_history_is_a_timeline(world: World) -> None:
    label = next(
        d for d in list_defects(world.store, "demo", DefectQuery()) if d.label == SCRIPT_LABEL
    )
    carl = world.sign_in("carl")
    detail = carl.get(f"/portals/demo/defects/{label.id}").text
    link = re.search(r'href="(/portals/demo/history\?key=[^"]+)"', detail)
    assert link is not None
    page = carl.get(link.group(1).replace("&amp;", "&"))
    assert page.status_code == 200
    assert [e for e in re.findall(r"<strong>(\w[\w ]*)</strong>", page.text)] == [
        "added",
        "changed",
    ]
    assert "&lt;script&gt;" in page.text and "<script" not in page.text
    assert carl.get("/portals/demo/history?key=property:deals:nope").status_code == 400


def test_revops_assigns_a_defect_an_owner_and_due_date_from_its_page(world: World) -> None:
    by_key = {d.key: d for d in list_defects(world.store, "demo", DefectQuery())}
    retype = by_key["property:deals:deal_source"]
    page = f"/portals/demo/defects/{retype.id}"
    # a viewer has no form, and a forged assignment is refused
    vera = world.sign_in("vera")
    assert 'value="assign"' not in vera.get(page).text
    forged = act(vera, page, DEFECTS, ids=str(retype.id), action="assign", owner="v@x.example")
    assert forged.status_code == 403
    rita = world.sign_in("rita")
    detail = html.unescape(rita.get(page).text)
    # one defect, its field changes listed with names
    assert "Field changes" in detail and 'options["Event"]' in detail and "fieldType" in detail
    bad = act(rita, page, DEFECTS, ids=str(retype.id), action="assign", due="31/01/2099")
    assert bad.status_code == 400 and "not a date" in bad.text
    nothing = act(rita, page, DEFECTS, ids=str(retype.id), action="assign")
    assert nothing.status_code == 400
    fresh = next(d for d in list_defects(world.store, "demo", DefectQuery()) if d.id == retype.id)
    assert fresh.owner is None and fresh.due is None  # refused: nothing written
    done = act(
        rita,
        page,
        DEFECTS,
        ids=str(retype.id),
        action="assign",
        owner="sam@northwind.example",
        due="2099-01-31",
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=assigned")
    fresh = next(d for d in list_defects(world.store, "demo", DefectQuery()) if d.id == retype.id)
    assert (fresh.owner, str(fresh.due)) == ("sam@northwind.example", "2099-01-31")
    entry = governance_log(world.store, "demo")[-1]
    assert entry.action == "defects.assigned" and entry.actor == "rita"
    assert "sam@northwind.example, due 2099-01-31" in html.unescape(rita.get(page).text)
