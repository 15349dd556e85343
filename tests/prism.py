"""Stoplight Prism serving HubSpot's published OpenAPI specs, behind a small routing proxy.

One Prism process serves one spec, so the contract test starts one per spec, each on its own
port, and puts a proxy in front that sends each request to the spec that has its path. The specs
are prepared for Prism first (copies in a temporary folder; paths, parameters and required
fields untouched): every ``"example": null`` dropped, the shared error response's ``*/*``
content served as ``application/json``, and the flows spec's cyclic ``*FilterBranch`` schemas
cut to plain objects (as they stand, Prism never finishes loading it) that keep only their
``filterBranchType``, so that a ``oneOf`` of branches still matches exactly one.

Prism's random generator (json-schema-faker) sometimes fails on a seed (an empty object inside
a ``oneOf`` list) or produces an answer its own response validation rejects; the proxy then
asks again with the next seed, so every answer hubaudit sees is random and schema-valid.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

REPO = Path(__file__).resolve().parents[1]
CONTRACT_DIR = REPO / "tests" / "contract"
# Installed by `npm ci` in tests/contract (tests/run.sh and .ci/run do it); HUBAUDIT_PRISM
# names another Prism executable.
PRISM = Path(os.environ.get("HUBAUDIT_PRISM", CONTRACT_DIR / "node_modules" / ".bin" / "prism"))
# The one path hubaudit reads that no published spec has (endpoints.LEGACY_WORKFLOWS); the proxy
# answers it with HubSpot's real response from ../shared/hubspot/samples.
UNPUBLISHED = {"/automation/v3/workflows": "workflows-v3-legacy.json"}
# The specs of every API hubaudit reads (of ../shared/hubspot/openapi): one Prism each.
SPECS_READ = (
    "account-audit-logs-v3.json",
    "account-info-v3.json",
    "automation-flows-v4.json",
    "crm-associations-schema-v4.json",
    "crm-pipelines-2026-03.json",
    "crm-pipelines-v3.json",
    "crm-properties-2026-03.json",
    "crm-properties-v3.json",
    "crm-schemas-v3.json",
    "settings-users-v3.json",
)
# a deadline, not a wait: on a loaded two-core machine ten Prisms take minutes to start
STARTUP_SECONDS = 240.0
LISTENING = re.compile(r"Prism is listening on http://127\.0\.0\.1:([0-9]+)")


def prepared(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as Prism can load it, with the same paths, parameters and required fields."""

    def without_null_examples(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: without_null_examples(value)
                for key, value in node.items()
                if not (key == "example" and value is None)
            }
        if isinstance(node, list):
            return [without_null_examples(value) for value in node]
        return node

    spec = without_null_examples(spec)
    for response in spec.get("components", {}).get("responses", {}).values():
        content = response.get("content", {})
        if "*/*" in content:
            content["application/json"] = content.pop("*/*")
    schemas = spec.get("components", {}).get("schemas", {})
    for name, schema in list(schemas.items()):
        if name.endswith("FilterBranch"):
            branch_type = schema["properties"]["filterBranchType"]
            schemas[name] = {
                "type": "object",
                "title": schema.get("title", name),
                "required": ["filterBranchType"],
                "properties": {"filterBranchType": {"type": "string", "enum": branch_type["enum"]}},
            }
    return spec


def path_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


@dataclass(frozen=True)
class Exchange:
    """One request hubaudit sent through the proxy, and how it was answered."""

    method: str
    path: str
    query: str
    spec: str | None  # None: no published spec has the path
    status: int
    problem: str  # Prism's validation problem (its 422 body), else ""


@dataclass
class PrismSpec:
    name: str
    port: int
    patterns: list[tuple[str, re.Pattern[str]]]  # (METHOD, path)


class RoutingProxy:
    """An HTTP server that forwards each request to the Prism serving the spec with its path,
    asking Prism for a random answer seeded by ``seed`` and the request (the same request gets
    the same answer, so a page that names a next page names it again), and records every
    exchange.

    Prism fills every optional field, so every random page names a next one; with ``last_pages``
    the proxy drops ``paging`` (optional in every spec) from the answers, and lists end.
    """

    def __init__(self, specs: list[PrismSpec], samples: Path) -> None:
        self.specs = specs
        self.samples = samples
        self.seed = "1"
        self.last_pages = False
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=60.0)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def take(self) -> list[Exchange]:
        with self._lock:
            taken, self.exchanges = self.exchanges, []
        return taken

    def route(self, method: str, path: str) -> PrismSpec | None:
        for spec in self.specs:
            if any(m == method and p.match(path) for m, p in spec.patterns):
                return spec
        return None

    def forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        url = urlsplit(target)
        spec = self.route(method, url.path)
        problem = ""
        if spec is None and method == "GET" and url.path in UNPUBLISHED:
            status, content_type = 200, "application/json"
            payload = (self.samples / UNPUBLISHED[url.path]).read_bytes()
        elif spec is None:
            status, content_type = 404, "application/json"
            payload = json.dumps(
                {"category": "OBJECT_NOT_FOUND", "message": f"no spec has {url.path}"}
            ).encode()
        else:
            sent = {k: v for k, v in headers.items() if k.lower() in _FORWARDED}
            query = "&".join(q for q in url.query.split("&") if not q.startswith("after="))
            for attempt in range(GENERATION_ATTEMPTS):
                sent["Prefer"] = (
                    f"dynamic=true, seed={self.seed}-{attempt}-{method}-{url.path}?{query}"
                )
                answer = self._http.request(
                    method,
                    f"http://127.0.0.1:{spec.port}{target}",
                    headers=sent,
                    content=body or None,
                )
                if not _failed_to_generate(answer):
                    break
            status, payload = answer.status_code, answer.content
            content_type = answer.headers.get("content-type", "application/json")
            if self.last_pages and status == 200:
                payload = _without_paging(payload)
            if status >= 400:
                problem = answer.text[:4000]
        with self._lock:
            self.exchanges.append(
                Exchange(method, url.path, url.query, spec.name if spec else None, status, problem)
            )
        return status, content_type, payload


_FORWARDED = {"authorization", "content-type", "accept"}
GENERATION_ATTEMPTS = 20


def _failed_to_generate(answer: httpx.Response) -> bool:
    """Prism's generator failed, or made an answer that breaks the spec — and the request was
    valid (a request Prism rejects is a 422, or a 500 that names a request violation)."""
    if answer.status_code != 500:
        return False
    problem = answer.json()
    violations = problem.get("validation") or []
    if str(problem.get("type", "")).endswith("#UNKNOWN"):
        return True
    return bool(violations) and all(v.get("location", [""])[0] == "response" for v in violations)


def _without_paging(payload: bytes) -> bytes:
    body = json.loads(payload)
    if isinstance(body, dict) and "paging" in body:
        del body["paging"]
        return json.dumps(body).encode()
    return payload


def _handler_for(proxy: RoutingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, content_type, payload = proxy.forward(
                self.command, self.path, dict(self.headers.items()), body
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _forward
        do_POST = _forward

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the exchanges are recorded."""

    return Handler


@contextmanager
def prism_behind_proxy(shared_hubspot: Path, work: Path) -> Iterator[RoutingProxy]:
    """Prism (``--errors``: an invalid request is answered 422) on every spec of
    ``../shared/hubspot/openapi`` that hubaudit reads, and the proxy in front of them."""
    specs: list[PrismSpec] = []
    with ExitStack() as stack:
        started: list[tuple[PrismSpec, subprocess.Popen[bytes], Path]] = []
        for source in (shared_hubspot / "openapi" / name for name in SPECS_READ):
            document = prepared(json.loads(source.read_text(encoding="utf-8")))
            copy = work / source.name
            copy.write_text(json.dumps(document), encoding="utf-8")
            patterns = [
                (method.upper(), path_pattern(path))
                for path, operations in document["paths"].items()
                for method in operations
                if method in ("get", "post", "put", "patch", "delete")
            ]
            spec = PrismSpec(source.name, 0, patterns)  # the port Prism says it took
            log = work / f"{source.stem}.log"
            process = subprocess.Popen(
                # port 0: the system picks a free port as Prism binds it, so parallel test
                # workers (and anything else listening) never race for one
                [str(PRISM), "mock", "--errors", "-h", "127.0.0.1", "-p", "0", copy],
                stdout=stack.enter_context(log.open("wb")),
                stderr=subprocess.STDOUT,
                cwd=CONTRACT_DIR,
            )
            stack.callback(_end, process)
            started.append((spec, process, log))
            specs.append(spec)
        deadline = time.monotonic() + STARTUP_SECONDS
        for spec, process, log in started:
            _await_listening(spec, process, log, deadline)
        proxy = RoutingProxy(specs, shared_hubspot / "samples")
        proxy.start()
        stack.callback(proxy.stop)
        yield proxy


def _await_listening(
    spec: PrismSpec, process: subprocess.Popen[bytes], log: Path, deadline: float
) -> None:
    while (listening := LISTENING.search(log.read_text(errors="replace"))) is None:
        if process.poll() is not None:
            raise RuntimeError(f"Prism exited on {spec.name}: {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Prism did not start on {spec.name} in {STARTUP_SECONDS:.0f} s")
        time.sleep(0.1)  # polling Prism's log for its "listening" line, up to the deadline
    spec.port = int(listening.group(1))


def _end(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
