"""Which process holds a claim, and whether it is certainly gone.

A claim on a run names the process that made it: the host name, where its process id means
something (the boot and the pid namespace: two containers on one machine share a host name
with host networking but not their process ids), the process id, and the process's start time
(so a process id reused by a later process is not taken for the claimer). A claim made on this
host, in this namespace, by a process that no longer runs, is dead at once; a claim made
anywhere else can only be judged by its lease.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcessIdentity:
    host: str
    namespace: str
    """Boot id and pid namespace; empty where the system does not say (no ``/proc``)."""
    pid: int
    started: int | None
    """Start time in clock ticks after boot (``/proc/<pid>/stat`` field 22), when known."""


def current_process(proc: Path = PROC) -> ProcessIdentity:
    pid = os.getpid()
    return ProcessIdentity(socket.gethostname(), namespace_of(proc), pid, _stat(proc, pid)[1])


def namespace_of(proc: Path = PROC) -> str:
    try:
        boot = (proc / "sys" / "kernel" / "random" / "boot_id").read_text("ascii").strip()
        pids = os.readlink(proc / "self" / "ns" / "pid")
    except OSError:
        return ""
    return f"{boot}/{pids}"


def is_gone(claimer: ProcessIdentity, here: ProcessIdentity, proc: Path = PROC) -> bool:
    """Is the process that made a claim certainly not running? Only a process of this host and
    namespace can be looked at; any other is presumed alive (its lease decides)."""
    if (claimer.host, claimer.namespace) != (here.host, here.namespace):
        return False
    if claimer.pid == here.pid:
        return claimer.started is not None and claimer.started != here.started
    try:
        os.kill(claimer.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user has that id: is it the claimer?
        pass
    state, started = _stat(proc, claimer.pid)
    if state in ("Z", "X"):  # exited; its parent has not reaped it yet
        return True
    return claimer.started is not None and started is not None and started != claimer.started


def _stat(proc: Path, pid: int) -> tuple[str | None, int | None]:
    """A process's state letter and start time, from ``/proc/<pid>/stat``."""
    try:
        text = (proc / str(pid) / "stat").read_text("ascii", errors="replace")
    except OSError:
        return None, None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses; it ends at the last ")"
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return fields[0], int(fields[19])  # fields 3 and 22 of the whole line
    except (IndexError, ValueError):
        return None, None
