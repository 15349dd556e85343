"""Secrets scrubbed at the edges: a canary planted in every kind of secret (the portal token,
the Slack webhook's URL, the webhook's URL and signing key, the SMTP password, the database
password) is echoed back by every server that can answer with an error, and searched for in
the logs (console and JSON), the database (SQLite's bytes, Postgres's rows), every report
format and every notification record."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import AuthResult, LoginPassword

from hubaudit.config import Secret
from hubaudit.emulator import PortalEmulator
from hubaudit.emulator.server import error_body
from hubaudit.logs import configure_logging, get_logger
from hubaudit.report import FORMATS
from hubaudit.secrets import REDACTED, SecretScrubber
from hubaudit.store.reports import ReportStore
from hubaudit.store.repository import Store

from .conftest import FAST_LIMIT
from .database_dump import dump_database
from .smtp import LoopbackSMTP
from .test_cli import approve, run

TOKEN = "canary-portal-token-5d1e9a"
SLACK_KEY = "canaryslackkey91f3"
SLACK_PATH = f"/services/T0CANARY/B0CANARY/{SLACK_KEY}"
HOOK_PATH = "/hooks/catch/canary-hook-path-3b7"
SIGNING_KEY = "canary-signing-key-c41"
SMTP_USER = "hubaudit"
SMTP_PASSWORD = "canary-smtp-password-e2"
DB_PASSWORD = "canary-db-password-77"
# AUTH PLAIN's one base64 word: what an SMTP server may quote back
AUTH_PLAIN = base64.b64encode(f"\0{SMTP_USER}\0{SMTP_PASSWORD}".encode()).decode()
CANARIES = (TOKEN, SLACK_KEY, "canary-hook-path", SIGNING_KEY, SMTP_PASSWORD, DB_PASSWORD)


def leaked(text: str) -> list[str]:
    """The canaries found in ``text``, in any form a server or serializer could write."""
    found = []
    lowered = text.lower()
    for canary in (*CANARIES, AUTH_PLAIN):
        forms = {canary, quote(canary, safe=""), base64.b64encode(canary.encode()).decode()}
        if any(form.lower() in lowered for form in forms):
            found.append(canary)
    return found


def test_every_form_of_a_secret_is_scrubbed() -> None:
    scrubber = SecretScrubber()
    url = f"https://hooks.slack.example{SLACK_PATH}?token=query-canary-1234"
    scrubber.remember(url)
    scrubber.remember("https://ops.example/hubaudit")
    scrubber.remember_smtp_login(SMTP_USER, SMTP_PASSWORD)
    echoes = [
        url,
        SLACK_PATH,
        SLACK_PATH.lstrip("/"),
        f"B0CANARY/{SLACK_KEY}",
        SLACK_KEY,
        quote(url, safe=""),
        quote(url, safe="").replace("%2F", "%2f"),  # as some servers write it back
        url.replace("/", "\\/"),
        "query-canary-1234",
        SMTP_PASSWORD,
        AUTH_PLAIN,
        base64.b64encode(SMTP_PASSWORD.encode()).decode(),
    ]
    for echo in echoes:
        assert scrubber.scrub(f"error: {echo}!") == f"error: {REDACTED}!", echo
    # a part of a URL too short to be a key is left alone: the logs keep their words
    assert scrubber.scrub("hubaudit.notify /hubaudit") == "hubaudit.notify /hubaudit"
    assert scrubber.scrub("https://ops.example/hubaudit") == REDACTED
    # a short secret goes where it stands alone, never out of the middle of a word
    scrubber.remember("x")
    assert (
        scrubber.scrub("exception: password x, x.")
        == f"exception: password {REDACTED}, {REDACTED}."
    )
    assert SecretScrubber().scrub(url) == url  # knows nothing, removes nothing


def test_the_logs_scrub_what_an_event_nests_and_a_traceback_holds() -> None:
    log = get_logger("test")
    Secret(TOKEN)  # read from the environment: remembered from now on
    for fmt in ("console", "json"):
        stream = io.StringIO()
        configure_logging(fmt, "debug", stream=stream)
        log.warning("nested", detail={"echo": [f"Bearer {TOKEN}"]}, plain=TOKEN)
        try:
            raise ValueError(f"bad token {quote(TOKEN)}")
        except ValueError:
            log.exception("crashed")
        text = stream.getvalue()
        assert not leaked(text), (fmt, text)
        assert REDACTED in text and "ValueError" in text


class EchoServer:
    """Slack and the webhook receiver on loopback, answering every post with an error that
    quotes the path it was sent to and the signing key: the worst a real endpoint could do."""

    def __init__(self) -> None:
        self.posts: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                owner.posts.append(self.path)
                if self.path.startswith("/services/"):
                    status, body = 404, f"no_service: no team for {self.path}".encode()
                else:
                    # JSON with escaped slashes, as PHP writes it, and the key, percent-encoded
                    status, body = (
                        401,
                        json.dumps(
                            {
                                "error": f"bad signature for {self.path}".replace("/", "\\/"),
                                "expected_key": quote(SIGNING_KEY),
                            }
                        ).encode(),
                    )
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> EchoServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class RefusingMailServer:
    """Accepts the login, then refuses the message quoting the login it was sent."""

    logins: list[tuple[str, str]] = field(default_factory=list)

    def authenticate(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=True)

    async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:
        return f"554 5.7.1 refused for AUTH PLAIN {AUTH_PLAIN} (password {SMTP_PASSWORD})"


@pytest.fixture
def mail_server() -> Iterator[tuple[int, RefusingMailServer]]:
    server = RefusingMailServer()
    controller = LoopbackSMTP(server, authenticator=server.authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield controller.port, server
    finally:
        controller.stop()


def with_db_password(database_url: str) -> str:
    """The Postgres URL with a password (the local server trusts loopback and never asks)."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() != "postgresql" or url.password:
        return database_url
    return url.set(password=DB_PASSWORD).render_as_string(hide_password=False)


def test_canaries_in_every_secret_reach_no_log_table_report_or_record(
    database_url: str,
    portal_dirs: dict[str, Path],
    mail_server: tuple[int, RefusingMailServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    smtp_port, mail = mail_server
    reports = tmp_path / "reports"
    with (
        PortalEmulator(portal_dirs["night1"], token=TOKEN, rate_limit_per_10s=FAST_LIMIT) as hub,
        EchoServer() as echo,
    ):
        monkeypatch.setenv("HUBAUDIT_CANARY_TOKEN", TOKEN)
        monkeypatch.setenv("HUBAUDIT_CANARY_SLACK", echo.base_url + SLACK_PATH)
        monkeypatch.setenv("HUBAUDIT_CANARY_SIGNING", SIGNING_KEY)
        monkeypatch.setenv("HUBAUDIT_CANARY_SMTP", SMTP_PASSWORD)
        monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)
        config_file = tmp_path / "hubaudit.toml"
        config_file.write_text(
            f'[database]\nurl = "{with_db_password(database_url)}"\n\n'
            f'[[portals]]\nname = "demo"\nbase_url = "{hub.base_url}"\n'
            f'token_env = "HUBAUDIT_CANARY_TOKEN"\nrate_limit_per_10s = {FAST_LIMIT}\n'
            "max_retries = 1\n\n"
            f'[reports]\nfolder = "{reports}"\nformats = {json.dumps(list(FORMATS))}\n\n'
            '[[notify]]\nname = "slack"\nchannel = "slack"\n'
            'url_env = "HUBAUDIT_CANARY_SLACK"\nretries = 1\n\n'
            f'[[notify]]\nname = "hook"\nchannel = "webhook"\nurl = "{echo.base_url}{HOOK_PATH}"\n'
            'secret_env = "HUBAUDIT_CANARY_SIGNING"\nretries = 1\n\n'
            f'[[notify]]\nname = "mail"\nchannel = "email"\nsmtp_host = "127.0.0.1"\n'
            f'smtp_port = {smtp_port}\nstarttls = false\nusername = "{SMTP_USER}"\n'
            'password_env = "HUBAUDIT_CANARY_SMTP"\nfrom = "hubaudit@example.com"\n'
            'to = ["revops@example.com"]\nretries = 0\n',
            encoding="utf-8",
        )
        config = str(config_file)
        assert run("--config", config, "db", "upgrade")[0] == 0
        assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
        assert approve(config, "latest", "Ada")[0] == 0

        # HubSpot's errors quote the token: a 5xx retried once, a 403 that fails a part
        echoed = f"Bearer {TOKEN} (also {quote(TOKEN)}) is not allowed on {hub.base_url}"
        hub.inject("/crm/v3/properties/deals", 500, body=error_body(echoed, "X"), times=1)
        hub.inject("/crm/v3/pipelines/tickets", 403, body=error_body(echoed, "MISSING_SCOPES"))
        hub.load(portal_dirs["night2"])
        outputs = []
        for fmt, log_format in (("text", "console"), ("json", "json")):
            code, out = run(
                "--config", config, "--log-format", log_format, "--log-level", "debug",
                "audit", "--portal", "demo", "--format", fmt,
            )  # fmt: skip
            assert code == 2, out  # unplanned drift (and a part not verified)
            outputs.append(out)
            # something new for the next run to notify: the team edits one of its own labels
            path = portal_dirs["night2"] / "properties" / "deals.json"
            path.write_text(path.read_text().replace('"Renewal type"', '"Renewal type!"'))
        for fmt in FORMATS:
            code, out = run("--config", config, "report", "--portal", "demo", "--format", fmt)
            assert code == 0
            outputs.append(out)

        # a refused token: the run fails with HubSpot's words
        hub.inject("/", 401, body=error_body(echoed, "INVALID_AUTHENTICATION"))
        code, _ = run("--config", config, "--log-format", "json", "audit", "--portal", "demo")
        assert code == 1
        code, runs_out = run("--config", config, "runs", "--portal", "demo", "--json")
        outputs.append(runs_out)

    logs = capsys.readouterr().err
    assert len(echo.posts) == 8  # two runs, each Slack and webhook twice (one retry)
    assert mail.logins == [(SMTP_USER, SMTP_PASSWORD)] * 2
    for event in ("notify.retry", "notify.gave_up", "hubspot.retry", "run.failed"):
        assert event in logs
    assert '"event": "notify.gave_up"' in logs  # the JSON run logged too
    assert REDACTED in logs  # the echoes arrived, and were scrubbed
    assert not leaked(logs), logs

    store = Store(sa.create_engine(with_db_password(database_url)))
    try:
        records = ReportStore(store).notifications(1) + ReportStore(store).notifications(2)
    finally:
        store.engine.dispose()
    assert {(target, status) for target, status, _n, _e in records} == {
        ("slack", "failed"),
        ("hook", "failed"),
        ("mail", "failed"),
    }
    errors = " ".join(error or "" for *_rest, error in records)
    assert "no_service" in errors and "554" in errors and REDACTED in errors
    assert not leaked(errors), errors

    files = sorted(reports.iterdir())
    assert len(files) == 2 * len(FORMATS)
    texts = {str(p): p.read_text(encoding="utf-8") for p in files}
    texts |= {f"output {n}": out for n, out in enumerate(outputs)}
    assert any("MISSING_SCOPES" in text and REDACTED in text for text in texts.values())
    for name, text in texts.items():
        assert not leaked(text), name

    dump = dump_database(database_url)
    assert "INVALID_AUTHENTICATION" in dump and REDACTED in dump
    assert not leaked(dump), [line for line in dump.splitlines() if leaked(line)][:5]
