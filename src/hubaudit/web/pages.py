"""The pages and the actions: each reads through the services or takes a decision through
them, under the signed-in person (:attr:`Visit.actor`), and answers with a page or a redirect
(POST → 303 → GET, so a reload never repeats a decision)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from hubaudit.errors import SignInRefused, UsageError
from hubaudit.model.baselines import BaselineStatus
from hubaudit.model.change_requests import CRProgress, CRStatus
from hubaudit.model.changes import Severity
from hubaudit.model.defects import DefectStatus
from hubaudit.model.items import CoverageStatus, Kind, kind_of
from hubaudit.model.users import Permission
from hubaudit.web.app import (
    NotFound,
    Page,
    Web,
    see_other,
    set_session_cookie,
    shown_error,
)
from hubaudit.web.auth import LOGIN_COOKIE, SESSION_COOKIE
from hubaudit.web.templating import render

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from hubaudit.services.lists import Page as ListPage

PAGE_SIZE = 50
T = TypeVar("T")

# fixed messages a redirect may ask a page to show (never text from the query string)
DONE = {
    "acknowledged": "Acknowledged.",
    "waived": "Waived.",
    "resolved": "Resolved.",
    "accepted": "Accepted into the proposed baseline version.",
    "approved": "Approved.",
    "rejected": "Rejected.",
    "created": "Change request created.",
    "assigned": "Assigned.",
    "proposed": "Proposed as the next baseline version: the council approves or rejects it.",
    "released": "Released into the proposed baseline version.",
}


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    total: int

    @classmethod
    def of(cls, number: int, total: int) -> Pager:
        pages = max(1, -(-total // PAGE_SIZE))
        return cls(min(number, pages), pages, total)

    def link(self, page: Page, number: int) -> str:
        query = [(k, v) for k, v in page.request.query_params.multi_items() if k != "page"]
        return "?" + urlencode([*query, ("page", str(number))])


def requested_page(page: Page) -> int:
    try:
        return max(1, min(int(page.request.query_params.get("page", "1")), 10**9))
    except ValueError:
        return 1


def paginate(page: Page, items: Sequence[T]) -> tuple[Sequence[T], Pager]:
    pager = Pager.of(requested_page(page), len(items))
    start = (pager.page - 1) * PAGE_SIZE
    return items[start : start + PAGE_SIZE], pager


def read_page(page: Page, read: Callable[[int], ListPage[T]]) -> tuple[Sequence[T], Pager]:
    """The requested page of a list read a page at a time (the last one if it asks past it)."""
    number = requested_page(page)
    found = read(number)
    pager = Pager.of(number, found.total)
    if pager.page != number:
        found = read(pager.page)
    return found.items, pager


def _int(value: str, what: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise UsageError(f"{what} is not a number: {value!r}")
    return int(value)


def _done(page: Page) -> str | None:
    return DONE.get(page.request.query_params.get("done", ""))


# signing in and out ---------------------------------------------------------------------------


def login_endpoint(web: Web) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        return await run_in_threadpool(_login, web, request, form)

    return endpoint


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login(web: Web, request: Request, form: Any) -> Response:
    from hubaudit.services.users import sign_in

    token, new_cookie = web.gate.login_token(request)
    target = _safe_next(
        (form.get("next") if form is not None else None) or request.query_params.get("next")
    )
    message, status = None, 200
    if form is not None:
        if not web.gate.login_token_matches(request, form.get("csrf")):
            message, status = "refused: the form's CSRF token is missing; try again", 403
        else:
            try:
                signed = sign_in(
                    web.store,
                    str(form.get("username") or ""),
                    str(form.get("password") or ""),
                    web.gate.address(request),
                    web.settings.throttle,
                    web.clock,
                )
            except SignInRefused as exc:
                status, message = shown_error(exc)
            else:
                redirect = see_other(target)
                set_session_cookie(web, redirect, signed.token)
                redirect.delete_cookie(LOGIN_COOKIE, path="/login")
                return redirect
    response = HTMLResponse(
        render("login.html", user=None, csrf=token, next=target, message=message),
        status_code=status,
    )
    if new_cookie is not None:
        response.set_cookie(
            LOGIN_COOKIE,
            new_cookie,
            httponly=True,
            samesite="strict",
            secure=web.settings.secure_cookies,
            path="/login",
        )
    return response


def logout(page: Page) -> Response:
    from hubaudit.services.users import sign_out

    token = page.web.gate.unsign(page.request.cookies.get(SESSION_COOKIE))
    if token is not None:
        sign_out(page.web.store, token, page.web.clock)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def healthz(_request: Request) -> Response:
    return PlainTextResponse("ok")


# the portfolio --------------------------------------------------------------------------------


def portfolio(page: Page) -> Response:
    from hubaudit.services.lists import open_defect_counts
    from hubaudit.services.runs import recent_runs, schedules

    store = page.web.store
    stored = set(store.portal_names())
    next_runs = {s.next_run.portal: s.next_run for s in schedules(store, page.web.config)}
    rows = []
    for portal in page.web.config.portals:
        counts = {s: 0 for s in Severity}
        runs = []
        if portal.name in stored:
            counts = open_defect_counts(store, portal.name)
            runs = recent_runs(store, portal.name, 1)
        rows.append(
            {
                "name": portal.name,
                "last_run": runs[0] if runs else None,
                "counts": counts,
                "open": sum(counts.values()),
                "next_run": next_runs.get(portal.name),
            }
        )
    return page.render("portfolio.html", rows=rows, severities=list(Severity))


# a portal's dashboard and the health page ----------------------------------------------------

DASHBOARD_WEEKS = (4, 12, 26, 52)


def dashboard(page: Page) -> Response:
    from markupsafe import Markup

    from hubaudit.report.html import chart_of
    from hubaudit.report.templating import html_environment, render_template
    from hubaudit.services.kpis import DEFAULT_WEEKS, default_since, portal_kpis
    from hubaudit.services.lists import open_defect_counts
    from hubaudit.services.runs import recent_runs

    portal = page.web.portal(page.params["portal"])
    weeks = _int(page.request.query_params.get("weeks", str(DEFAULT_WEEKS)), "weeks")
    if weeks not in DASHBOARD_WEEKS:
        raise UsageError(f"weeks: one of {', '.join(map(str, DASHBOARD_WEEKS))}, not {weeks}")
    until = page.web.clock()
    found = portal_kpis(page.web.store, portal, default_since(until, weeks), until, reuse=True)
    # the report's own chart, rendered by the report's autoescaping environment
    chart = Markup(  # noqa: S704 - an autoescaped template's output
        render_template(html_environment(), "chart.svg.j2", chart=chart_of(found.kpis))
    )
    stored = _stored(page, portal)
    counts = open_defect_counts(page.web.store, portal) if stored else {}
    runs = recent_runs(page.web.store, portal, 1) if stored else []
    return page.render(
        "dashboard.html",
        last_run=runs[0] if runs else None,
        portal=portal,
        kpis=found.kpis,
        point=found.point,
        chart=chart,
        weeks=weeks,
        choices=DASHBOARD_WEEKS,
        counts=counts,
        severities=list(Severity),
    )


def health_page(page: Page) -> Response:
    from datetime import timedelta

    from hubaudit.services.runs import check_health, recent_runs, schedules

    store, config = page.web.store, page.web.config
    stale = _int(page.request.query_params.get("stale_after", "180"), "stale_after")
    found = check_health(store, timedelta(seconds=stale), page.web.clock())
    runs = recent_runs(store, None, 30)
    return page.render(
        "health.html",
        health=found,
        stale_after=stale,
        schedule=schedules(store, config, page.web.clock()),
        runs=runs,
    )


# defects --------------------------------------------------------------------------------------


def _choices(page: Page, name: str, allowed: type[Any]) -> tuple[Any, ...]:
    values = []
    for value in page.request.query_params.getlist(name):
        if not value:
            continue
        try:
            values.append(allowed(value))
        except ValueError as exc:
            raise UsageError(f"{name}: no such value {value!r}") from exc
    return tuple(values)


def defects_list(page: Page) -> Response:
    from hubaudit.services.lists import OPEN_STATES, defects_page
    from hubaudit.services.triage import DefectQuery

    portal = page.web.portal(page.params["portal"])
    statuses = _choices(page, "status", DefectStatus)
    query = DefectQuery(
        statuses=statuses or (() if page.request.query_params.get("all") else OPEN_STATES),
        severities=_choices(page, "severity", Severity),
        kinds=_choices(page, "kind", Kind),
    )
    text = page.request.query_params.get("q", "")
    if _stored(page, portal):
        shown, pager = read_page(
            page,
            lambda n: defects_page(page.web.store, portal, query, text, n, PAGE_SIZE),
        )
    else:
        shown, pager = (), Pager.of(1, 0)
    return page.render(
        "defects.html",
        portal=portal,
        defects=shown,
        pager=pager,
        statuses=list(DefectStatus),
        severities=list(Severity),
        kinds=list(Kind),
        chosen={
            "status": {s.value for s in statuses},
            "severity": set(page.request.query_params.getlist("severity")),
            "kind": set(page.request.query_params.getlist("kind")),
            "q": text,
        },
        done=_done(page),
        pager_link=lambda n: pager.link(page, n),
    )


def _stored(page: Page, portal: str) -> bool:
    return portal in page.web.store.portal_names()


def defect_detail(page: Page) -> Response:
    from hubaudit.services.triage import defect_timeline

    portal = page.web.portal(page.params["portal"])
    if not _stored(page, portal):
        raise NotFound(f"portal {portal!r} has no defects yet")
    timeline = defect_timeline(page.web.store, portal, int(page.params["defect_id"]))
    return page.render(
        "defect.html",
        portal=portal,
        defect=timeline.defect,
        events=timeline.events,
        done=_done(page),
    )


def _day(text: str) -> date | None:
    """A form's date field (``YYYY-MM-DD``, what a date input sends); empty: none."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def defects_action(page: Page) -> Response:
    from hubaudit.dates import parse_end
    from hubaudit.services import triage

    portal = page.web.portal(page.params["portal"])
    ids = sorted({_int(i, "defect id") for i in page.fields("ids")})
    if not ids:
        raise UsageError("choose at least one defect")
    action = page.field("action")
    actor, store, clock = page.visit.actor, page.web.store, page.web.clock
    note = page.field("note")
    if action == "acknowledge":
        triage.acknowledge_defects(store, portal, ids, actor, note, clock)
        done = "acknowledged"
    elif action == "resolve":
        triage.resolve_defects(store, portal, ids, actor, note, clock)
        done = "resolved"
    elif action == "waive":
        until = page.field("until").strip()
        if not until:
            raise UsageError("a waiver needs an end date (until)")
        triage.waive_defects(
            store, portal, ids, actor, page.field("reason"), parse_end(until), clock
        )
        done = "waived"
    elif action == "accept":
        triage.accept_defects(store, portal, ids, actor, note, clock)
        done = "accepted"
    elif action == "assign":
        owner = page.field("owner").strip() or None
        due = _day(page.field("due"))
        if owner is None and due is None:
            raise UsageError("give an owner (an email), a due date, or both")
        triage.assign_defects(store, portal, ids, actor, owner=owner, due=due, clock=clock)
        done = "assigned"
    else:
        raise UsageError(f"no such action {action!r}")
    back = page.field("back")
    if back == "run":
        run = _int(page.field("run"), "run id")
        return see_other(f"/portals/{portal}/runs/{run}?done={done}")
    target = back if back in ("list",) else "detail"
    if target == "list" or len(ids) > 1:
        return see_other(f"/portals/{portal}/defects?done={done}")
    return see_other(f"/portals/{portal}/defects/{ids[0]}?done={done}")


def item_history(page: Page) -> Response:
    from hubaudit.services.history import history

    portal = page.web.portal(page.params["portal"])
    key = page.request.query_params.get("key", "").strip()
    if not key:
        raise UsageError("which item? (?key=property:deals:amount)")
    if not _stored(page, portal):
        raise NotFound(f"portal {portal!r} has no snapshot yet")
    found = history(page.web.store, portal, key)
    return page.render("history.html", portal=portal, key=key, entries=found.entries)


# findings -------------------------------------------------------------------------------------


def findings_list(page: Page) -> Response:
    from hubaudit.model.findings import FindingStatus
    from hubaudit.services.triage import FindingQuery, list_findings

    portal = page.web.portal(page.params["portal"])
    statuses = _choices(page, "status", FindingStatus) or (FindingStatus.OPEN,)
    query = FindingQuery(statuses=statuses, severities=_choices(page, "severity", Severity))
    found = list_findings(page.web.store, portal, query) if _stored(page, portal) else []
    shown, pager = paginate(page, found)
    return page.render(
        "findings.html",
        portal=portal,
        findings=shown,
        pager=pager,
        pager_link=lambda n: pager.link(page, n),
        statuses=list(FindingStatus),
        chosen={s.value for s in statuses},
        done=_done(page),
    )


def findings_waive(page: Page) -> Response:
    from hubaudit.dates import parse_end
    from hubaudit.services.triage import waive_findings

    portal = page.web.portal(page.params["portal"])
    ids = sorted({_int(i, "finding id") for i in page.fields("ids")})
    if not ids:
        raise UsageError("choose at least one finding")
    until = page.field("until").strip()
    if not until:
        raise UsageError("a waiver needs an end date (until)")
    waive_findings(
        page.web.store,
        portal,
        ids,
        page.visit.actor,
        page.field("reason"),
        parse_end(until),
        page.web.clock,
    )
    return see_other(f"/portals/{portal}/findings?done=waived")


# baseline versions ----------------------------------------------------------------------------


def baselines_list(page: Page, message: str | None = None, status: int = 200) -> Response:
    from hubaudit.services.baselines import baseline_versions

    portal = page.web.portal(page.params["portal"])
    stored = _stored(page, portal)
    versions = baseline_versions(page.web.store, portal) if stored else []
    proposed = next(
        (v.baseline for v in versions if v.baseline.status is BaselineStatus.PROPOSED), None
    )
    latest = page.web.store.latest_snapshot(portal) if stored else None
    return page.render(
        "baselines.html",
        status,
        portal=portal,
        versions=list(reversed(versions)),
        proposed=proposed,
        latest=latest,
        incomplete=[]
        if latest is None
        else [c for c in latest.coverage if c.status is CoverageStatus.FAILED],
        message=message,
        values={k: page.field(k) for k in ("note", "snapshot")},
        done=_done(page),
    )


def baseline_propose(page: Page) -> Response:
    """Propose a snapshot (the form's id, default the latest) as the next version, as
    ``baseline propose`` does; a refusal (a snapshot that did not read every part, a proposal
    already awaiting the council) is shown on the versions page, nothing written."""
    from hubaudit.services.baselines import propose_baseline

    portal = page.web.portal(page.params["portal"])
    chosen = page.field("snapshot").strip()
    try:
        snapshot_id = _int(chosen, "snapshot") if chosen else None
        proposal = propose_baseline(
            page.web.store,
            portal,
            snapshot_id,
            page.visit.actor,
            page.field("note"),
            page.web.clock,
        )
    except UsageError as exc:
        return baselines_list(page, str(exc), 400)
    return see_other(f"/portals/{portal}/baselines/{proposal.baseline.version}?done=proposed")


def baselines_release(page: Page) -> Response:
    """Release implemented CRs into the proposed version (proposing one from the latest
    approved if none is), as ``baseline release`` does; on to the proposal's review page."""
    from hubaudit.services.baselines import release_requests

    portal = page.web.portal(page.params["portal"])
    ids = sorted({_int(i, "change request id") for i in page.fields("ids")})
    if not ids:
        raise UsageError("choose at least one change request to release")
    proposed = release_requests(
        page.web.store, portal, ids, page.visit.actor, page.field("note"), page.web.clock
    )
    return see_other(f"/portals/{portal}/baselines/{proposed.version}?done=released")


def baselines_diff(page: Page) -> Response:
    from hubaudit.services.baselines import baseline_changelog, baseline_versions

    portal = page.web.portal(page.params["portal"])
    params = page.request.query_params
    versions = baseline_versions(page.web.store, portal) if _stored(page, portal) else []
    known = {v.baseline.version for v in versions}
    left = _int(params.get("from", ""), "from (a version)")
    right = _int(params.get("to", ""), "to (a version)")
    for number in (left, right):
        if number not in known:
            raise NotFound(f"portal {portal!r} has no baseline v{number}")
    if left == right:
        raise UsageError(f"choose two different versions (both are v{left})")
    changes = baseline_changelog(page.web.store, portal, left, right).changes
    return page.render(
        "baseline_diff.html",
        portal=portal,
        left=next(v.baseline for v in versions if v.baseline.version == left),
        right=next(v.baseline for v in versions if v.baseline.version == right),
        changes=changes,
    )


def baseline_review(page: Page) -> Response:
    from hubaudit.services.baselines import (
        baseline_changelog,
        baseline_proposers,
        baseline_versions,
        linked_defects,
        releasable_requests,
    )
    from hubaudit.services.change_requests import change_requests

    portal = page.web.portal(page.params["portal"])
    version = int(page.params["version"])
    versions = baseline_versions(page.web.store, portal) if _stored(page, portal) else []
    record = next((v for v in versions if v.baseline.version == version), None)
    if record is None:
        raise NotFound(f"portal {portal!r} has no baseline v{version}")
    earlier = [
        v.baseline.version
        for v in versions
        if v.baseline.version < version and v.baseline.status is BaselineStatus.APPROVED
    ]
    changes: Sequence[Any] = ()
    if earlier:
        changes = baseline_changelog(page.web.store, portal, earlier[-1], version).changes
    defects = linked_defects(page.web.store, portal, record)
    released = set(record.requests)
    requests = (
        [p.request for p in change_requests(page.web.store, portal, sorted(released))]
        if released
        else []
    )
    proposers = baseline_proposers(page.web.store, portal, version)
    proposed = record.baseline.status is BaselineStatus.PROPOSED
    releasable = (
        releasable_requests(page.web.store, portal)
        if proposed and page.may(Permission.TRIAGE)
        else []
    )
    return page.render(
        "baseline.html",
        portal=portal,
        record=record,
        baseline=record.baseline,
        from_version=earlier[-1] if earlier else None,
        changes=changes,
        defects=defects,
        requests=requests,
        proposed=proposed,
        releasable=releasable,
        proposers=sorted(proposers),
        proposer=page.user.username.casefold() in {p.casefold() for p in proposers},
        done=_done(page),
    )


def _decide(page: Page, what: str, number_param: str, decide: Callable[..., object]) -> Response:
    """Approve or reject (the form's ``decision``) what ``decide`` decides, under the signed-in
    person, with the team's four-eyes setting; back to its page."""
    portal = page.web.portal(page.params["portal"])
    number = int(page.params[number_param])
    decision = page.field("decision")
    if decision not in ("approve", "reject"):
        raise UsageError("decide approve or reject")
    decide(
        page.web.store,
        portal,
        number,
        decision == "approve",
        page.visit.actor,
        page.field("note"),
        page.web.clock,
        single_approver=page.web.settings.single_approver,
    )
    done = "approved" if decision == "approve" else "rejected"
    return see_other(f"/portals/{portal}/{what}/{number}?done={done}")


def baseline_decide(page: Page) -> Response:
    from hubaudit.services.baselines import decide_baseline

    return _decide(page, "baselines", "version", decide_baseline)


# change requests ------------------------------------------------------------------------------


def crs_list(page: Page) -> Response:
    from hubaudit.services.change_requests import change_requests

    portal = page.web.portal(page.params["portal"])
    found = change_requests(page.web.store, portal) if _stored(page, portal) else []
    shown, pager = paginate(page, list(reversed(found)))
    return page.render(
        "crs.html",
        portal=portal,
        progress=shown,
        pager=pager,
        pager_link=lambda n: pager.link(page, n),
        done=_done(page),
    )


def cr_form(page: Page, message: str | None = None, status: int = 200) -> Response:
    portal = page.web.portal(page.params["portal"])
    return page.render(
        "cr_new.html",
        status,
        portal=portal,
        message=message,
        values={k: page.field(k) for k in ("title", "changes", "from", "until", "note")},
    )


def cr_create(page: Page) -> Response:
    from hubaudit.dates import parse_end, parse_start
    from hubaudit.services.change_requests import RequestDraft, create_request, planned_changes

    portal = page.web.portal(page.params["portal"])
    try:
        draft = RequestDraft(
            title=page.field("title"),
            changes=planned_changes(page.field("changes").splitlines()),
            valid_from=parse_start(page.field("from").strip()),
            valid_until=parse_end(page.field("until").strip()),
            note=page.field("note"),
        )
        request = create_request(page.web.store, portal, draft, page.visit.actor, page.web.clock)
    except UsageError as exc:
        return cr_form(page, str(exc), 400)
    return see_other(f"/portals/{portal}/crs/{request.id}?done=created")


def cr_detail(page: Page) -> Response:
    from hubaudit.services.change_requests import change_requests

    portal = page.web.portal(page.params["portal"])
    if not _stored(page, portal):
        raise NotFound(f"portal {portal!r} has no change requests")
    progress = change_requests(page.web.store, portal, [int(page.params["request_id"])])[0]
    return page.render(
        "cr.html",
        portal=portal,
        progress=progress,
        request=progress.request,
        requester=page.user.username.casefold() == progress.request.requested_by.casefold(),
        releasable=progress.request.status is CRStatus.APPROVED
        and progress.request.released_version is None
        and progress.summary is CRProgress.IMPLEMENTED,
        done=_done(page),
    )


def cr_decide(page: Page) -> Response:
    from hubaudit.services.change_requests import decide_request

    return _decide(page, "crs", "request_id", decide_request)


# the governance log and runs ------------------------------------------------------------------


def _log_filters(page: Page) -> tuple[str, datetime | None, datetime | None, str]:
    from hubaudit.dates import parse_end, parse_start

    portal = page.web.portal(page.params["portal"])
    params = page.request.query_params
    since = parse_start(params["since"]) if params.get("since") else None
    until = parse_end(params["until"]) if params.get("until") else None
    return portal, since, until, params.get("q", "")


def log_page(page: Page) -> Response:
    from hubaudit.services.lists import log_page as read_log

    portal, since, until, text = _log_filters(page)
    shown, pager = read_page(
        page, lambda n: read_log(page.web.store, portal, since, until, text, n, PAGE_SIZE)
    )
    csv_query = urlencode([(k, v) for k, v in page.request.query_params.items() if k != "page"])
    return page.render(
        "log.html",
        portal=portal,
        entries=shown,
        pager=pager,
        pager_link=lambda n: pager.link(page, n),
        csv_link=f"/portals/{portal}/log.csv" + (f"?{csv_query}" if csv_query else ""),
    )


def _csv_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def log_csv(page: Page) -> Response:
    from hubaudit.services.lists import log_page as read_log

    portal, since, until, text = _log_filters(page)
    entries = reversed(read_log(page.web.store, portal, since, until, text, None, 0).items)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "actor", "action", "subject", "note"])
    for e in entries:
        writer.writerow(
            [e.at.isoformat(), *(_csv_cell(t) for t in (e.actor, e.action, e.subject, e.note))]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{portal}-governance-log.csv"'},
    )


def runs_page(page: Page) -> Response:
    from hubaudit.services.runs import recent_runs

    portal = page.web.portal(page.params["portal"])
    runs = recent_runs(page.web.store, portal, 500) if _stored(page, portal) else []
    shown, pager = paginate(page, runs)
    return page.render(
        "runs.html",
        portal=portal,
        runs=shown,
        pager=pager,
        pager_link=lambda n: pager.link(page, n),
    )


UNKNOWN_PERSON = "(unknown)"
"""The person filter's value for changes HubSpot attributes to nobody."""


def run_report_page(page: Page) -> Response:
    """A run's stored report as the triage view (the HTML report's view model), its drift
    filtered by severity, kind, defect status, person and text; a run that stored no report
    shows its status and error."""
    from hubaudit.report.triage_filter import DriftFilter, triage_view
    from hubaudit.services.runs import run_of
    from hubaudit.services.triage import defect_statuses

    portal = page.web.portal(page.params["portal"])
    run_id = int(page.params["run_id"])
    run = run_of(page.web.store, portal, run_id) if _stored(page, portal) else None
    if run is None:
        raise NotFound(f"portal {portal!r} has no run {run_id}")
    result = page.web.drift.of(page.web.store, portal, run_id)
    if result is None:
        return page.render("run.html", portal=portal, run=run, found=None)
    params = page.request.query_params
    person = params.get("person", "")
    chosen = DriftFilter(
        severities=frozenset(_choices(page, "severity", Severity)),
        kinds=frozenset(_choices(page, "kind", Kind)),
        statuses=frozenset(_choices(page, "status", DefectStatus)),
        person=None if not person else "" if person == UNKNOWN_PERSON else person,
        text=params.get("q", ""),
    )
    ids = sorted({c.defect_id for c in result.changes if c.defect_id is not None})
    found = triage_view(result, chosen, defect_statuses(page.web.store, portal, ids))
    if chosen.person is not None and chosen.person not in found.people:
        raise UsageError(f"person: nobody named {person!r} made a change in run {run_id}")
    return page.render(
        "run.html",
        portal=portal,
        run=run,
        found=found,
        view=found.view,
        narrowed=chosen.narrows,
        severities=list(Severity),
        kinds=sorted(
            {kind_of(i.key) for s in found.view.triage + found.view.handled for i in s.items},
            key=list(Kind).index,
        ),
        statuses=list(DefectStatus),
        unknown_person=UNKNOWN_PERSON,
        chosen={
            "severity": {s.value for s in chosen.severities},
            "kind": {k.value for k in chosen.kinds},
            "status": {s.value for s in chosen.statuses},
            "person": person,
            "q": chosen.text,
        },
        done=_done(page),
    )


P = Permission
ROUTES: tuple[tuple[str, str, Permission, Callable[[Page], Response]], ...] = (
    ("/", "GET", P.READ, portfolio),
    ("/health", "GET", P.READ, health_page),
    ("/portals/{portal}/dashboard", "GET", P.READ, dashboard),
    ("/logout", "POST", P.READ, logout),
    ("/portals/{portal}/defects", "GET", P.READ, defects_list),
    ("/portals/{portal}/defects", "POST", P.TRIAGE, defects_action),
    ("/portals/{portal}/defects/{defect_id:int}", "GET", P.READ, defect_detail),
    ("/portals/{portal}/history", "GET", P.READ, item_history),
    ("/portals/{portal}/findings", "GET", P.READ, findings_list),
    ("/portals/{portal}/findings", "POST", P.TRIAGE, findings_waive),
    ("/portals/{portal}/baselines", "GET", P.READ, baselines_list),
    ("/portals/{portal}/baselines", "POST", P.TRIAGE, baseline_propose),
    ("/portals/{portal}/baselines/release", "POST", P.TRIAGE, baselines_release),
    ("/portals/{portal}/baselines/diff", "GET", P.READ, baselines_diff),
    ("/portals/{portal}/baselines/{version:int}", "GET", P.READ, baseline_review),
    ("/portals/{portal}/baselines/{version:int}", "POST", P.DECIDE, baseline_decide),
    ("/portals/{portal}/crs", "GET", P.READ, crs_list),
    ("/portals/{portal}/crs", "POST", P.TRIAGE, cr_create),
    ("/portals/{portal}/crs/new", "GET", P.TRIAGE, cr_form),
    ("/portals/{portal}/crs/{request_id:int}", "GET", P.READ, cr_detail),
    ("/portals/{portal}/crs/{request_id:int}", "POST", P.DECIDE, cr_decide),
    ("/portals/{portal}/log", "GET", P.READ, log_page),
    ("/portals/{portal}/log.csv", "GET", P.READ, log_csv),
    ("/portals/{portal}/runs", "GET", P.READ, runs_page),
    ("/portals/{portal}/runs/{run_id:int}", "GET", P.READ, run_report_page),
)
