"""Every request on the path HubSpot's published spec gives, and the fallback to an older
spelling HubSpot still serves: over HTTP against the emulator, and at the byte level (respx)."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import respx

from hubaudit.config import PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.hubspot.transport import Transport
from hubaudit.logs import configure_logging
from hubaudit.model.items import CoverageStatus
from hubaudit.services.audit_run import open_client, run_audit, take_snapshot
from hubaudit.store.repository import Store

from .conftest import FAST_LIMIT, baseline_from_night1

# The one path hubaudit reads that no published spec has (endpoints.LEGACY_WORKFLOWS).
UNPUBLISHED = {"GET /automation/v3/workflows"}
OLDER_SPELLINGS = {
    "users": ("/settings/users/v3", "/settings/v3/users/"),
    "association_labels": (
        "/crm/associations/v4/0-1/0-2/labels",
        "/crm/v4/associations/0-1/0-2/labels",
    ),
    "schemas": ("/crm-object-schemas/v3/schemas", "/crm/v3/schemas"),
}


def published_operations(shared_hubspot: Path) -> list[re.Pattern[str]]:
    """``METHOD /path`` of every operation in HubSpot's specs, path parameters as wildcards."""
    patterns = []
    for spec in sorted((shared_hubspot / "openapi").glob("*.json")):
        for path, operations in json.loads(spec.read_text())["paths"].items():
            template = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
            for method in operations:
                if method in ("get", "post", "put", "patch", "delete"):
                    patterns.append(re.compile(f"^{method.upper()} {template}$"))
    return patterns


def test_every_request_of_an_audit_is_on_a_published_path(
    shared_hubspot: Path,
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    """Snapshot, baseline, a night of drift, an audit that reads the audit trails, and the same
    portal at date versions: every call is an operation of a published spec but one."""
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    result = run_audit(store, portal, client)
    assert result.changes, "a night of drift: the audit trails are read"
    dated = replace(portal, api_versions={"properties": "2026-03", "pipelines": "2026-03"})
    dated_client = open_client(dated, Secret(DEMO_TOKEN))
    try:
        take_snapshot(store, dated, dated_client)
    finally:
        dated_client.close()

    operations = published_operations(shared_hubspot)
    called = set(emulator.calls)
    off_spec = {c for c in called - UNPUBLISHED if not any(p.match(c) for p in operations)}
    assert off_spec == set()
    # the endpoints with an older spelling were read at the published one
    for _published, older in OLDER_SPELLINGS.values():
        assert f"GET {older}" not in called
    assert "GET /settings/users/v3" in called
    assert "GET /crm/associations/v4/0-1/0-2/labels" in called
    assert any(c.startswith("GET /crm/pipelines/2026-03/") for c in called)
    assert client.fallbacks == frozenset()


def test_a_portal_serving_only_older_spellings_is_read_through_them_once_found(
    store: Store, portal_dirs: dict[str, Path]
) -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    with PortalEmulator(
        portal_dirs["night1"], rate_limit_per_10s=FAST_LIMIT, old_spellings_only=True
    ) as emulator:
        portal = PortalConfig(
            name="older", base_url=emulator.base_url, token_env="T", rate_limit_per_10s=FAST_LIMIT
        )
        client = open_client(portal, Secret(DEMO_TOKEN))
        try:
            snapshot = take_snapshot(store, portal, client)
            fallbacks = client.fallbacks
        finally:
            client.close()
            configure_logging("console", "warning")
        calls = dict(emulator.calls)

    assert fallbacks == frozenset(OLDER_SPELLINGS)
    for _published, older in OLDER_SPELLINGS.values():
        assert calls.get(f"GET {older}", 0) >= 1
    # the published path is tried once per endpoint in the run, however many parts read it
    assert calls["GET /settings/users/v3"] == 1
    assert calls["GET /crm-object-schemas/v3/schemas"] == 1
    labels = [c for c in calls if c.startswith("GET /crm/associations/v4/") and "labels" in c]
    assert sum(calls[c] for c in labels) == 1
    assert sum(1 for c in calls if c.startswith("GET /crm/v4/associations/")) > 1
    # nothing is missing: users, labels and custom objects were read completely
    failed = [c.scope for c in snapshot.coverage if c.status is CoverageStatus.FAILED]
    assert failed == []
    assert {"user", "association_label:0-1:0-2", "object_schema"} <= {
        c.scope for c in snapshot.coverage
    }
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    fell_back = [e for e in events if e["event"] == "hubspot.path_fallback"]
    assert sorted(e["endpoint"] for e in fell_back) == sorted(OLDER_SPELLINGS)
    users = next(e for e in fell_back if e["endpoint"] == "users")
    assert (users["published"], users["fallback"], users["portal"]) == (
        "/settings/users/v3",
        "/settings/v3/users/",
        "older",
    )


BASE = "https://api.hubapi.com"
PUBLISHED_USERS = BASE + "/settings/users/v3"
OLDER_USERS = BASE + "/settings/v3/users/"


def not_found() -> httpx.Response:
    return httpx.Response(404, json={"category": "OBJECT_NOT_FOUND", "message": "not found"})


@pytest.fixture
def respx_client() -> HubSpotClient:
    transport = Transport(BASE, Secret("x"), portal="acme", max_retries=0, sleep=lambda _s: None)
    return HubSpotClient(transport)


@respx.mock
def test_a_404_on_both_spellings_is_the_published_paths_and_nothing_is_remembered(
    respx_client: HubSpotClient,
) -> None:
    published = respx.get(PUBLISHED_USERS).mock(return_value=not_found())
    older = respx.get(OLDER_USERS).mock(return_value=not_found())
    for _ in range(2):
        with pytest.raises(KindUnreadable, match="/settings/users/v3") as caught:
            respx_client.get(endpoints.USERS)
        assert caught.value.status == 404
    assert (published.call_count, older.call_count) == (2, 2)
    assert respx_client.fallbacks == frozenset()


@respx.mock
def test_an_older_spelling_that_refuses_is_still_the_one_read(
    respx_client: HubSpotClient,
) -> None:
    """A 404 on the published path and a 403 on the older one: the portal serves the older one,
    and it is the 403 (the missing scope) that the part reports."""
    published = respx.get(PUBLISHED_USERS).mock(return_value=not_found())
    older = respx.get(OLDER_USERS).mock(
        side_effect=[
            httpx.Response(403, json={"category": "MISSING_SCOPES", "message": "scopes"}),
            httpx.Response(200, json={"results": []}),
        ]
    )
    with pytest.raises(KindUnreadable) as caught:
        respx_client.get(endpoints.USERS)
    assert caught.value.status == 403
    assert respx_client.get(endpoints.USERS) == {"results": []}
    assert (published.call_count, older.call_count) == (1, 2)
    assert respx_client.fallbacks == frozenset({"users"})


@respx.mock
def test_only_a_404_falls_back(respx_client: HubSpotClient) -> None:
    published = respx.get(PUBLISHED_USERS).mock(
        return_value=httpx.Response(403, json={"category": "MISSING_SCOPES", "message": "no"})
    )
    older = respx.get(OLDER_USERS).mock(return_value=httpx.Response(200, json={"results": []}))
    with pytest.raises(KindUnreadable, match="MISSING_SCOPES"):
        respx_client.get(endpoints.USERS)
    assert (published.call_count, older.call_count) == (1, 0)


def test_date_versioned_paths_have_no_older_spelling() -> None:
    assert endpoints.USERS.legacy_path("v3", {}) == "/settings/v3/users/"
    assert endpoints.PROPERTIES.legacy_path("2026-03", {"object_type": "deals"}) is None
    assert endpoints.SCHEMAS.legacy_path("2026-03", {}) is None
