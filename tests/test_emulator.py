"""The emulator over real sockets: HubSpot's paths, shapes, auth, rate limit and faults."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from hubaudit.emulator import DEMO_TOKEN, EmulatedOAuthApp, PortalEmulator

from .conftest import FAST_LIMIT

AUTH = {"Authorization": f"Bearer {DEMO_TOKEN}"}


def test_serves_properties_and_pipelines_at_hubspots_paths(emulator: PortalEmulator) -> None:
    with httpx.Client(base_url=emulator.base_url, headers=AUTH) as http:
        contacts = http.get("/crm/v3/properties/contacts")
        by_id = http.get("/crm/v3/properties/0-1")
        dated = http.get("/crm/properties/2026-03/contacts")
        deals = http.get("/crm/v3/pipelines/deals")
    assert contacts.status_code == 200
    assert contacts.headers["content-type"].startswith("application/json")
    assert contacts.headers["X-HubSpot-RateLimit-Max"] == str(FAST_LIMIT)
    names = [p["name"] for p in contacts.json()["results"]]
    assert "email" in names and len(names) == 122  # the two sensitive ones are not listed
    assert by_id.json() == contacts.json() == dated.json()
    assert [p["id"] for p in deals.json()["results"]] == ["default", "75839201"]


def test_archived_properties_are_their_own_list(
    emulator: PortalEmulator, portal_dirs: dict[str, Path]
) -> None:
    path = portal_dirs["night1"] / "properties" / "tickets.json"
    props = json.loads(path.read_text())
    props[0]["archived"] = True
    path.write_text(json.dumps(props))
    with httpx.Client(base_url=emulator.base_url, headers=AUTH) as http:
        live = http.get("/crm/v3/properties/tickets").json()["results"]
        archived = http.get("/crm/v3/properties/tickets", params={"archived": "true"}).json()
    assert [p["name"] for p in archived["results"]] == [props[0]["name"]]
    assert props[0]["name"] not in [p["name"] for p in live]


def test_refuses_a_missing_or_wrong_token(emulator: PortalEmulator) -> None:
    with httpx.Client(base_url=emulator.base_url) as http:
        none = http.get("/crm/v3/properties/contacts")
        wrong = http.get("/crm/v3/properties/contacts", headers={"Authorization": "Bearer x"})
    for response in (none, wrong):
        assert response.status_code == 401
        assert response.json()["category"] == "INVALID_AUTHENTICATION"


def test_enforces_the_ten_secondly_limit_with_hubspots_429(portal_dirs: dict[str, Path]) -> None:
    with (
        PortalEmulator(portal_dirs["night1"], rate_limit_per_10s=3) as emulator,
        httpx.Client(base_url=emulator.base_url, headers=AUTH) as http,
    ):
        statuses = [http.get("/crm/v3/pipelines/deals").status_code for _ in range(5)]
        limited = http.get("/crm/v3/pipelines/deals")
    assert statuses == [200, 200, 200, 429, 429]
    body = limited.json()
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["errorType"] == "RATE_LIMIT"
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert emulator.peak_in_window == 3


def test_injected_faults_fire_the_given_number_of_times(emulator: PortalEmulator) -> None:
    emulator.inject("/crm/v3/pipelines", 502, times=1)
    emulator.inject("/crm/v3/properties/deals", 200, malformed=True, times=1)
    with httpx.Client(base_url=emulator.base_url, headers=AUTH) as http:
        assert http.get("/crm/v3/pipelines/deals").status_code == 502
        assert http.get("/crm/v3/pipelines/deals").status_code == 200
        broken = http.get("/crm/v3/properties/deals")
        with pytest.raises(json.JSONDecodeError):
            broken.json()
        assert http.get("/crm/v3/properties/deals").status_code == 200


def test_an_unknown_object_type_is_hubspots_400(emulator: PortalEmulator) -> None:
    with httpx.Client(base_url=emulator.base_url, headers=AUTH) as http:
        response = http.get("/crm/v3/properties/widgets")
    assert response.status_code == 400
    assert "Unable to infer object type from: widgets" in response.json()["message"]


def test_only_the_association_schema_reads_are_exempt_from_the_limit() -> None:
    from hubaudit.emulator.portal import is_exempt

    assert is_exempt("GET", "/crm/associations/v4/0-1/0-2/labels")
    assert is_exempt("GET", "/crm/v4/associations/0-1/0-2/labels")  # the older spelling
    assert is_exempt("GET", "/crm/associations/v4/definitions/configurations/0-1/0-2")
    for path in ("/settings/users/v3", "/automation/v4/flows", "/crm/v3/properties/deals"):
        assert not is_exempt("GET", path)


@pytest.mark.parametrize("old_spellings_only", [False, True])
def test_serves_published_paths_and_the_older_spellings_hubspot_still_serves(
    portal_dirs: dict[str, Path], old_spellings_only: bool
) -> None:
    spellings = [
        ("/settings/users/v3", "/settings/v3/users/"),
        ("/crm/associations/v4/0-1/0-2/labels", "/crm/v4/associations/0-1/0-2/labels"),
        ("/crm-object-schemas/v3/schemas", "/crm/v3/schemas"),
    ]
    with (
        PortalEmulator(portal_dirs["night1"], old_spellings_only=old_spellings_only) as emulator,
        httpx.Client(base_url=emulator.base_url, headers=AUTH) as http,
    ):
        for published, older in spellings:
            answer = http.get(older)
            assert answer.status_code == 200
            assert answer.json()["results"]
            refused = http.get(published)
            if old_spellings_only:
                assert refused.status_code == 404
                assert refused.json()["category"] == "OBJECT_NOT_FOUND"
            else:
                assert refused.json() == answer.json()


def test_oauth_mode_issues_short_lived_tokens_and_enforces_their_expiry(
    portal_dirs: dict[str, Path],
) -> None:
    app = EmulatedOAuthApp("client-id", "client-secret", "refresh-token", access_token_seconds=1)
    form = {
        "grant_type": "refresh_token",
        "client_id": "client-id",
        "client_secret": "client-secret",
        "refresh_token": "refresh-token",
    }
    with (
        PortalEmulator(portal_dirs["night1"], oauth=app) as emulator,
        httpx.Client(base_url=emulator.base_url) as http,
    ):
        refused = http.post("/oauth/v1/token", data={**form, "refresh_token": "another"})
        issued = http.post("/oauth/v1/token", data=form).json()
        bearer = {"Authorization": f"Bearer {issued['access_token']}"}
        assert http.get("/crm/v3/pipelines/deals", headers=bearer).status_code == 200
        private_app = http.get("/crm/v3/pipelines/deals", headers=AUTH)
        deadline = time.monotonic() + 10
        while (late := http.get("/crm/v3/pipelines/deals", headers=bearer)).status_code == 200:
            assert time.monotonic() < deadline, "the access token never expired"
            threading.Event().wait(0.05)
    assert (refused.status_code, refused.json()["status"]) == (400, "BAD_REFRESH_TOKEN")
    assert issued["expires_in"] == 1 and issued["refresh_token"] == "refresh-token"
    assert private_app.status_code == 401  # OAuth mode takes live access tokens only
    assert late.status_code == 401
    assert late.json()["category"] == "EXPIRED_AUTHENTICATION"
    assert "expired" in late.json()["message"]


def test_cached_answers_equal_fresh_ones_keep_limits_and_faults_and_follow_load(
    portal_dirs: dict[str, Path],
) -> None:
    """A benchmark's emulator builds each answer once: the same bytes as built fresh, still
    counted against the limit, faults still fire, and ``load`` serves the new night."""
    paths = ["/crm/v3/properties/deals", "/crm/v3/pipelines/deals", "/automation/v4/flows"]
    with (
        PortalEmulator(portal_dirs["night1"], rate_limit_per_10s=None) as fresh,
        PortalEmulator(
            portal_dirs["night1"], rate_limit_per_10s=11, cache_responses=True
        ) as cached,
        httpx.Client(base_url=fresh.base_url, headers=AUTH) as plain,
        httpx.Client(base_url=cached.base_url, headers=AUTH) as http,
    ):
        for path in paths:
            expected = plain.get(path)
            for _ in range(2):  # built, then sent again from the cache
                answer = http.get(path)
                assert (answer.status_code, answer.content) == (
                    expected.status_code,
                    expected.content,
                )
        widgets = [http.get("/crm/v3/properties/widgets").json() for _ in range(2)]
        assert widgets[0]["correlationId"] != widgets[1]["correlationId"]  # errors: never reused
        cached.inject("/crm/v3/pipelines", 502, times=1)
        assert http.get("/crm/v3/pipelines/deals").status_code == 502
        night1 = http.get("/crm/v3/properties/deals").content
        cached.load(portal_dirs["night2"])
        fresh.load(portal_dirs["night2"])
        night2 = http.get("/crm/v3/properties/deals").content
        assert night2 == plain.get("/crm/v3/properties/deals").content != night1
        assert http.get("/crm/v3/pipelines/deals").status_code == 429  # the twelfth in the window
