"""A HubSpot portal over real HTTP, served from a folder of JSON files (see ``portal.py``).

At HubSpot's own paths (classic ``/crm/v3/…`` and date-versioned ``/crm/properties/2026-03/…``;
the paths HubSpot's published specs give and the older spellings HubSpot still serves, or only
the older ones with ``old_spellings_only``) and with HubSpot's shapes: ``{"results": …}`` bodies
and cursor paging, bearer-token checks with HubSpot's 401 body, the ten-secondly rate limit with
HubSpot's 429 body and ``X-HubSpot-RateLimit-*`` headers, an optional daily limit, latency, and
faults injected per path prefix (an error status, a malformed body, a delay past the client's
timeout, a page that repeats its cursor).
In OAuth mode (:class:`EmulatedOAuthApp`) it is also HubSpot's token endpoint,
``POST /oauth/v1/token``: it issues short-lived access tokens for the app's refresh token and
accepts only live ones, answering an expired one with HubSpot's ``EXPIRED_AUTHENTICATION``.
"""

from __future__ import annotations

import json
import secrets
import socket
import sys
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from hubaudit.emulator.portal import (
    ROUTES,
    PortalFiles,
    Refused,
    Request,
    error_body,
    has_older_spelling,
    is_exempt,
)

# Not a secret: the emulator only ever runs locally, and accepts only this.
DEMO_TOKEN = "demo-emulator-token"  # noqa: S105

__all__ = [
    "DEMO_TOKEN",
    "EmulatedOAuthApp",
    "Fault",
    "PortalEmulator",
    "error_body",
    "missing_scopes_body",
]

TOKEN_ENDPOINT = "/oauth/v1/token"  # noqa: S105 - a path, not a secret


@dataclass(frozen=True)
class EmulatedOAuthApp:
    """OAuth mode: the public app installed in the emulated portal, and how long the access
    tokens it issues live (HubSpot's live 30 minutes)."""

    client_id: str
    client_secret: str
    refresh_token: str
    access_token_seconds: int = 1800


@dataclass
class Fault:
    """An injected failure for requests whose path starts with ``path_prefix``."""

    path_prefix: str
    status: int | None = None  # None: answer normally, with the other effects below
    body: dict[str, Any] | None = None
    malformed: bool = False
    delay_seconds: float = 0.0
    repeat_cursor: bool = False
    times: int | None = None  # None: every time
    retry_after: float | None = None


def missing_scopes_body(scopes: list[str]) -> dict[str, Any]:
    return error_body(
        "This app hasn't been granted all required scopes to make this call.",
        "MISSING_SCOPES",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": scopes},
            }
        ],
    )


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (hubaudit refusing a body over its size limit)
        is the client's business, not a traceback on the emulator's terminal."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class PortalEmulator:
    """Serve one portal folder on 127.0.0.1. Use as a context manager, or ``start``/``stop``."""

    def __init__(
        self,
        portal_dir: Path,
        *,
        token: str = DEMO_TOKEN,
        rate_limit_per_10s: int | None = 100,
        window_seconds: float = 10.0,
        daily_limit: int | None = None,
        latency_seconds: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        old_spellings_only: bool = False,
        oauth: EmulatedOAuthApp | None = None,
        cache_responses: bool = False,
    ) -> None:
        self.files = PortalFiles(Path(portal_dir))
        # Benchmarks stand the emulator in for HubSpot's servers, whose CPU is not the
        # machine's: with this, each answer is built once (from the folder's files, which must
        # not change while served but through load()) and sent again as the same bytes.
        self.cache_responses = cache_responses
        self._responses: dict[tuple[str, str, bytes], tuple[int, bytes]] = {}
        # 404 on a published path that has an older spelling: a portal where HubSpot serves
        # only the older one (the client's fallback is tested against this)
        self.old_spellings_only = old_spellings_only
        self.token = token
        self.oauth = oauth
        self._access_tokens: dict[str, float] = {}  # OAuth mode: token -> when it expires
        self._revoke_at: list[str] = []
        self.access_tokens_issued: list[str] = []  # OAuth mode, for tests to look for leaks
        self.unauthorised = 0  # 401 answers
        self.rate_limit = rate_limit_per_10s
        self.window_seconds = window_seconds
        self.daily_limit = daily_limit
        self.latency_seconds = latency_seconds
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self.requests_served = 0
        self.requests_limited = 0
        self.peak_in_window = 0
        self.calls: Counter[str] = Counter()
        self._daily_used = 0
        self._server = _Server((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> PortalEmulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="hubaudit-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def __enter__(self) -> PortalEmulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def load(self, portal_dir: Path) -> None:
        """Serve another state of the portal from now on (the next night, say)."""
        with self._lock:
            self.files = PortalFiles(Path(portal_dir))
            self._responses.clear()

    def inject(self, path_prefix: str, status: int | None = None, **effects: Any) -> None:
        """Add a fault: ``status``, ``body``, ``malformed``, ``delay_seconds``,
        ``repeat_cursor``, ``times``, ``retry_after`` (see :class:`Fault`)."""
        with self._lock:
            self._faults.append(Fault(path_prefix, status, **effects))

    def revoke_tokens_at(self, path_prefix: str) -> None:
        """OAuth mode: the next request to ``path_prefix`` finds every access token issued so
        far revoked (as when HubSpot ends them early): it, and later ones, get 401."""
        with self._lock:
            self._revoke_at.append(path_prefix)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # request handling (called from the server's threads) -------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix) and (fault.times is None or fault.times > 0):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _count(self, exempt: bool = False) -> tuple[str | None, dict[str, str]]:
        """Account for one authorised request; return the limit policy it broke, if any."""
        with self._lock:
            now = time.monotonic()
            while self._window and self._window[0] <= now - self.window_seconds:
                self._window.popleft()
            headers = {
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(round(self.window_seconds * 1000))
            }
            if self.daily_limit is not None:
                headers["X-HubSpot-RateLimit-Daily"] = str(self.daily_limit)
                if self._daily_used >= self.daily_limit:
                    headers["X-HubSpot-RateLimit-Daily-Remaining"] = "0"
                    return "DAILY", headers
                self._daily_used += 1
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                    self.daily_limit - self._daily_used
                )
            if self.rate_limit is not None and not exempt:
                headers["X-HubSpot-RateLimit-Max"] = str(self.rate_limit)
                if len(self._window) >= self.rate_limit:
                    self.requests_limited += 1
                    headers["X-HubSpot-RateLimit-Remaining"] = "0"
                    return "TEN_SECONDLY_ROLLING", headers
                self._window.append(now)
                self.peak_in_window = max(self.peak_in_window, len(self._window))
                headers["X-HubSpot-RateLimit-Remaining"] = str(self.rate_limit - len(self._window))
            self.requests_served += 1
            return None, headers

    def handle(
        self, method: str, target: str, authorization: str | None, raw_body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        url = urlsplit(target)
        path = url.path
        if self.oauth is not None and method == "POST" and path == TOKEN_ENDPOINT:
            with self._lock:
                self.calls[f"{method} {path}"] += 1
            return self._issue_token(self.oauth, raw_body)
        refused = self._refusal(path, authorization)
        if refused is not None:
            with self._lock:
                self.unauthorised += 1
            return _json(401, refused)
        policy, headers = self._count(exempt=is_exempt(method, path))
        if policy is not None:
            return _json(429, _rate_limit_body(policy), headers)
        with self._lock:
            self.calls[f"{method} {path}"] += 1
        fault = self._take_fault(path)
        if fault is not None:
            if fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            if fault.malformed:
                return (
                    fault.status or 200,
                    {**headers, "Content-Type": "application/json"},
                    (b'{"results": ['),
                )
            if fault.status is not None:
                body = fault.body or error_body("Internal error", "INTERNAL_ERROR")
                return _json(fault.status, body, headers)
        if self.old_spellings_only and has_older_spelling(path):
            return _json(404, error_body(f"No route for {method} {path}", "OBJECT_NOT_FOUND"))
        if self.cache_responses and fault is None:
            return self._cached(method, target, raw_body, headers)
        status, body = self._route(method, path, dict(parse_qsl(url.query)), raw_body)
        if fault is not None and fault.repeat_cursor and isinstance(body, dict):
            # A broken page: it points to the same cursor it was asked for.
            stuck = dict(parse_qsl(url.query)).get("after", "c3R1Y2s=")
            body["paging"] = {"next": {"after": stuck, "link": f"?after={stuck}"}}
        return _json(status, body, headers)

    def _cached(
        self, method: str, target: str, raw_body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        key = (method, target, raw_body)
        with self._lock:
            cached = self._responses.get(key)
        if cached is None:
            url = urlsplit(target)
            status, body = self._route(method, url.path, dict(parse_qsl(url.query)), raw_body)
            cached = (status, _encode(body))
            if status != 200:  # an error body names its own correlation id
                return _answer(*cached, headers)
            with self._lock:
                self._responses[key] = cached
        return _answer(cached[0], cached[1], headers)

    def _refusal(self, path: str, authorization: str | None) -> dict[str, Any] | None:
        """HubSpot's 401 body, unless ``authorization`` carries a token the portal accepts."""
        not_found = error_body(
            "Authentication credentials not found. This API supports OAuth 2.0 "
            "authentication and you can find more details at "
            "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            "INVALID_AUTHENTICATION",
        )
        if self.oauth is None:
            return None if authorization == f"Bearer {self.token}" else not_found
        token = (authorization or "").removeprefix("Bearer ")
        with self._lock:
            due = next((p for p in self._revoke_at if path.startswith(p)), None)
            if due is not None:  # one revocation per request: a second one waits for the next
                self._revoke_at.remove(due)
                self._access_tokens.clear()
            expires = self._access_tokens.get(token)
        if expires is None:
            return not_found
        late = time.monotonic() - expires
        if late >= 0:
            return error_body(
                f"The OAuth token used to make this call expired {late:.0f} second(s) ago.",
                "EXPIRED_AUTHENTICATION",
                context={"expire time": [f"{late:.0f} seconds ago"]},
            )
        return None

    def _issue_token(
        self, app: EmulatedOAuthApp, raw_body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        form = dict(parse_qsl(raw_body.decode("utf-8", "replace")))
        if form.get("grant_type") != "refresh_token":
            return _json(400, _oauth_error("BAD_GRANT_TYPE", "unsupported grant_type"))
        if form.get("client_id") != app.client_id:
            return _json(400, _oauth_error("BAD_CLIENT_ID", "missing or unknown client id"))
        if form.get("client_secret") != app.client_secret:
            return _json(400, _oauth_error("BAD_CLIENT_SECRET", "missing or invalid secret"))
        if form.get("refresh_token") != app.refresh_token:
            return _json(400, _oauth_error("BAD_REFRESH_TOKEN", "missing or invalid refresh token"))
        access = "emu-oauth-" + secrets.token_hex(16)
        with self._lock:
            self._access_tokens[access] = time.monotonic() + app.access_token_seconds
            self.access_tokens_issued.append(access)
        return _json(
            200,
            {
                "token_type": "bearer",
                "refresh_token": app.refresh_token,
                "access_token": access,
                "expires_in": app.access_token_seconds,
            },
        )

    def _route(
        self, method: str, path: str, query: dict[str, str], raw_body: bytes
    ) -> tuple[int, Any]:
        with self._lock:
            files = self.files
        for route_method, pattern, handler, _paged in ROUTES:
            match = pattern.match(path)
            if match is None or route_method != method:
                continue
            params = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
            try:
                body = json.loads(raw_body) if raw_body else None
            except ValueError:
                return 400, error_body("Invalid JSON body", "VALIDATION_ERROR")
            try:
                return handler(files, Request(params, query, body))
            except Refused as refused:
                return refused.status, refused.body
        return 404, error_body(f"No route for {method} {path}", "OBJECT_NOT_FOUND")


def _rate_limit_body(policy: str) -> dict[str, Any]:
    message = (
        "You have reached your daily limit."
        if policy == "DAILY"
        else "You have reached your ten_secondly_rolling limit."
    )
    return {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "groupName": "publicapi:private-app-api-calls",
    }


def _oauth_error(status: str, message: str) -> dict[str, Any]:
    """The token endpoint's error body: its ``status`` names the problem."""
    return {
        "status": status,
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "requestId": str(uuid.uuid4()),
    }


def _json(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    return _answer(status, _encode(body), headers)


def _encode(body: Any) -> bytes:
    return json.dumps(body).encode("ascii")


def _answer(
    status: int, payload: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    return (
        status,
        {
            **(headers or {}),
            "Content-Type": "application/json;charset=utf-8",
            "X-HubSpot-Correlation-Id": str(uuid.uuid4()),
        },
        payload,
    )


def _handler_for(emulator: PortalEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "hubaudit-emulator"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every response on loopback.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _respond(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length) if length else b""
            status, headers, body = emulator.handle(
                self.command, self.path, self.headers.get("Authorization"), raw_body
            )
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout test, say)

        do_GET = _respond
        do_POST = _respond

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the emulator's callers log what they need."""

    return Handler
