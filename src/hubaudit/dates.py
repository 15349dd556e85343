"""Dates as people type them: ``2026-12-31`` or ``2026-12-31T18:00`` (UTC unless it says
otherwise). A date alone means the start of that day for a start and its end for an end, so a
waiver "until 2026-12-31" lasts through the 31st. Shared by every edge that reads a date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from hubaudit.errors import UsageError


def parse_start(text: str) -> datetime:
    """A date means the start of that day (UTC); a time without a zone is UTC."""
    return _parse(text, time.min)


def parse_end(text: str) -> datetime:
    """A date means through the end of that day (UTC); a time without a zone is UTC."""
    return _parse(text, time.max)


def _parse(text: str, at: time) -> datetime:
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
