"""Points in time, item history and diffs between two points."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from hubaudit.model.baselines import BaselineInfo, BaselineStatus
from hubaudit.model.changes import Attribution, Change
from hubaudit.model.items import CoverageStatus, KindCoverage, SnapshotInfo, SnapshotStamp


@dataclass(frozen=True)
class StandIn:
    """A part a snapshot could not read, and the earlier snapshot whose complete read of it
    stands in for it: a partial snapshot never stands in for what it did not read."""

    scope: str
    failed: KindCoverage
    """The snapshot's read of the part (failed, with the reason)."""
    snapshot: SnapshotStamp | None
    """The last earlier snapshot that read the part completely; ``None`` when none did."""

    def note(self, latest: int) -> str:
        failed = f"its read in snapshot #{latest} failed" + (
            f": {self.failed.reason}" if self.failed.reason else ""
        )
        if self.snapshot is None:
            return f"{self.scope}: never read completely; {failed}"
        return (
            f"{self.scope}: from snapshot #{self.snapshot.id} of "
            f"{self.snapshot.taken_at:%Y-%m-%d %H:%M} UTC; {failed}"
        )


@dataclass(frozen=True)
class Point:
    """One side of a diff: a stored snapshot or an approved baseline version.

    ``latest`` is the latest snapshot with ``stand_ins``: for each part it failed to read, the
    last snapshot that read it (its coverage then holds that complete read)."""

    snapshot: SnapshotInfo | None = None
    baseline: BaselineInfo | None = None
    stand_ins: tuple[StandIn, ...] = ()

    def stand_in_for(self, key: str) -> StandIn | None:
        """The stand-in for the part holding ``key``, if the snapshot did not read that part."""
        if not self.stand_ins or self.snapshot is None:
            return None
        scopes = {c.scope for c in self.snapshot.coverage}
        end = key.rfind(":")
        while end > 0 and key[:end] not in scopes:  # the longest part that holds the key
            end = key.rfind(":", 0, end)
        return next((s for s in self.stand_ins if end > 0 and s.scope == key[:end]), None)

    def notes(self) -> list[str]:
        """One line per part taken from an earlier snapshot."""
        if self.snapshot is None:
            return []
        return [s.note(self.snapshot.id) for s in self.stand_ins]

    @property
    def moment(self) -> datetime:
        if self.snapshot is not None:
            return self.snapshot.taken_at
        assert self.baseline is not None
        return self.baseline.moment

    @property
    def name(self) -> str:
        if self.snapshot is not None:
            return f"snapshot #{self.snapshot.id} ({self.snapshot.taken_at:%Y-%m-%d %H:%M} UTC)"
        assert self.baseline is not None
        state = "" if self.baseline.status is BaselineStatus.APPROVED else "proposed "
        return f"baseline v{self.baseline.version} ({state}{self.baseline.moment:%Y-%m-%d} UTC)"

    @property
    def scopes(self) -> dict[str, tuple[str, ...]]:
        """The parts this point read completely, each with its filters of items not read."""
        if self.snapshot is not None:
            return {
                c.scope: c.unverified
                for c in self.snapshot.coverage
                if c.status is CoverageStatus.COMPLETE
            }
        assert self.baseline is not None
        return dict.fromkeys(self.baseline.scopes, ())


@dataclass(frozen=True)
class Diff:
    """Every change from one point to another, in the change format of ``audit``."""

    portal: str
    before: Point
    after: Point
    changes: tuple[Change, ...]
    not_compared: tuple[str, ...]
    """Parts read completely on one side only: nothing in them is reported."""


@dataclass(frozen=True)
class HistoryEntry:
    """One event in an item's life: it appeared, changed, was removed, or could not be read.

    ``at`` is the snapshot where hubaudit first saw it; ``attribution`` is HubSpot's own record
    of the edit (its time is usually earlier than ``at``)."""

    event: str  # "added" | "changed" | "removed" | "not read"
    snapshot_id: int
    at: datetime
    changes: tuple[Change, ...] = ()
    attribution: Attribution = field(default_factory=Attribution)
    canonical_hash: str | None = None
    last_seen: SnapshotStamp | None = None


@dataclass(frozen=True)
class ItemAtPoint:
    """One item as a point holds it, with the version's first appearance for snapshots."""

    key: str
    point: Point
    canonical: Mapping[str, object]
    raw: Mapping[str, object]
    first_seen: SnapshotStamp | None = None
