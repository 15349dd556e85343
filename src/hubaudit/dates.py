"""Dates and times as people type them on the command line and in forms: a date alone means the
start (``parse_start``) or the end (``parse_end``) of that day in UTC; a time without a zone is
UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from hubaudit.errors import UsageError


def parse_start(text: str) -> datetime:
    """A date means the start of that day (UTC); a time without a zone is UTC."""
    return _parse_date(text, time.min)


def parse_end(text: str) -> datetime:
    """A date means through the end of that day (UTC); a time without a zone is UTC."""
    return _parse_date(text, time.max)


def _parse_date(text: str, at: time) -> datetime:
    stripped = text.strip()
    try:
        if len(stripped) == 10:
            return datetime.combine(date.fromisoformat(stripped), at, UTC)
        moment = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise UsageError(
            f"{text!r} is not a date (2026-12-31) or a time (2026-12-31T18:00, UTC unless it "
            "says otherwise)"
        ) from exc
