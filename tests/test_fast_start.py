"""Fast start: what a command loads before it does its work. structlog is loaded on the first
event logged, with the set-up asked for before it (a read command that logs nothing never loads
it); which heavy modules each read command does not import is checked in test_cli_read.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

TOKEN = "not-a-real-token-fast-start-test"  # a stand-in: the scrubber must hide it all the same

DEFERRED = f"""
import sys
from hubaudit.logs import configure_logging, get_logger

configure_logging("json", "info")
log = get_logger("fast")
assert "structlog" not in sys.modules, "structlog loaded before anything was logged"
log.debug("below the level")
log.info("first", token={TOKEN!r}, note="Bearer {TOKEN}")
assert "structlog" in sys.modules
configure_logging("console", "warning")  # structlog is loaded now: this takes effect at once
log.info("dropped")
log.warning("second")
"""


def test_structlog_loads_on_the_first_event_with_the_set_up_asked_for_before() -> None:
    done = subprocess.run(
        [sys.executable, "-c", DEFERRED],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2, lines
    first = json.loads(lines[0])  # the JSON set-up asked for before structlog was loaded
    assert first["event"] == "first" and first["level"] == "info"
    assert TOKEN not in done.stderr
    assert first["token"] == "********"
    assert "second" in lines[1] and not lines[1].startswith("{")  # then the console set-up
    assert "below the level" not in done.stderr and "dropped" not in done.stderr


THREADS = """
import threading
from hubaudit.logs import configure_logging, get_logger

configure_logging("json", "info")
log = get_logger("fast")
start = threading.Barrier(8)

def first_event(n):
    start.wait()
    log.info("first", thread=n)

threads = [threading.Thread(target=first_event, args=(n,)) for n in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def test_threads_logging_the_first_events_at_once_all_log_as_set_up() -> None:
    """No thread logs through structlog's defaults (to stdout) while another applies the
    set-up that was asked for before structlog was loaded."""
    done = subprocess.run(
        [sys.executable, "-c", THREADS], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    events = [json.loads(line) for line in done.stderr.splitlines()]
    assert sorted(e["thread"] for e in events) == list(range(8))
    assert {e["event"] for e in events} == {"first"}
