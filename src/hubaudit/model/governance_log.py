"""The governance log: every decision, with who, when and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from hubaudit.model.items import JSONValue


@dataclass(frozen=True)
class LogEntry:
    """One record of the governance log: who did what to which subject, when, and why."""

    id: int
    portal: str
    at: datetime
    actor: str
    action: str
    subject: str
    note: str
    detail: Mapping[str, JSONValue] = field(default_factory=dict)


@dataclass(frozen=True)
class LogRecord:
    """A governance log entry the rules decided to write (the store adds the portal and time)."""

    actor: str
    action: str
    subject: str
    note: str
    detail: Mapping[str, JSONValue] = field(default_factory=dict)
