"""What every decision must say beside who takes it: why (a note, or a waiver's reason), and for a
waiver an end in the future. Shared by the council's and RevOps' services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from hubaudit.errors import MissingNote, MissingReason, UsageError

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def note_for(note: str | None, what: str) -> str:
    """The note saying why ``what`` is done, stripped; a decision without one is refused."""
    text = (note or "").strip()
    if not text:
        raise MissingNote(f"{what} needs a note saying why")
    return text


def optional_note(note: str | None) -> str:
    return (note or "").strip()


def waiver_terms(
    reason: str | None, until: datetime, what: str, clock: Clock
) -> tuple[str, datetime]:
    """Why (required) and now, which ``until`` must be after."""
    text = (reason or "").strip()
    if not text:
        raise MissingReason(f"a waiver needs a reason: why is this {what} tolerated?")
    now = clock()
    if until <= now:
        raise UsageError(f"a waiver until {until:%Y-%m-%d %H:%M} UTC is not in the future")
    return text, now
