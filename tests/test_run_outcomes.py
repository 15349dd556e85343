"""New is new exactly once, and dead runs: an audit killed (``kill -9``) after its defects are
committed and before its run is finished loses nothing; the run that takes it over, at once on
this host, publishes its new defects and notifies each target once. Over real HTTP (the
emulator, a webhook receiver) and on both databases."""

from __future__ import annotations

import http.server
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hubaudit.cli import main
from hubaudit.config import Config, NotifyConfig
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import UsageError
from hubaudit.logs import configure_logging
from hubaudit.model.runs import RunStats, RunStatus
from hubaudit.processes import ProcessIdentity, current_process, is_gone
from hubaudit.services.jobs import claims_renewed, execute_run
from hubaudit.store.engine import make_engine
from hubaudit.store.outcomes import include_earlier
from hubaudit.store.reports import ReportStore
from hubaudit.store.repository import Store
from hubaudit.store.runs import Renewal, RunStore
from hubaudit.store.tables import RunOutcomeRow

from .test_nightly_edges import token, write_config  # noqa: F401 - the fixture is used by name
from .test_workers import TOKEN_ENV, approve_all, portals_on

HOOK_SECRET_ENV = "HUBAUDIT_OUTCOME_HOOK"
LEASE = timedelta(minutes=5)


class Receiver:
    """A webhook receiver on loopback that keeps every delivery."""

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        received = self.deliveries

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv(HOOK_SECRET_ENV, "whsec-" + "r" * 20)  # built here, never a real key
    running = Receiver()
    yield running
    running.close()


def notified_config(
    tmp_path: Path, database_url: str, emulator: PortalEmulator, receiver: Receiver
) -> str:
    """One portal ``p0`` with night 1 approved, a webhook target and a reports folder."""
    config = write_config(tmp_path / "hubaudit.toml", database_url, emulator.base_url, 1)
    with open(config, "a", encoding="utf-8") as handle:
        handle.write(
            f'[reports]\nfolder = "{tmp_path / "reports"}"\nformats = ["json"]\n\n'
            f'[[notify]]\nname = "ops"\nchannel = "webhook"\nurl = "{receiver.url}"\n'
            f'secret_env = "{HOOK_SECRET_ENV}"\n'
        )
    return config


# The audit, stopped at a chosen moment: it says so on stdout, then waits to be killed.
KILLED_AUDIT = textwrap.dedent(
    """
    import sys, time
    from hubaudit.cli import main
    from hubaudit.model import RunStatus
    from hubaudit.store.findings import FindingStore
    from hubaudit.store.repository import Store
    from hubaudit.store.runs import RunStore

    def pause():
        print("window", flush=True)
        time.sleep(600)

    if sys.argv[2] == "defects-committed":
        update_defects = Store.update_defects

        def committed(self, *args, **kwargs):
            done = update_defects(self, *args, **kwargs)
            pause()
            return done

        Store.update_defects = committed
    elif sys.argv[2] == "findings-committed":
        update_findings = FindingStore.update

        def committed(self, *args, **kwargs):
            done = update_findings(self, *args, **kwargs)
            pause()
            return done

        FindingStore.update = committed
    else:  # published: report stored, files written, notifications sent; not finished
        finish = RunStore.finish

        def finishing(self, run_id, worker, status, *args, **kwargs):
            if status is RunStatus.SUCCEEDED:
                pause()
            return finish(self, run_id, worker, status, *args, **kwargs)

        RunStore.finish = finishing
    main(["--config", sys.argv[1], "audit", "--portal", "p0"])
    """
)


def kill_audit_at(window: str, config: str, tmp_path: Path) -> None:
    script = tmp_path / "killed_audit.py"
    script.write_text(KILLED_AUDIT, encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, str(script), config, window],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ) as audit:
        try:
            assert audit.stdout is not None
            line = audit.stdout.readline().strip()
        finally:
            audit.send_signal(signal.SIGKILL)
            _, err = audit.communicate(timeout=30)
        assert line == "window", err


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


@pytest.mark.parametrize("window", ["defects-committed", "findings-committed", "published"])
def test_new_defects_killed_before_the_run_finished_are_notified_once_after_the_takeover(
    tmp_path: Path,
    database_url: str,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    receiver: Receiver,
    token: None,  # noqa: F811
    window: str,
) -> None:
    config = notified_config(tmp_path, database_url, emulator, receiver)
    emulator.load(portal_dirs["night2"])  # 27 unplanned changes to 18 items
    kill_audit_at(window, config, tmp_path)
    assert len(receiver.deliveries) == (1 if window == "published" else 0)

    # the dead audit's process is gone from this host: its run is taken over at once, though
    # its claim has most of its 300 s lease left
    code, out = cli("--config", config, "audit", "--portal", "p0", "--format", "json")
    assert code == 2, out
    summary = json.loads(out)["summary"]
    assert (summary["defects_opened"], summary["defects_seen_again"]) == (18, 0)
    assert (summary["findings_opened"], summary["findings_reopened"]) == (2, 0)

    assert len(receiver.deliveries) == 1  # once, whichever process sent it
    (delivery,) = receiver.deliveries
    assert delivery["subject"] == "hubaudit: p0: 18 new defects, 2 new findings"
    assert (len(delivery["new_defects"]), len(delivery["new_findings"])) == (27, 2)  # changes
    code, out = cli("--config", config, "runs", "--json")
    (run,) = json.loads(out)
    assert (run["status"], run["attempts"]) == ("succeeded", 2)
    assert run["defects_opened"] == 18 and "new defects 18" in cli("--config", config, "runs")[1]
    assert "whose process" in run["error"] and "on this host is gone" in run["error"]
    assert (tmp_path / "reports" / f"p0-run{run['id']}.json").is_file()
    code, out = cli(
        "--config", config, "report", "--portal", "p0", "--run", str(run["id"]), "--format", "json"
    )
    assert code == 0 and json.loads(out)["summary"]["defects_opened"] == 18

    # the next night, the same drift is nothing new
    assert cli("--config", config, "audit", "--portal", "p0")[0] == 2
    assert len(receiver.deliveries) == 1


def test_a_takeover_that_fails_leaves_the_new_defects_to_the_portals_next_run(
    tmp_path: Path,
    database_url: str,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    receiver: Receiver,
    token: None,  # noqa: F811
) -> None:
    config = notified_config(tmp_path, database_url, emulator, receiver)
    emulator.load(portal_dirs["night2"])
    kill_audit_at("defects-committed", config, tmp_path)
    emulator.inject("/", status=401)  # the token is refused: the takeover fails
    assert cli("--config", config, "audit", "--portal", "p0")[0] == 1
    assert receiver.deliveries == []
    emulator.clear_faults()
    code, out = cli("--config", config, "audit", "--portal", "p0", "--format", "json")
    assert code == 2, out
    (delivery,) = receiver.deliveries
    assert len(delivery["new_defects"]) == 27
    code, out = cli("--config", config, "runs", "--json")
    latest, failed = json.loads(out)
    assert (failed["status"], latest["status"]) == ("failed", "succeeded")
    assert latest["defects_opened"] == 18 and delivery["run_id"] == latest["id"]
    engine = make_engine(database_url)
    try:
        with Store(engine).session() as session:
            outcomes = {
                row.run_id: row.carried_into for row in session.scalars(select(RunOutcomeRow))
            }
    finally:
        engine.dispose()
    assert outcomes == {failed["id"]: latest["id"], latest["id"]: None}


# dead runs --------------------------------------------------------------------------------


def gone_pid() -> int:
    """The id of a process that ran on this host and is gone (exited and reaped)."""
    with subprocess.Popen([sys.executable, "-c", "pass"]) as child:
        pid = child.pid
    return pid


def test_a_claim_whose_process_is_gone_from_this_host_is_taken_over_at_once(
    store: Store,
) -> None:
    here = current_process()
    now = datetime(2026, 6, 11, 2, tzinfo=UTC)
    dead = replace(here, pid=gone_pid(), started=None)
    runs = RunStore(store)
    runs.enqueue("acme", now, "schedule", now)
    first = RunStore(store, process=dead).claim_next("dead-audit", now, LEASE, ["acme"])
    assert first is not None
    taken = runs.claim_next("w", now + timedelta(seconds=1), LEASE, ["acme"])
    assert taken is not None and taken.id == first.id and taken.attempts == 2
    assert f"taken over from dead-audit, whose process {dead.pid} on this host is gone" == (
        taken.error
    )


@pytest.mark.parametrize(
    "claimer",
    [
        pytest.param(lambda here: here, id="this very process"),
        pytest.param(lambda here: replace(here, host="elsewhere", pid=gone_pid()), id="host"),
        pytest.param(
            lambda here: replace(here, namespace="another container", pid=gone_pid()),
            id="namespace",
        ),
    ],
)
def test_a_claim_of_a_live_process_or_another_host_waits_for_its_lease(
    store: Store, claimer: Any
) -> None:
    here = current_process()
    now = datetime(2026, 6, 11, 2, tzinfo=UTC)
    runs = RunStore(store)
    runs.enqueue("acme", now, "schedule", now)
    first = RunStore(store, process=claimer(here)).claim_next("other", now, LEASE, ["acme"])
    assert first is not None
    assert runs.claim_next("w", now + LEASE - timedelta(seconds=1), LEASE, ["acme"]) is None
    with pytest.raises(UsageError, match="taken over when its claim expires at 02:05:00 UTC"):
        runs.start_now("acme", "cli", "w", now + timedelta(seconds=1), LEASE)
    taken = runs.claim_next("w", now + LEASE + timedelta(seconds=1), LEASE, ["acme"])
    assert taken is not None and "whose claim expired at" in (taken.error or "")


def test_a_hand_started_audit_takes_over_a_dead_one_of_this_host_at_once(
    store: Store,
) -> None:
    now = datetime(2026, 6, 11, 2, tzinfo=UTC)
    dead = RunStore(store, process=replace(current_process(), pid=gone_pid(), started=None))
    killed = dead.start_now("acme", "cli", "host:1:cli:a", now, LEASE)
    again = RunStore(store).start_now("acme", "cli", "host:2:cli:b", now, LEASE)
    assert again.id == killed.id and again.worker == "host:2:cli:b"


def test_a_process_is_gone_when_reaped_a_zombie_or_its_id_reused() -> None:
    here = current_process()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as child:
        alive = ProcessIdentity(here.host, here.namespace, child.pid, None)
        try:
            started = child_start(child.pid)
            assert not is_gone(replace(alive, started=started), here)
            assert is_gone(replace(alive, started=started + 1), here)  # another process now
            assert not is_gone(replace(alive, host="elsewhere"), here)
        finally:
            child.kill()
        deadline = time.monotonic() + 10
        while not zombie(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert zombie(child.pid) and is_gone(alive, here)  # exited, not yet reaped
    assert is_gone(alive, here)  # reaped
    assert not is_gone(here, here)
    assert is_gone(replace(here, started=(here.started or 0) + 1), here)  # a restarted container


def child_start(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[19])


def zombie(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


# claim renewal ----------------------------------------------------------------------------


def renewal_ticks(runs: RunStore, run_id: int, worker: str) -> tuple[bool, list[str]]:
    """Renew ``run_id`` as ``worker`` for two ticks; was it stopped, and what was logged?"""
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)
    stop = threading.Event()
    beats: list[float] = []
    ticked = threading.Event()

    def beat() -> None:
        beats.append(time.monotonic())
        if len(beats) >= 2:  # the first tick's renewals are done
            ticked.set()

    with claims_renewed(runs, worker, timedelta(seconds=3), lambda: {run_id: stop}, beat=beat):
        assert ticked.wait(30), "the renewal thread never ticked"
    return stop.is_set(), [json.loads(line)["event"] for line in stream.getvalue().splitlines()]


def test_a_run_its_worker_finished_is_no_lost_claim(store: Store) -> None:
    runs = RunStore(store)
    now = datetime.now(UTC)
    runs.enqueue("acme", now, "schedule", now)
    run = runs.claim_next("w", now, LEASE, ["acme"])
    assert run is not None
    assert runs.finish(run.id, "w", RunStatus.SUCCEEDED, RunStats(), now)
    stopped, events = renewal_ticks(runs, run.id, "w")
    assert not stopped and "run.claim_lost" not in events
    assert runs.renew(run.id, "w", now, LEASE) is Renewal.ENDED


def test_a_run_another_worker_took_over_is_a_lost_claim(store: Store) -> None:
    runs = RunStore(store)
    now = datetime.now(UTC)
    runs.enqueue("acme", now, "schedule", now)
    run = runs.claim_next("w", now - LEASE * 2, LEASE, ["acme"])
    assert run is not None and runs.claim_next("other", now, LEASE, ["acme"]) is not None
    stopped, events = renewal_ticks(runs, run.id, "w")
    assert stopped and "run.claim_lost" in events


# including earlier outcomes ----------------------------------------------------------------


def test_an_earlier_outcome_counts_what_is_still_so() -> None:
    now = {"opened": (9,), "seen_again": (1, 2, 3, 4), "resolved": (8,), "expired_waivers": ()}
    earlier = [
        {"opened": (1, 5), "reopened": (2,), "resolved": (6, 3), "expired_waivers": (4,)},
        {"opened": (1,), "seen_again": (3,)},  # a second death: the same ids again
    ]
    assert include_earlier(now, earlier) == {
        "opened": (9, 1),  # 5 is no longer seen: it came and went
        "seen_again": (3, 4),
        "reopened": (2,),
        "resolved": (8, 6),  # 3 is seen again now
        "expired_waivers": (4,),
    }
    assert include_earlier(now, []) == {**dict.fromkeys(("reopened",), ()), **now}


def test_a_run_taken_over_meanwhile_leaves_publishing_to_its_new_holder(
    store: Store,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker presumed dead (its lease ran out on another host) finishes its audit after all:
    the worker that took the run over publishes it, not both."""
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    portals = portals_on([emulator])
    approve_all(store, portals)
    emulator.load(portal_dirs["night2"])
    hook = NotifyConfig("ops", "webhook", url=receiver.url, secret_env=HOOK_SECRET_ENV)
    config = Config("unused", portals, notify=(hook,))
    runs = RunStore(store)
    now = datetime.now(UTC)
    runs.enqueue("p00", now, "schedule", now)
    slow = runs.claim_next("slow", now - LEASE * 2, LEASE, ["p00"])
    assert slow is not None and runs.claim_next("w", now, LEASE, ["p00"]) is not None
    outcome = execute_run(store, runs, config, slow, "slow", threading.Event())
    assert outcome.result is not None and len(outcome.result.defects.opened) == 18
    assert receiver.deliveries == []
    with pytest.raises(UsageError, match="has no report"):
        ReportStore(store).report_document("p00", slow.id)
    (run,) = runs.runs("p00")
    assert (run.status, run.worker) == (RunStatus.RUNNING, "w")
