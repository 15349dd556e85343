"""Notifications: Slack and a signed webhook against respx, email against a real local SMTP
server (aiosmtpd); sent once per run, only when something new happened; a failed send is
retried, recorded and never fails the audit."""

from __future__ import annotations

import email
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from hubaudit.config import NotifyConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.defects import DefectUpdate
from hubaudit.model.items import Kind
from hubaudit.notify.base import build_digest
from hubaudit.notify.dispatch import notifier_for, notify_run
from hubaudit.notify.slack import MAX_BLOCKS, MAX_HEADER, MAX_SECTION, slack_message
from hubaudit.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER
from hubaudit.store.reports import ReportStore
from hubaudit.store.repository import Store
from hubaudit.store.runs import RunStore

from .report_fixture import NOW, rich_result
from .smtp import LoopbackSMTP
from .test_cli import (  # noqa: F401 - the fixture is used by name
    baseline_then_drift,
    config_path,
    run,
)

SLACK_URL = "https://hooks.slack.example/services/T000/B000/secretpart"
HOOK_URL = "https://ops.example/hubaudit"
LEASE = timedelta(minutes=5)
HOOK_SECRET = "whsec-" + "k" * 20  # built here, never a real key


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    controller = LoopbackSMTP(inbox)
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


def test_a_digest_holds_only_what_is_new() -> None:
    result = rich_result()
    digest = build_digest(result, None)
    assert [c.defect_id for c in digest.new_defects] == [4, 6]  # opened; 5 and 7 seen again
    assert [d.id for d in digest.expired_waivers] == [11]
    assert [f.id for f in digest.new_findings] == [21]
    assert not build_digest(result, None, findings=False).new_findings
    from dataclasses import replace

    from hubaudit.model.findings import FindingUpdate

    known = replace(
        result,
        defects=DefectUpdate(seen_again=(4, 5, 6, 7)),
        expired_waivers=(),
        finding_update=FindingUpdate(seen_again=(21, 22)),
    )
    assert build_digest(known, None).empty


def test_a_slack_message_keeps_within_slacks_limits_and_escapes_portal_strings() -> None:
    result = rich_result()
    many = tuple(
        Change(
            Kind.PROPERTY,
            f"property:deals:p{n}",
            ChangeOp.MODIFIED,
            "label",
            ("label",),
            "a" * 500,
            "<!channel> " + "b" * 500,
            severity=Severity.HIGH,
            defect_id=1000 + n,
        )
        for n in range(1500)
    )
    from dataclasses import replace

    big = replace(
        result,
        changes=many,
        defects=DefectUpdate(opened=tuple(1000 + n for n in range(1500))),
        portal="x" * 400,
    )
    message = slack_message(build_digest(big, "https://reports.example/a|b>c"))
    blocks = message["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    assert len(blocks[0]["text"]["text"]) <= MAX_HEADER
    for block in blocks[1:]:
        text = block.get("text", {}).get("text") or block["elements"][0]["text"]
        assert len(text) <= MAX_SECTION
    body = json.dumps(message)
    assert "<!channel>" not in body and "&lt;!channel&gt;" in body
    assert "more in the report" in body
    assert blocks[-1]["text"]["text"] == "<https://reports.example/a%7Cb%3Ec|Open the report>"


def test_failed_sends_are_retried_recorded_and_never_name_the_secret(store: Store) -> None:
    runs = RunStore(store)
    store_run = runs.start_now("acme", "cli", "t", NOW, LEASE)
    result = rich_result()
    slack = NotifyConfig("team", "slack", url_env="HUBAUDIT_TEST_SLACK", retries=2)
    waits: list[float] = []
    with respx.mock() as mock, pytest.MonkeyPatch.context() as env:
        env.setenv("HUBAUDIT_TEST_SLACK", SLACK_URL)
        route = mock.post(SLACK_URL).mock(
            side_effect=[httpx.Response(500), httpx.Response(503), httpx.Response(200, text="ok")]
        )
        (delivery,) = notify_run(store, store_run.id, [slack], result, None, sleep=waits.append)
        assert (delivery.status, delivery.attempts, route.call_count) == ("sent", 3, 3)
        assert waits == [1.0, 2.0]
        # the same run again: already sent, nothing more goes out
        (again,) = notify_run(store, store_run.id, [slack], result, None, sleep=waits.append)
        assert again.status == "already sent" and route.call_count == 3

        other = runs.start_now("acme2", "cli", "t", NOW, LEASE)
        mock.post(SLACK_URL).mock(side_effect=httpx.ConnectError(f"cannot reach {SLACK_URL}"))
        (failed,) = notify_run(store, other.id, [slack], result, None, sleep=waits.append)
    assert failed.status == "failed" and failed.attempts == 3
    assert failed.error == "slack: ConnectError"
    recorded = ReportStore(store).notifications(other.id)
    assert recorded == [("team", "failed", 3, "slack: ConnectError")]
    assert "secretpart" not in json.dumps(recorded)

    unset = NotifyConfig("nobody", "slack", url_env="HUBAUDIT_TEST_UNSET_SLACK")
    third = runs.start_now("acme3", "cli", "t", NOW, LEASE)
    (missing,) = notify_run(store, third.id, [unset], result, None, sleep=waits.append)
    assert missing.status == "failed" and "HUBAUDIT_TEST_UNSET_SLACK is not set" in (
        missing.error or ""
    )


def test_the_webhook_signature_verifies_with_the_shared_secret() -> None:
    target = NotifyConfig("ops", "webhook", url=HOOK_URL, secret_env="HUBAUDIT_TEST_HOOK")
    with respx.mock() as mock, pytest.MonkeyPatch.context() as env:
        env.setenv("HUBAUDIT_TEST_HOOK", HOOK_SECRET)
        route = mock.post(HOOK_URL).respond(204)
        notifier_for(target).send(build_digest(rich_result(), "https://reports.example/1"))
    request = route.calls.last.request
    timestamp = request.headers[TIMESTAMP_HEADER]
    expected = hmac.new(
        HOOK_SECRET.encode(), timestamp.encode() + b"." + request.content, hashlib.sha256
    ).hexdigest()
    assert request.headers[SIGNATURE_HEADER] == f"sha256={expected}"
    tampered = request.content.replace(b"acme", b"acmf")
    wrong = hmac.new(HOOK_SECRET.encode(), timestamp.encode() + b"." + tampered, hashlib.sha256)
    assert request.headers[SIGNATURE_HEADER] != f"sha256={wrong.hexdigest()}"
    payload = json.loads(request.content)
    assert payload["event"] == "hubaudit.services.audit_run"
    assert [d["defect_id"] for d in payload["new_defects"]] == [4, 6]
    assert payload["report_url"] == "https://reports.example/1"


def test_a_nightly_run_notifies_once_and_unchanged_drift_sends_nothing(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    smtp: tuple[int, Inbox],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, inbox = smtp
    monkeypatch.setenv("HUBAUDIT_TEST_SLACK", SLACK_URL)
    monkeypatch.setenv("HUBAUDIT_TEST_HOOK", HOOK_SECRET)
    reports = tmp_path / "reports"
    with config_path.open("a", encoding="utf-8") as handle:
        handle.write(
            f'\n[reports]\nfolder = "{reports}"\nformats = ["html", "json", "sarif"]\n'
            'url = "https://reports.example/{file}"\n'
            '\n[[notify]]\nname = "revops"\nchannel = "slack"\nurl_env = "HUBAUDIT_TEST_SLACK"\n'
            f'\n[[notify]]\nchannel = "webhook"\nurl = "{HOOK_URL}"\n'
            'secret_env = "HUBAUDIT_TEST_HOOK"\n'
            f'\n[[notify]]\nchannel = "email"\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n'
            'starttls = false\nfrom = "hubaudit@example.com"\nto = ["revops@example.com"]\n'
        )
    config = str(config_path)
    with respx.mock(assert_all_called=False) as mock:
        mock.route(host="127.0.0.1").pass_through()  # the emulator
        slack = mock.post(SLACK_URL).respond(200, text="ok")
        hook = mock.post(HOOK_URL).respond(200)
        baseline_then_drift(config, emulator, portal_dirs["night2"])
        code, _ = run("--config", config, "audit", "--portal", "demo", "--format", "json")
        assert code == 2
        assert (slack.call_count, hook.call_count, len(inbox.messages)) == (1, 1, 1)

        code, _ = run("--config", config, "audit", "--portal", "demo", "--format", "json")
        assert code == 2  # the same drift: still there, nothing new to tell
        assert (slack.call_count, hook.call_count, len(inbox.messages)) == (1, 1, 1)

    posted = json.loads(slack.calls.last.request.content)
    assert posted["text"].startswith("hubaudit: demo: 18 new defects")
    assert "<https://reports.example/demo-run1.html|Open the report>" in json.dumps(posted)
    message = inbox.messages[0]
    assert message["Subject"].startswith("hubaudit: demo: 18 new defects")
    kinds = [part.get_content_type() for part in message.walk()]
    assert {"text/plain", "text/html"} <= set(kinds)
    attachment = next(p for p in message.walk() if p.get_filename())
    assert attachment.get_filename().endswith(".html")
    assert b"Drift report: portal demo" in attachment.get_payload(decode=True)
    assert sorted(p.name for p in reports.iterdir()) == [
        "demo-run1.html",
        "demo-run1.json",
        "demo-run1.sarif",
        "demo-run2.html",
        "demo-run2.json",
        "demo-run2.sarif",
    ]


def test_a_notifier_that_cannot_send_never_fails_the_audit(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUBAUDIT_TEST_SLACK", SLACK_URL)
    with config_path.open("a", encoding="utf-8") as handle:
        handle.write(
            '\n[[notify]]\nchannel = "slack"\nurl_env = "HUBAUDIT_TEST_SLACK"\nretries = 0\n'
        )
    config = str(config_path)
    with respx.mock(assert_all_called=False) as mock:
        mock.route(host="127.0.0.1").pass_through()
        slack = mock.post(SLACK_URL).respond(500)
        baseline_then_drift(config, emulator, portal_dirs["night2"])
        code, out = run("--config", config, "audit", "--portal", "demo", "--format", "json")
    assert code == 2 and json.loads(out)["summary"]["unplanned"] == 27
    assert slack.call_count == 1
    code, out = run("--config", config, "runs", "--portal", "demo", "--json")
    assert json.loads(out)[0]["status"] == "succeeded"


def test_one_targets_surprise_never_silences_the_next(store: Store, tmp_path: Path) -> None:
    """A two-line secret file, or a notifier that breaks, is recorded; the next target sends."""
    runs = RunStore(store)
    record = runs.start_now("acme", "cli", "t", NOW, LEASE)
    two_lines = tmp_path / "slack-url"
    two_lines.write_text(SLACK_URL + "\n# the revops channel\n", encoding="utf-8")
    broken = NotifyConfig("broken", "slack", url_file=two_lines)
    crashing = NotifyConfig("crashing", "webhook", url=HOOK_URL, secret_env="HUBAUDIT_TEST_HOOK")
    slack = NotifyConfig("team", "slack", url_env="HUBAUDIT_TEST_SLACK")

    class Boom:
        channel = "webhook"

        def send(self, _digest: object) -> None:
            raise ValueError(f"bad {SLACK_URL}")

    def factory(target: NotifyConfig) -> Any:
        return Boom() if target.name == "crashing" else notifier_for(target)

    with respx.mock() as mock, pytest.MonkeyPatch.context() as env:
        env.setenv("HUBAUDIT_TEST_SLACK", SLACK_URL)
        env.setenv("HUBAUDIT_TEST_HOOK", HOOK_SECRET)
        route = mock.post(SLACK_URL).respond(200)
        deliveries = notify_run(
            store,
            record.id,
            [broken, crashing, slack],
            rich_result(),
            None,
            factory=factory,
            sleep=lambda _s: None,
        )
    assert [(d.target, d.status) for d in deliveries] == [
        ("broken", "failed"),
        ("crashing", "failed"),
        ("team", "sent"),
    ]
    assert "more than one line" in (deliveries[0].error or "")
    assert deliveries[1].error == "webhook: ValueError"
    assert route.call_count == 1
    assert "secretpart" not in json.dumps(ReportStore(store).notifications(record.id))


def test_a_report_url_with_an_unknown_placeholder_is_a_config_error() -> None:
    from hubaudit.config import parse_config
    from hubaudit.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config('[reports]\nurl = "https://r.example/{portal}/{run_id}.html"\n')
    assert (caught.value.line, caught.value.key) == (2, "reports.url")
    assert "{run_id}" in str(caught.value)
