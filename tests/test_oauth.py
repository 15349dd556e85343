"""OAuth apps beside private-app tokens, over real HTTP against the emulator in OAuth mode:
access tokens issued through HubSpot's token endpoint, renewed before they expire and once on a
401, a refused refresh as one clear line, and no token or secret in logs, database or reports."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from hubaudit.config import OAuthApp, OAuthSources, PortalConfig, Secret, SecretSource
from hubaudit.emulator import EmulatedOAuthApp, PortalEmulator
from hubaudit.errors import HubSpotAuthError, KindUnreadable, PortalUnreachable
from hubaudit.hubspot.collectors import DEFAULT_COLLECTORS
from hubaudit.hubspot.collectors.base import collect_portal
from hubaudit.hubspot.oauth import OAuthTokens
from hubaudit.hubspot.transport import Transport
from hubaudit.model.items import CoverageStatus
from hubaudit.secrets import scrub
from hubaudit.services.audit_run import open_client

from .conftest import FAST_LIMIT
from .database_dump import dump_database
from .test_cli import run
from .test_unreachable import closed_port

# fake, shaped like HubSpot's
CLIENT_ID = "5f1c4a9e-2b7d-4c3e-9f10-0123456789ab"
CLIENT_SECRET = "0d9e8c7b-" + "6a5f-4e3d-2c1b-0a9f8e7d6c5b"
REFRESH_TOKEN = "na1-" + "7d2f-41c3-9b8a-6e5d4c3b2a10"
ENV = {
    "HUBAUDIT_TEST_CLIENT_ID": CLIENT_ID,
    "HUBAUDIT_TEST_CLIENT_SECRET": CLIENT_SECRET,
    "HUBAUDIT_TEST_REFRESH_TOKEN": REFRESH_TOKEN,
}


def installed(access_token_seconds: int = 1800) -> EmulatedOAuthApp:
    return EmulatedOAuthApp(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, access_token_seconds)


def credentials(refresh_token: str = REFRESH_TOKEN) -> OAuthApp:
    return OAuthApp(CLIENT_ID, Secret(CLIENT_SECRET), Secret(refresh_token))


def oauth_portal(base_url: str, concurrency: int = 4) -> PortalConfig:
    return PortalConfig(
        name="demo",
        base_url=base_url,
        rate_limit_per_10s=FAST_LIMIT,
        concurrency=concurrency,
        oauth=OAuthSources(*(SecretSource(env=name) for name in ENV)),
    )


def read_all(portal: PortalConfig, app: OAuthApp) -> dict[str, CoverageStatus]:
    client = open_client(portal, app)
    try:
        _items, coverage = collect_portal(client, portal, DEFAULT_COLLECTORS)
    finally:
        client.close()
    return {c.scope: c.status for c in coverage}


def assert_everything_read(parts: dict[str, CoverageStatus]) -> None:
    # the demo portal has no leads object nor the pipelines of types outside its subscription:
    # unsupported; the rest read completely
    unsupported = {scope for scope, status in parts.items() if status is CoverageStatus.UNSUPPORTED}
    assert {scope for scope in unsupported if not scope.endswith(":leads")} <= {
        f"pipeline:{kind}" for kind in ("appointments", "courses", "listings", "orders", "services")
    }
    assert {status for scope, status in parts.items() if scope not in unsupported} == {
        CoverageStatus.COMPLETE
    }


@pytest.fixture
def oauth_emulator(portal_dirs: dict[str, Path]) -> Iterator[PortalEmulator]:
    with PortalEmulator(
        portal_dirs["night1"], oauth=installed(), rate_limit_per_10s=FAST_LIMIT
    ) as running:
        yield running


def test_tokens_are_renewed_before_they_expire_so_hubspot_never_says_401(
    portal_dirs: dict[str, Path],
) -> None:
    # Tokens that live one second, a read of ~190 requests that takes a few: one request at a
    # time, each answered after 10 ms.
    with PortalEmulator(
        portal_dirs["night1"],
        oauth=installed(access_token_seconds=1),
        rate_limit_per_10s=FAST_LIMIT,
        latency_seconds=0.01,
    ) as emulator:
        parts = read_all(oauth_portal(emulator.base_url, concurrency=1), credentials())
    assert_everything_read(parts)
    assert len(emulator.access_tokens_issued) >= 2
    assert emulator.calls["POST /oauth/v1/token"] == len(emulator.access_tokens_issued)
    assert emulator.unauthorised == 0


def test_a_401_mid_run_renews_the_token_once_and_the_run_completes(
    oauth_emulator: PortalEmulator,
) -> None:
    oauth_emulator.revoke_tokens_at("/crm/v3/pipelines/deals")
    parts = read_all(oauth_portal(oauth_emulator.base_url), credentials())
    assert_everything_read(parts)
    assert oauth_emulator.unauthorised >= 1  # every request in flight with the revoked token
    assert len(oauth_emulator.access_tokens_issued) == 2  # the first, and one renewal


def test_a_second_401_with_a_fresh_token_ends_the_run(oauth_emulator: PortalEmulator) -> None:
    oauth_emulator.revoke_tokens_at("/crm/v3/pipelines/deals")
    oauth_emulator.revoke_tokens_at("/crm/v3/pipelines/deals")
    with pytest.raises(HubSpotAuthError, match="refused an OAuth access token it had just issued"):
        read_all(oauth_portal(oauth_emulator.base_url, concurrency=1), credentials())


def test_tokens_are_scrubbed_while_their_transport_is_open_and_forgotten_after(
    oauth_emulator: PortalEmulator,
) -> None:
    client = open_client(oauth_portal(oauth_emulator.base_url), credentials())
    try:
        client.transport.get_json("/crm/v3/pipelines/deals")
        [token] = oauth_emulator.access_tokens_issued
        # a server that echoes the bearer in its error body: the reason keeps no token
        oauth_emulator.inject(
            "/crm/v3/pipelines/tickets",
            403,
            body={"category": "MISSING_SCOPES", "message": f"Bearer {token} may not read this"},
        )
        with pytest.raises(KindUnreadable) as refused:
            client.transport.get_json("/crm/v3/pipelines/tickets")
        assert str(refused.value) == (
            "HTTP 403 MISSING_SCOPES: Bearer [redacted] may not read this "
            "on /crm/v3/pipelines/tickets"
        )
        for secret in (token, CLIENT_SECRET, REFRESH_TOKEN):
            assert scrub(f"<{secret}>") == "<[redacted]>"
    finally:
        client.close()
    assert scrub(token) == token  # nothing can carry it now: not searched for ever after
    assert scrub(CLIENT_SECRET) == "[redacted]"  # the app's secrets stay known


@respx.mock
def test_the_token_request_is_a_form_without_a_bearer_and_a_5xx_is_retried() -> None:
    base = "https://api.hubapi.com"
    issued = {"token_type": "bearer", "refresh_token": REFRESH_TOKEN, "expires_in": 1800}
    token_route = respx.post(base + "/oauth/v1/token").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, json={**issued, "access_token": "at-" + "1" * 40}),
        ]
    )
    api_route = respx.get(base + "/crm/v3/properties/deals").mock(
        return_value=httpx.Response(200, json={"results": []})
    )
    transport = Transport(base, OAuthTokens(credentials()), sleep=lambda _seconds: None)
    assert transport.get_json("/crm/v3/properties/deals") == {"results": []}
    asked = token_route.calls[-1].request
    assert "Authorization" not in asked.headers
    assert asked.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(asked.content.decode()) == {
        "grant_type": ["refresh_token"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "refresh_token": [REFRESH_TOKEN],
    }
    assert api_route.calls[0].request.headers["Authorization"] == "Bearer at-" + "1" * 40
    assert transport.api_calls == 3  # the token endpoint's two answers and the read


def write_config(tmp_path: Path, database_url: str, base_url: str, log_format: str) -> str:
    path = tmp_path / "hubaudit.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n'
        f'[logging]\nformat = "{log_format}"\nlevel = "debug"\n\n'
        f'[reports]\nfolder = "{tmp_path / "reports"}"\n'
        'formats = ["text", "md", "html", "json", "csv", "sarif"]\n\n'
        f'[[portals]]\nname = "demo"\nbase_url = "{base_url}"\n'
        f"rate_limit_per_10s = {FAST_LIMIT}\n"
        'client_id_env = "HUBAUDIT_TEST_CLIENT_ID"\n'
        'client_secret_env = "HUBAUDIT_TEST_CLIENT_SECRET"\n'
        'refresh_token_file = "refresh-token"\n',
        encoding="utf-8",
    )
    return str(path)


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)
    monkeypatch.setenv("HUBAUDIT_TEST_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("HUBAUDIT_TEST_CLIENT_SECRET", CLIENT_SECRET)
    (tmp_path / "refresh-token").write_text(REFRESH_TOKEN + "\n", encoding="utf-8")


def test_a_refused_refresh_is_one_clear_line(
    app_env: None,
    tmp_path: Path,
    portal_dirs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = EmulatedOAuthApp(CLIENT_ID, CLIENT_SECRET, "na1-another-portals-refresh-token")
    with PortalEmulator(portal_dirs["night1"], oauth=other) as emulator:
        config = write_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", emulator.base_url, "json")
        assert run("--config", config, "db", "upgrade")[0] == 0
        code, _ = run("--config", config, "snapshot", "--portal", "demo")
    assert code == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("{")]
    assert errors == [
        "hubaudit: error: portal 'demo': HubSpot did not issue an OAuth access token "
        "(HTTP 400: missing or invalid refresh token on /oauth/v1/token); check the app's "
        "client id and client secret and the portal's refresh token (it stops working when "
        "the app is uninstalled)"
    ]
    assert emulator.calls == {"POST /oauth/v1/token": 1}  # refused once, never retried


def test_tokens_and_secrets_never_reach_logs_the_database_or_reports(
    app_env: None,
    database_url: str,
    tmp_path: Path,
    portal_dirs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    with PortalEmulator(
        portal_dirs["night1"], oauth=installed(), rate_limit_per_10s=FAST_LIMIT
    ) as emulator:
        # console logs for the first read, JSON for the audit; debug level both times
        config = write_config(tmp_path, database_url, emulator.base_url, "console")
        assert run("--config", config, "db", "upgrade")[0] == 0
        assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
        approved = run(
            "--config", config, "baseline", "approve", "--portal", "demo",
            "--from-snapshot", "latest", "--by", "Ada", "--note", "Q4",
        )  # fmt: skip
        assert approved[0] == 0
        console = capsys.readouterr()
        config = write_config(tmp_path, database_url, emulator.base_url, "json")
        emulator.load(portal_dirs["night2"])
        emulator.revoke_tokens_at("/crm/v3/pipelines")
        code, audit_out = run("--config", config, "audit", "--portal", "demo")
        assert code == 2
        runs = run("--config", config, "runs", "--portal", "demo", "--json")[1]
        logged = capsys.readouterr()
    issued = emulator.access_tokens_issued
    assert len(issued) == 3  # one per command, and one renewal after the 401
    events = [json.loads(line) for line in logged.err.splitlines() if line.startswith("{")]
    assert "hubspot.oauth_token_issued" in {e["event"] for e in events}
    assert "hubspot.oauth_token_issued" in console.err
    reports = sorted((tmp_path / "reports").iterdir())
    assert len(reports) == 6
    everything = {
        "console logs": console.err + console.out,
        "JSON logs": logged.err + logged.out + audit_out + runs,
        "reports": "\n".join(path.read_text(encoding="utf-8") for path in reports),
        "database": dump_database(database_url),
    }
    for where, text in everything.items():
        assert text, where
        for secret in (CLIENT_SECRET, REFRESH_TOKEN, *issued):
            assert secret not in text, f"a secret in the {where}"


def test_an_oauth_portal_nothing_answers_at_fails_as_unreachable_within_seconds() -> None:
    # The token request is the first contact: it probes the portal, the reads wait for it, and
    # the run ends with the unreachable portal, not with a refused token (nor a deadlock).
    portal = oauth_portal(f"http://127.0.0.1:{closed_port()}")
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_all(portal, credentials())
        except BaseException as exc:  # the test looks at it below
            outcome.append(exc)

    reading = threading.Thread(target=read, daemon=True)
    reading.start()
    reading.join(timeout=30)
    assert not reading.is_alive(), "the read hangs"
    [error] = outcome
    assert isinstance(error, PortalUnreachable)
    assert "connection refused" in str(error)
