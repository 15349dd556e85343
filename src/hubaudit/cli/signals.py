"""Stopping on SIGTERM and SIGINT: a long command (an audit, the scheduler, a worker) ends its
runs cleanly instead of dying half-way. Only the CLI installs signal handlers."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def stopping_on_signals(stop: Callable[[], None], what: str) -> Iterator[None]:
    """While inside, SIGTERM and SIGINT call ``stop`` and say ``what`` happens next."""

    def handle(signum: int, _frame: object) -> None:
        print(f"hubaudit: {signal.Signals(signum).name}: stopping; {what}", file=sys.stderr)
        stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


RUN_ENDS = "the run ends at its next HubSpot request"
RUNS_END = "runs in flight end at their next HubSpot request"
