"""What to run next, for an error the user can fix: the CLI's words, added under the one-line
error. The store and the services say what is wrong; only the CLI knows its own commands."""

from __future__ import annotations

from collections.abc import Callable

from hubaudit.errors import (
    MissingNote,
    MissingReason,
    NoApprovedBaseline,
    NoAuditReport,
    NoSuchRun,
    NotAllowed,
    PortalNotStored,
    ProposalPending,
    SchemaNotCurrent,
)


def _snapshot_first(exc: BaseException) -> str:
    assert isinstance(exc, PortalNotStored)
    return f"run `hubaudit snapshot --portal {exc.portal}` first"


def _audit_first(exc: BaseException) -> str:
    assert isinstance(exc, NoAuditReport)
    return f"run `hubaudit audit --portal {exc.portal}` first"


def _approve_first(exc: BaseException) -> str:
    assert isinstance(exc, NoApprovedBaseline)
    return (
        f"take a snapshot, then approve it: `hubaudit baseline approve --portal {exc.portal} "
        "--from-snapshot latest --by WHO --note TEXT`"
    )


_HINTS: dict[type[BaseException], Callable[[BaseException], str]] = {
    PortalNotStored: _snapshot_first,
    ProposalPending: lambda _exc: "`hubaudit baseline approve|reject`",
    NoAuditReport: _audit_first,
    NoSuchRun: lambda _exc: "see `hubaudit runs`",
    SchemaNotCurrent: lambda _exc: "run `hubaudit db upgrade`",
    MissingNote: lambda _exc: "say why with --note",
    MissingReason: lambda _exc: "say why with --reason",
    NoApprovedBaseline: _approve_first,
    NotAllowed: lambda _exc: (
        "`hubaudit baseline propose`, then another person runs `hubaudit baseline approve`; "
        "a one-person team sets [governance] single_approver = true"
    ),
}


def hint_for(exc: BaseException) -> str | None:
    """The hint for ``exc``'s class or its nearest base class with one, if any."""
    for klass in type(exc).__mro__:
        hint = _HINTS.get(klass)
        if hint is not None:
            return hint(exc)
    return None
