"""The ASGI app: routes, the guard every route passes (who, role, CSRF), security headers and
the one place that turns hubaudit's errors into HTTP status codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from hubaudit.errors import DatabaseError, HubauditError, NotAllowed, SignInRefused, UsageError
from hubaudit.logs import get_logger
from hubaudit.model.users import Permission, User
from hubaudit.services.reports import StoredDrift
from hubaudit.services.terms import Clock, utc_now
from hubaudit.web.auth import SESSION_COOKIE, Gate, Visit, WebSettings, csrf_matches
from hubaudit.web.templating import render

if TYPE_CHECKING:
    from starlette.datastructures import FormData
    from starlette.types import ASGIApp, Receive, Scope, Send

    from hubaudit.config import Config
    from hubaudit.store.repository import Store

log = get_logger(__name__)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


class NotFound(HubauditError):
    """A page that does not exist: 404."""


@dataclass
class Web:
    """What every page is given: the config, the store, the gate and the clock."""

    config: Config
    store: Store
    gate: Gate
    settings: WebSettings
    clock: Clock = utc_now
    drift: StoredDrift = field(default_factory=StoredDrift)
    """Runs' stored reports, decoded once for their triage pages."""

    def portal(self, name: str) -> str:
        if name not in {p.name for p in self.config.portals}:
            raise NotFound(f"no portal {name!r} in the config")
        return name


@dataclass
class Page:
    """One request to a page: who asks, the form they sent, and the app."""

    request: Request
    visit: Visit
    web: Web
    form: FormData | None = None
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def user(self) -> User:
        return self.visit.user

    def may(self, permission: Permission) -> bool:
        return self.visit.user.may(permission)

    def field(self, name: str) -> str:
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else ""

    def fields(self, name: str) -> list[str]:
        if self.form is None:
            return []
        return [v for v in self.form.getlist(name) if isinstance(v, str)]

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(
            render(
                template,
                user=self.visit.user,
                csrf=self.visit.session.csrf_token,
                may=self.may,
                P=Permission,
                path=self.request.url.path,
                query=self.request.query_params,
                **context,
            ),
            status_code=status,
        )


Handler = Callable[[Page], Response]


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def guarded(web: Web, permission: Permission, handler: Handler) -> Callable[..., Awaitable[Any]]:
    """The endpoint of a page: sign-in required, the role checked on the server, the CSRF token
    checked on every POST, errors turned into status codes."""

    async def endpoint(request: Request) -> Response:
        form = await request.form() if request.method == "POST" else None
        return await run_in_threadpool(_serve, request, form)

    def _serve(request: Request, form: FormData | None) -> Response:
        visit = web.gate.visit(request)
        if visit is None:
            if request.method == "GET":
                target = quote(request.url.path + _query(request), safe="/?=&")
                return see_other(f"/login?next={target}")
            return error_page(None, 403, "sign in first")
        if form is not None:
            given = form.get("csrf")
            if not csrf_matches(visit, given if isinstance(given, str) else None):
                log.warning("web.csrf_refused", user=visit.user.username, path=request.url.path)
                refused = error_page(visit, 403, "refused: the form's CSRF token is missing")
                return _with_cookie(web, refused, visit)
        if not visit.user.may(permission):
            log.warning("web.forbidden", user=visit.user.username, path=request.url.path)
            forbidden = error_page(
                visit, 403, f"a {visit.user.role.value} may not do this ({permission.value})"
            )
            return _with_cookie(web, forbidden, visit)
        page = Page(request, visit, web, form, dict(request.path_params))
        response: Response
        try:
            response = handler(page)
        except NotFound as exc:
            response = error_page(visit, 404, str(exc))
        except NotAllowed as exc:
            response = error_page(visit, 403, str(exc))
        except DatabaseError as exc:
            response = error_page(visit, 503, str(exc))
        except UsageError as exc:
            response = error_page(visit, 400, str(exc))
        return _with_cookie(web, response, visit)

    return endpoint


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


def _with_cookie(web: Web, response: Response, visit: Visit) -> Response:
    if visit.new_token is not None:
        set_session_cookie(web, response, visit.new_token)
    return response


def set_session_cookie(web: Web, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        web.gate.sign(token),
        httponly=True,
        samesite="strict",
        secure=web.settings.secure_cookies,
        path="/",
    )


def error_page(visit: Visit | None, status: int, message: str) -> HTMLResponse:
    from hubaudit.secrets import scrub

    return HTMLResponse(
        render(
            "error.html",
            user=None if visit is None else visit.user,
            csrf="" if visit is None else visit.session.csrf_token,
            status=status,
            message=scrub(message),
        ),
        status_code=status,
    )


class SecurityHeaders:
    """Every response gets the CSP and its companions."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode().lower() not in SECURITY_HEADERS
                ]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    config: Config,
    store: Store,
    secret: str,
    clock: Clock = utc_now,
) -> Starlette:
    """The web app over ``store``, its sessions signed with ``secret``."""
    from starlette.middleware import Middleware

    from hubaudit.web import pages

    settings = WebSettings.of(config.web, config.single_approver)
    web = Web(config, store, Gate(store, settings, secret, clock), settings, clock)
    routes: list[Route | Mount] = [
        Route("/login", pages.login_endpoint(web), methods=["GET", "POST"]),
        Route("/healthz", pages.healthz, methods=["GET"]),
        Mount(
            "/static",
            app=StaticFiles(directory=str(files("hubaudit.web") / "static")),
            name="static",
        ),
    ]
    for path, method, permission, handler in pages.ROUTES:
        routes.append(Route(path, guarded(web, permission, handler), methods=[method]))
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])


def shown_error(exc: SignInRefused) -> tuple[int, str]:
    """A refused sign-in's status: 429 when throttled, else 401."""
    return (429 if exc.retry_after else 401), str(exc)
