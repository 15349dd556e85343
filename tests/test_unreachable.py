"""Nothing read is a failed run (DESIGN.md rule 11): a portal that cannot be reached fails in
seconds with one line and stores nothing; a run that reads too little of what its baseline
governs fails too; what `show`, `diff` and `impact` answer is what they answered before."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from hubaudit.config import Config, Secret, load_config
from hubaudit.emulator import PortalEmulator
from hubaudit.emulator.server import missing_scopes_body
from hubaudit.errors import ConfigError, KindUnreadable, PortalUnreachable
from hubaudit.hubspot.transport import Transport
from hubaudit.model.changes import Classification
from hubaudit.model.runs import RunStatus
from hubaudit.report import render
from hubaudit.scheduler import Worker
from hubaudit.store.repository import Store
from hubaudit.store.runs import RunStore

from .report_fixture import rich_result
from .test_cli import approve, config_path, run
from .test_transport import BASE, PATH, TOKEN, FakeTime
from .test_workers import TOKEN_ENV as WORKER_TOKEN_ENV
from .test_workers import approve_all, portals_on

__all__ = ["config_path"]  # a fixture, shared with test_cli


_HELD: list[socket.socket] = []


def closed_port() -> int:
    """A loopback port nothing listens on: bound and never listening, so a connection is
    refused; held bound until the test process ends, so that no other test (on another
    xdist worker too) can be given the port and listen on it meanwhile."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    port: int = sock.getsockname()[1]
    return port


def refused(request: httpx.Request) -> httpx.Response:
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as exc:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request) from exc


def fake_transport(
    fake_time: FakeTime,
    handler: Callable[[httpx.Request], httpx.Response],
    base: str = BASE,
    retries: int = 5,
) -> Transport:
    """A transport whose HTTP client answers with ``handler`` (exceptions keep their cause)."""
    return Transport(
        base,
        Secret(TOKEN),
        portal="acme",
        max_retries=retries,
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        rng=random.Random(7),
    )


# the transport ----------------------------------------------------------------------------


def test_a_portal_that_refuses_connections_fails_within_seconds_naming_url_and_cause() -> None:
    fake_time = FakeTime()
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return refused(request)

    transport = fake_transport(fake_time, handler)
    with pytest.raises(PortalUnreachable) as raised:
        transport.get_json(PATH)
    message = str(raised.value)
    assert message.startswith(f"cannot connect to {BASE}: connection refused (")
    assert TOKEN not in message
    assert sum(fake_time.sleeps) <= 5.0  # a short bounded retry, not max_retries' backoff
    assert 2 <= len(sent) < 6
    # every later request of the run stops at once, without sending anything
    with pytest.raises(PortalUnreachable):
        transport.get_json("/crm/v3/pipelines/deals")
    assert len(sent) == transport.api_calls and set(sent) == {PATH}


def test_a_host_that_does_not_resolve_is_unreachable_and_no_password_is_shown() -> None:
    def no_such_host(request: httpx.Request) -> httpx.Response:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    transport = fake_transport(FakeTime(), no_such_host, base="https://ops:hunter2@hubspot.invalid")
    with pytest.raises(PortalUnreachable) as raised:
        transport.get_json(PATH)
    assert str(raised.value).startswith(
        "cannot connect to https://hubspot.invalid: host name not found (Name or service not known)"
    )
    assert "hunter2" not in str(raised.value)


def test_a_blip_at_the_first_request_is_retried_and_the_run_goes_on() -> None:
    answers = iter([None, {"results": [{"name": "a"}]}])

    def handler(request: httpx.Request) -> httpx.Response:
        body = next(answers)
        return refused(request) if body is None else httpx.Response(200, json=body)

    assert fake_transport(FakeTime(), handler).get_json(PATH) == {"results": [{"name": "a"}]}


def test_once_the_portal_answered_a_lost_connection_fails_only_its_part() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == PATH:
            return refused(request)
        return httpx.Response(200, json={"results": []})

    fake_time = FakeTime()
    transport = fake_transport(fake_time, handler, retries=3)
    transport.get_json("/crm/v3/pipelines/deals")
    with pytest.raises(KindUnreadable) as raised:
        transport.get_json(PATH)
    assert raised.value.category == "RETRIES_EXHAUSTED"
    assert len(fake_time.sleeps) == 3


def test_a_first_answer_refused_as_too_large_is_contact_all_the_same() -> None:
    """An answer over max_response_mb is refused, but the portal answered: a connection lost
    later fails only its part, never the whole run as unreachable."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == PATH:
            return refused(request)
        return httpx.Response(200, json={"results": ["x" * 5000]})

    fake_time = FakeTime()
    transport = fake_transport(fake_time, handler, retries=3)
    transport.max_response_bytes = 1000
    with pytest.raises(KindUnreadable) as big:
        transport.get_json("/crm/v3/pipelines/deals")
    assert big.value.category == "RESPONSE_TOO_LARGE"
    with pytest.raises(KindUnreadable) as lost:
        transport.get_json(PATH)
    assert lost.value.category == "RETRIES_EXHAUSTED"


def test_a_host_that_drops_connection_attempts_fails_within_the_grace() -> None:
    """A listening port whose queue is full drops new connection attempts: each would wait the
    request timeout (30 s); the first contact gives up after the grace instead."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):  # fill the accept queue: later attempts go unanswered
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            transport = Transport(
                f"http://127.0.0.1:{port}", Secret(TOKEN), portal="acme", connect_grace_seconds=2
            )
            started = time.monotonic()
            with pytest.raises(PortalUnreachable, match="connect timed out"):
                transport.get_json(PATH)
            assert time.monotonic() - started < 15  # not the 30 s request timeout
            transport.close()
        finally:
            for filler in fillers:
                filler.close()


def test_parts_read_at_the_same_time_wait_for_one_probe_of_a_closed_port() -> None:
    transport = Transport(f"http://127.0.0.1:{closed_port()}", Secret(TOKEN), portal="acme")
    errors: list[BaseException] = []

    def read() -> None:
        try:
            transport.get_json(PATH)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    transport.close()
    assert len(errors) == 8 and all(isinstance(e, PortalUnreachable) for e in errors)
    assert len({str(e) for e in errors}) == 1
    assert transport.api_calls <= 6  # one probe's attempts, not eight parts' retries


# the command line and the worker, over real HTTP, on both databases ----------------------


def point_config_at(config: Path, base_url: str, extra: str = "") -> None:
    text = config.read_text(encoding="utf-8")
    start = text.index('base_url = "') + len('base_url = "')
    end = text.index('"', start)
    config.write_text(extra + text[:start] + base_url + text[end:], encoding="utf-8")


def answers(config: str) -> list[tuple[int, str]]:
    """What `show`, `diff` and `impact` say about the portal now."""
    key = "property:deals:dealstage"
    return [
        run("--config", config, "show", key, "--portal", "demo"),
        run("--config", config, "diff", "--portal", "demo", "baseline", "latest"),
        run("--config", config, "impact", key, "--portal", "demo", "--json"),
        run("--config", config, "history", key, "--portal", "demo"),
    ]


def last_run(config: str) -> dict[str, object]:
    code, out = run("--config", config, "runs", "--portal", "demo", "--json")
    assert code == 0
    runs: list[dict[str, object]] = json.loads(out)
    return runs[0]


def test_the_closed_port_audit_fails_in_seconds_and_changes_no_answer(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert approve(config, "latest", "Ada")[0] == 0
    assert run("--config", config, "audit", "--portal", "demo")[0] == 0
    before = answers(config)
    assert before[0][0] == 0 and "nothing depends" not in before[2][1]
    capsys.readouterr()

    url = f"http://127.0.0.1:{closed_port()}"
    point_config_at(config_path, url)
    started = time.monotonic()
    code, out = run("--config", config, "audit", "--portal", "demo")
    elapsed = time.monotonic() - started
    assert (code, out) == (1, "")
    assert elapsed < 30  # the bound; in practice about five seconds
    errors = [line for line in capsys.readouterr().err.splitlines() if "hubaudit: error" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"hubaudit: error: cannot connect to {url}: connection refused")

    record = last_run(config)
    assert record["status"] == "failed"
    assert str(record["error"]).startswith(f"cannot connect to {url}: connection refused")
    assert record["snapshot_id"] is None and record["items"] == 0
    assert answers(config) == before  # no empty snapshot became "latest"

    code, _ = run("--config", config, "snapshot", "--portal", "demo")
    assert code == 1
    assert f"cannot connect to {url}" in capsys.readouterr().err
    assert answers(config) == before


def test_a_scheduled_run_of_an_unreachable_portal_is_failed_and_stores_nothing(
    store: Store, emulator: PortalEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WORKER_TOKEN_ENV, emulator.token)
    (portal,) = portals_on([emulator])
    approve_all(store, (portal,))
    latest = store.latest_snapshot("p00")
    url = f"http://127.0.0.1:{closed_port()}"
    config = Config("unused", (replace(portal, base_url=url),))
    runs = RunStore(store)
    now = datetime.now(UTC)
    runs.enqueue("p00", now, "schedule", now)
    started = time.monotonic()
    Worker(config, store, runs, "w1", poll_seconds=0.1).run(exit_when_idle=True)
    assert time.monotonic() - started < 30
    (record,) = runs.runs("p00", limit=5)
    assert record.status is RunStatus.FAILED
    assert (record.error or "").startswith(f"cannot connect to {url}: connection refused")
    assert record.stats.snapshot_id is None
    assert store.latest_snapshot("p00") == latest


# reading too little -------------------------------------------------------------------------


def test_a_run_that_reads_less_than_min_read_share_fails_and_stores_nothing(
    config_path: Path, emulator: PortalEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert approve(config, "latest", "Ada")[0] == 0
    before = answers(config)
    capsys.readouterr()
    for big in ("contacts", "companies", "deals"):  # 253 of the 476 items
        emulator.inject(f"/crm/v3/properties/{big}", 403, body=missing_scopes_body([big]))

    code, _ = run("--config", config, "audit", "--portal", "demo")
    assert code == 1
    err = capsys.readouterr().err
    assert "hubaudit: error: read " in err
    assert "of the 476 items baseline v1 governs" in err
    assert "less than [audit] min_read_share = 0.5" in err and "nothing was stored" in err
    assert last_run(config)["status"] == "failed"
    assert answers(config) == before

    # A lower share lets the same read through, as a run whose unread parts are not verified.
    point_config_at(config_path, emulator.base_url, "[audit]\nmin_read_share = 0.3\n\n")
    code, _ = run("--config", config, "audit", "--portal", "demo")
    assert code == 1
    (line,) = [e for e in capsys.readouterr().err.splitlines() if "hubaudit: error" in e]
    assert line.startswith("hubaudit: error: not verified: ") and "property:deals" in line
    assert last_run(config)["status"] == "succeeded"


@pytest.mark.parametrize("value", ["1.5", "-0.1", '"half"', "nan"])
def test_min_read_share_is_a_share(tmp_path: Path, value: str) -> None:
    path = tmp_path / "hubaudit.toml"
    path.write_text(f"[logging]\nlevel = 'info'\n\n[audit]\nmin_read_share = {value}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    assert str(raised.value) == (f"{path}:5: [audit.min_read_share] must be a number from 0 to 1")
    path.write_text("[audit]\nmin_read_share = 0\n")
    assert load_config(path, environ={}).audit.min_read_share == 0.0
    path.write_text("")
    assert load_config(path, environ={}).audit.min_read_share == 0.5


# reports ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_no_report_says_matches_the_baseline_while_a_part_is_not_verified(fmt: str) -> None:
    clean = replace(rich_result(), changes=())
    assert clean.not_verified and not clean.unplanned
    text = render(clean, fmt)
    assert "matches the approved baseline" not in text
    assert (
        "No unplanned changes in what was read, but 1 part of the baseline was not verified" in text
    )
    assert "matches the approved baseline." in render(replace(clean, not_verified=()), fmt)
    # planned, waived, ignored or HubSpot's own changes: no defect, but no match either
    explained = [c for c in rich_result().changes if c.classification is not Classification.DEFECT]
    assert explained
    quiet = render(replace(clean, not_verified=(), changes=tuple(explained)), fmt)
    assert "matches the approved baseline" not in quiet
    assert "No unplanned changes (the differences from the baseline are listed below)." in quiet


# a partial snapshot never stands in for what it did not read -------------------------------


def test_a_part_the_latest_snapshot_failed_comes_from_its_last_complete_read(
    config_path: Path, emulator: PortalEmulator, tmp_path: Path
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert approve(config, "latest", "Ada")[0] == 0
    key = "property:deals:dealstage"
    code, out = run("--config", config, "impact", key, "--portal", "demo", "--json")
    impact_before = json.loads(out)
    workflow = next(d["source"] for d in impact_before["dependents"])
    assert code == 0 and workflow.startswith("workflow:") and impact_before["workflows"] > 0

    emulator.inject("/automation/v4/flows", 403, body=missing_scopes_body(["automation"]))
    report = tmp_path / "report.txt"
    code, _ = run("--config", config, "audit", "--portal", "demo", "--output", str(report))
    assert code == 1  # not verified: workflow
    code, out = run("--config", config, "runs", "--portal", "demo")
    assert code == 0 and "not verified 1" in out.splitlines()[0]
    first = store_day(impact_before["snapshot"]["taken_at"])
    said = f"workflow: from snapshot #1 of {first}; its read in snapshot #2 failed: "
    assert f"(last read completely in snapshot #1 of {first})" in report.read_text()
    assert "matches the approved baseline" not in report.read_text()

    code, out = run("--config", config, "show", workflow, "--portal", "demo")
    assert code == 0 and out.splitlines()[1].startswith(said + "MISSING_SCOPES")
    code, out = run("--config", config, "diff", "--portal", "demo", "baseline", "latest")
    assert code == 0 and "No differences" in out and "Not compared" not in out
    assert f"  ? {said}" in out
    code, out = run("--config", config, "impact", key, "--portal", "demo", "--json")
    impact_after = json.loads(out)
    assert impact_after["dependents"] == impact_before["dependents"]
    assert impact_after["snapshot"]["id"] == 2
    assert [s["snapshot_id"] for s in impact_after["snapshot"]["stand_ins"]] == [1]
    code, out = run("--config", config, "impact", key, "--portal", "demo")
    assert code == 0 and said in out and "nothing in this snapshot depends" not in out
    # named, not "latest", the same snapshot stands in all the same: by id, and by date
    code, out = run("--config", config, "impact", key, "--portal", "demo", "--snapshot", "2",
                    "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["dependents"] == impact_before["dependents"]
    for where in (("--snapshot", "2"), ("--at", first[:10])):
        code, out = run("--config", config, "show", workflow, "--portal", "demo", *where)
        assert code == 0 and out.splitlines()[1].startswith(said + "MISSING_SCOPES")
    code, out = run("--config", config, "ignore", "suggest", "--portal", "demo")
    assert code == 0 and f"#   ? {said}" in out and "0 changes not yet ignored" in out
    code, out = run("--config", config, "kpis", "--portal", "demo")
    assert code == 0 and said in out
    code, out = run("--config", config, "history", workflow, "--portal", "demo")
    assert code == 0 and "? not read snapshot #2" in out and "- removed" not in out


def store_day(iso: str) -> str:
    """A stored time as the commands print it."""
    return f"{datetime.fromisoformat(iso):%Y-%m-%d %H:%M} UTC"


def test_a_part_never_read_completely_says_so(
    config_path: Path, emulator: PortalEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_path)
    emulator.inject("/automation/v4/flows", 403, body=missing_scopes_body(["automation"]))
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    capsys.readouterr()
    code, _ = run("--config", config, "show", "workflow:1201003", "--portal", "demo")
    assert code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("hubaudit: error: snapshot #1 (")
    assert line.endswith(
        "does not hold 'workflow:1201003': its part 'workflow' was never read completely up to "
        "it, and its read there failed"
    )
    code, out = run("--config", config, "diff", "--portal", "demo", "1", "latest")
    assert code == 0 and "  ? workflow: never read completely" in out
