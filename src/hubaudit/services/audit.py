"""Reading portals: take a snapshot, audit one portal, audit every portal of the config.

Each audit is a recorded run (``runs`` lists it), claimed before it starts so no portal is
audited twice at once; its outcome is returned as a value, never printed. What a person sees
and which exit code it means are the edge's business: :func:`verdict` says what an outcome
amounts to, in the audit's own terms.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hubaudit.model.audit_result import AuditResult
from hubaudit.model.changes import Severity
from hubaudit.model.items import SnapshotInfo
from hubaudit.model.runs import RunStatus, RunTrigger
from hubaudit.services.portals import coverage_document

if TYPE_CHECKING:
    from hubaudit.config import Config
    from hubaudit.services.audit_run import Clock
    from hubaudit.services.jobs import RunOutcome
    from hubaudit.store.repository import Store


@dataclass(frozen=True)
class SnapshotTaken:
    """A snapshot stored, with the policy findings judged on it."""

    snapshot: SnapshotInfo
    api_calls: int
    findings: int
    """Policy breaches present in the snapshot (open or waived)."""
    findings_new: int
    """Of those, opened or reopened by this snapshot."""


def take_portal_snapshot(
    store: Store, config: Config, portal_name: str, clock: Clock | None = None
) -> SnapshotTaken:
    """Read the portal, store what was read as one snapshot, and judge the policies on it."""
    from hubaudit.config import resolve_token
    from hubaudit.services.audit_run import (
        open_client,
        portal_view,
        record_findings,
        take_snapshot,
        utc_now,
    )

    now = clock or utc_now
    portal = config.portal(portal_name)
    client = open_client(portal, resolve_token(portal))
    try:
        snapshot = take_snapshot(
            store, portal, client, clock=now, min_read_share=config.audit.min_read_share
        )
    finally:
        client.close()
    found, findings, _resolved = record_findings(
        store, portal_view(store, snapshot), config.policies, clock=now
    )
    return SnapshotTaken(
        snapshot, client.api_calls, len(findings), len(found.opened) + len(found.reopened)
    )


def snapshot_document(taken: SnapshotTaken) -> dict[str, Any]:
    """``snapshot --json``."""
    snapshot = taken.snapshot
    return {
        "id": snapshot.id,
        "portal": snapshot.portal,
        "taken_at": snapshot.taken_at.isoformat(),
        "item_count": snapshot.item_count,
        "api_calls": taken.api_calls,
        "findings": taken.findings,
        "findings_opened": taken.findings_new,
        "coverage": coverage_document(snapshot.coverage),
    }


class Verdict(StrEnum):
    """What one audit amounts to."""

    CLEAN = "clean"
    DRIFT = "drift"
    """Unplanned changes at or above the threshold."""
    NOT_VERIFIED = "not verified"
    """No drift seen, but some part it governs could not be read: not a clean bill."""
    FAILED = "failed"
    """No result: the run failed, was stopped, or was never run."""


def has_drift(result: AuditResult, threshold: Severity) -> bool:
    """Any unplanned change at or above ``threshold``?"""
    return any(change.severity.rank >= threshold.rank for change in result.unplanned)


def verdict(result: AuditResult | None, threshold: Severity) -> Verdict:
    if result is None:
        return Verdict.FAILED
    if has_drift(result, threshold):
        return Verdict.DRIFT
    if result.not_verified:
        return Verdict.NOT_VERIFIED
    return Verdict.CLEAN


def audit_portal(
    store: Store,
    config: Config,
    portal_name: str,
    stop: threading.Event,
    trigger: RunTrigger = RunTrigger.CLI,
) -> RunOutcome:
    """Audit one portal now, as a recorded run. Setting ``stop`` ends it at its next HubSpot
    request, storing nothing half-way (the outcome is then ``abandoned``). The portal needs an
    approved baseline; a run of it in progress elsewhere is an error, not a second run."""
    from hubaudit.scheduler import worker_name
    from hubaudit.services.audit_run import require_baseline, utc_now
    from hubaudit.services.jobs import claims_renewed, execute_run, stopped_run
    from hubaudit.store.runs import RunStore

    config.portal(portal_name)
    require_baseline(store, portal_name)
    runs = RunStore(store)
    name = worker_name(trigger)
    lease = timedelta(seconds=config.schedule.lease_seconds)
    run = runs.start_now(portal_name, trigger, name, utc_now(), lease)
    try:
        with claims_renewed(runs, name, lease, lambda: {run.id: stop}):
            return execute_run(store, runs, config, run, name, stop)
    except KeyboardInterrupt:  # outside the HubSpot requests: the run still ends in its record
        stopped_run(runs, run, name, utc_now())
        raise


@dataclass(frozen=True)
class PortalRound:
    """One portal of an audit of every portal: its outcome, or why it was not run."""

    portal: str
    outcome: RunOutcome | None = None
    not_run: str | None = None

    @property
    def result(self) -> AuditResult | None:
        return self.outcome.result if self.outcome is not None else None


@dataclass(frozen=True)
class AllAudited:
    """Every portal of the config, in its order."""

    rounds: tuple[PortalRound, ...]
    stopped_early: bool
    """Stopped (a signal) before every portal was done; unfinished runs are queued again."""


class AllPortalsAudit:
    """Audit every portal of the config, ``parallel_portals`` at a time, each paced by its own
    rate limit. A round of a portal already queued (by the nightly job) is taken over, not
    doubled. ``stop()`` (from a signal handler) ends runs in flight at their next request."""

    def __init__(
        self,
        store: Store,
        config: Config,
        on_outcome: Callable[[RunOutcome], None] | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        from hubaudit.errors import UsageError
        from hubaudit.scheduler import Worker, worker_name
        from hubaudit.store.runs import RunStore

        if not config.portals:
            raise UsageError("the config has no [[portals]]")
        self.store = store
        self.config = config
        self.runs = RunStore(store)
        self._done: list[RunOutcome] = []
        self._on_outcome = on_outcome
        self._stopped = threading.Event()
        self.worker = Worker(
            config,
            store,
            self.runs,
            worker_name("cli"),
            poll_seconds=poll_seconds,
            on_outcome=self._finished,
        )

    def _finished(self, outcome: RunOutcome) -> None:
        self._done.append(outcome)
        if self._on_outcome is not None:
            self._on_outcome(outcome)

    @property
    def done(self) -> int:
        return len(self._done)

    @property
    def total(self) -> int:
        return len(self.config.portals)

    def stop(self) -> None:
        self._stopped.set()
        self.worker.stop()

    def run(self) -> AllAudited:
        from hubaudit.services.audit_run import utc_now

        now = utc_now()
        mine: list[int] = []
        for portal in self.config.portals:
            queued = self.runs.enqueue(portal.name, now, RunTrigger.ALL, now)
            waiting = queued or self.runs.open_run(portal.name)
            if waiting is not None and waiting.status is RunStatus.QUEUED:
                mine.append(waiting.id)  # a round already waiting is taken over, not doubled
        self.worker.run(exit_when_idle=True, only=mine)
        outcomes = {outcome.run.portal: outcome for outcome in self._done}
        rounds = []
        for portal in self.config.portals:
            outcome = outcomes.get(portal.name)
            if outcome is not None:
                rounds.append(PortalRound(portal.name, outcome))
                continue
            busy = self.runs.open_run(portal.name)
            why = (
                f"being audited by {busy.worker} (run #{busy.id})"
                if busy is not None and busy.status is RunStatus.RUNNING
                else "stopped before it started"
            )
            rounds.append(PortalRound(portal.name, not_run=why))
        stopped_early = self._stopped.is_set() and len(self._done) < self.total
        return AllAudited(tuple(rounds), stopped_early)
