"""What to run next, for the errors whose words say what is wrong but not which command helps.

The store and the services name no CLI command; the CLI adds the hint, chosen by the
exception's class (the most specific class listed wins)."""

from __future__ import annotations

from collections.abc import Callable

from hubaudit.errors import (
    NoAuditReport,
    NoSuchRun,
    PortalNotStored,
    ProposalPending,
    SchemaNotCurrent,
)


def _portal_not_stored(exc: BaseException) -> str:
    assert isinstance(exc, PortalNotStored)
    return f"run `hubaudit snapshot --portal {exc.portal}` first"


def _no_audit_report(exc: BaseException) -> str:
    assert isinstance(exc, NoAuditReport)
    return f"run `hubaudit audit --portal {exc.portal}` first"


HINTS: dict[type[BaseException], Callable[[BaseException], str]] = {
    PortalNotStored: _portal_not_stored,
    ProposalPending: lambda _exc: "`hubaudit baseline approve|reject`",
    NoAuditReport: _no_audit_report,
    NoSuchRun: lambda _exc: "see `hubaudit runs`",
    SchemaNotCurrent: lambda _exc: "run `hubaudit db upgrade`",
}


def hint_for(exc: BaseException) -> str | None:
    """The next step to suggest for ``exc``, or ``None`` when its message says it all."""
    for cls in type(exc).__mro__:
        hint = HINTS.get(cls)
        if hint is not None:
            return hint(exc)
    return None


def with_hint(exc: BaseException, message: str) -> str:
    """``message`` (the error's words, already made safe to print) with the hint appended."""
    hint = hint_for(exc)
    return message if hint is None else f"{message}: {hint}"
