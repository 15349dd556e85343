"""A HubSpot portal over real HTTP, served from a folder of JSON files.

The folder holds the portal's state as HubSpot would list it::

    properties/{objectType}.json   a JSON array of Property objects (archived ones too)
    pipelines/{objectType}.json    a JSON array of Pipeline objects

and the server answers at HubSpot's own paths (``/crm/v3/properties/{objectType}`` and the
date-versioned ``/crm/properties/2026-03/{objectType}``) with HubSpot's shapes: ``{"results": …}``
bodies, bearer-token checks with HubSpot's 401 body, the ten-secondly rate limit with HubSpot's
429 body and ``X-HubSpot-RateLimit-*`` headers, an optional daily limit, latency, and faults
injected per path prefix.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# Not a secret: the emulator only ever runs locally, and accepts only this.
DEMO_TOKEN = "demo-emulator-token"  # noqa: S105

OBJECT_TYPE_IDS = {
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-5": "tickets",
    "0-7": "products",
    "0-8": "line_items",
    "0-14": "quotes",
    "0-27": "tasks",
    "0-46": "notes",
    "0-47": "meetings",
    "0-48": "calls",
    "0-49": "emails",
}

_ROUTE = re.compile(
    r"^/crm/(?:v3/(?P<resource>properties|pipelines)"
    r"|(?P<dated>properties|pipelines)/(?P<version>[0-9]{4}-[0-9]{2}(?:-beta)?))"
    r"/(?P<object_type>[^/]+)/?$"
)


@dataclass
class Fault:
    """An injected failure for requests whose path starts with ``path_prefix``."""

    path_prefix: str
    status: int
    body: dict[str, Any] | None = None
    malformed: bool = False
    times: int | None = None  # None: every time
    retry_after: float | None = None


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }


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


class PortalEmulator:
    """Serve one portal folder on 127.0.0.1. Use as a context manager, or ``start``/``stop``."""

    def __init__(
        self,
        portal_dir: Path,
        *,
        token: str = DEMO_TOKEN,
        rate_limit_per_10s: int | None = 100,
        daily_limit: int | None = None,
        latency_seconds: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.portal_dir = Path(portal_dir)
        self.token = token
        self.rate_limit_per_10s = rate_limit_per_10s
        self.daily_limit = daily_limit
        self.latency_seconds = latency_seconds
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self.requests_served = 0
        self.requests_limited = 0
        self.peak_in_window = 0
        self._daily_used = 0
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
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
            self.portal_dir = Path(portal_dir)

    def inject(
        self,
        path_prefix: str,
        status: int,
        *,
        body: dict[str, Any] | None = None,
        malformed: bool = False,
        times: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        with self._lock:
            self._faults.append(Fault(path_prefix, status, body, malformed, times, retry_after))

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

    def _count(self) -> tuple[str | None, dict[str, str]]:
        """Account for one authorised request; return the limit policy it broke, if any."""
        with self._lock:
            now = time.monotonic()
            while self._window and self._window[0] <= now - 10.0:
                self._window.popleft()
            headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
            if self.daily_limit is not None:
                headers["X-HubSpot-RateLimit-Daily"] = str(self.daily_limit)
                if self._daily_used >= self.daily_limit:
                    headers["X-HubSpot-RateLimit-Daily-Remaining"] = "0"
                    return "DAILY", headers
                self._daily_used += 1
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                    self.daily_limit - self._daily_used
                )
            if self.rate_limit_per_10s is not None:
                headers["X-HubSpot-RateLimit-Max"] = str(self.rate_limit_per_10s)
                if len(self._window) >= self.rate_limit_per_10s:
                    self.requests_limited += 1
                    headers["X-HubSpot-RateLimit-Remaining"] = "0"
                    return "TEN_SECONDLY_ROLLING", headers
                self._window.append(now)
                self.peak_in_window = max(self.peak_in_window, len(self._window))
                headers["X-HubSpot-RateLimit-Remaining"] = str(
                    self.rate_limit_per_10s - len(self._window)
                )
            self.requests_served += 1
            return None, headers

    def handle(
        self, method: str, target: str, authorization: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        url = urlsplit(target)
        path = url.path
        if authorization != f"Bearer {self.token}":
            return _json(
                401,
                error_body(
                    "Authentication credentials not found. This API supports OAuth 2.0 "
                    "authentication and you can find more details at "
                    "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                    "INVALID_AUTHENTICATION",
                ),
            )
        policy, headers = self._count()
        if policy is not None:
            message = (
                "You have reached your daily limit."
                if policy == "DAILY"
                else "You have reached your ten_secondly_rolling limit."
            )
            return _json(
                429,
                {
                    "status": "error",
                    "message": message,
                    "errorType": "RATE_LIMIT",
                    "correlationId": str(uuid.uuid4()),
                    "policyName": policy,
                    "groupName": "publicapi:private-app-api-calls",
                },
                headers,
            )
        fault = self._take_fault(path)
        if fault is not None:
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            if fault.malformed:
                return (
                    fault.status,
                    {**headers, "Content-Type": "application/json"},
                    b'{"results": [',
                )
            body = fault.body or error_body("Internal error", "INTERNAL_ERROR")
            return _json(fault.status, body, headers)
        if method != "GET":
            return _json(405, error_body(f"{method} is not served", "VALIDATION_ERROR"), headers)
        match = _ROUTE.match(path)
        if match is None:
            return _json(404, error_body(f"No route for {path}", "OBJECT_NOT_FOUND"), headers)
        resource = match.group("resource") or match.group("dated")
        object_type = unquote(match.group("object_type"))
        object_type = OBJECT_TYPE_IDS.get(object_type, object_type)
        with self._lock:
            source = self.portal_dir / resource / f"{object_type}.json"
        if not source.is_file():
            return _json(
                400,
                error_body(f"Unable to infer object type from: {object_type}", "VALIDATION_ERROR"),
                headers,
            )
        items = json.loads(source.read_text(encoding="utf-8"))
        if resource == "properties":
            archived = parse_qs(url.query).get("archived", ["false"])[0].lower() == "true"
            items = [item for item in items if bool(item.get("archived", False)) == archived]
        return _json(200, {"results": items}, headers)


def _json(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
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

        def _respond(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, headers, body = emulator.handle(
                self.command, self.path, self.headers.get("Authorization")
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _respond
        do_POST = _respond

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the emulator's callers log what they need."""

    return Handler
