"""Which snapshots a retention policy keeps: a pure function of their times and the clock."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from hubaudit.config import RetentionPolicy
from hubaudit.model.items import SnapshotStamp


def snapshots_to_keep(
    stamps: Sequence[SnapshotStamp],
    policy: RetentionPolicy,
    now: datetime,
    protected: Collection[int] = (),
) -> set[int]:
    """The ids of the snapshots to keep; every other one may be deleted.

    ``stamps`` are one portal's snapshots. Kept: the newest, the ``protected`` ones, those of
    the last ``daily_days`` days, the last of each of the last ``weekly_weeks`` ISO weeks, the
    last of each of the last ``monthly_months`` calendar months, and (``yearly``) the last of
    every year. Weeks, months and years are counted in UTC, the current one included."""
    if not stamps:
        return set()
    ordered = sorted(stamps, key=lambda s: (s.taken_at, s.id))
    keep = {max(s.id for s in stamps)} | (set(protected) & {s.id for s in stamps})
    daily_from = now - timedelta(days=policy.daily_days)
    keep |= {s.id for s in ordered if s.taken_at >= daily_from}
    this_week = _week_start(now)
    this_month = now.year * 12 + now.month - 1
    last_of: dict[tuple[str, int], int] = {}
    for stamp in ordered:  # later ones overwrite: the last of each bucket remains
        moment = stamp.taken_at
        weeks_ago = (this_week - _week_start(moment)).days // 7
        if weeks_ago < policy.weekly_weeks:
            last_of[("week", _week_start(moment).toordinal())] = stamp.id
        if this_month - (moment.year * 12 + moment.month - 1) < policy.monthly_months:
            last_of[("month", moment.year * 12 + moment.month)] = stamp.id
        if policy.yearly:
            last_of[("year", moment.year)] = stamp.id
    return keep | set(last_of.values())


def _week_start(moment: datetime) -> datetime:
    """Monday 00:00 of the ISO week holding ``moment`` (in ``moment``'s zone: UTC here)."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())
