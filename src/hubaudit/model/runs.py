"""Recorded runs, their statistics, and the workers that claim them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class RunStats:
    """What one audit run did, for its record."""

    snapshot_id: int | None = None
    api_calls: int = 0
    rate_limited: int = 0
    rate_limit_capped: int = 0
    """Rate-limit headers held back by the transport's caps (a wait or pace beyond bounds)."""
    items: int = 0
    changes: int = 0
    defects_opened: int = 0
    defects_resolved: int = 0
    not_verified: int = 0


class RunTrigger(StrEnum):
    """Who asked for a run (the stored ``trigger`` values)."""

    SCHEDULE = "schedule"
    """the nightly schedule fired"""
    CLI = "cli"
    """a person ran ``audit`` for one portal"""
    ALL = "all"
    """a person queued every portal at once"""


@dataclass(frozen=True)
class RunRecord:
    """One audit of one portal for one round (``scheduled_for``), as the database holds it."""

    id: int
    portal: str
    scheduled_for: datetime
    trigger: RunTrigger
    status: RunStatus
    worker: str | None
    attempts: int
    queued_at: datetime
    started_at: datetime | None
    claim_expires_at: datetime | None
    finished_at: datetime | None
    stats: RunStats
    error: str | None


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    host: str
    pid: int
    role: str
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
