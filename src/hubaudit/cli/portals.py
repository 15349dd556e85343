"""``hubaudit portals``: the portals in the config, and what their tokens can read."""

from __future__ import annotations

import json

import click

from hubaudit.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    Session,
    format_option,
    pass_session,
    portal_option,
)

_MARKS = {"complete": "ok", "failed": "NO", "unsupported": "--"}


@click.group()
def portals() -> None:
    """The portals in the config."""


@portals.command()
@portal_option
@format_option("text", "json")
@pass_session
def check(session: Session, portal: str | None, output_format: str) -> int:
    """Which parts the token can read, and the scopes it is missing (stores nothing)."""
    from hubaudit.model.items import CoverageStatus
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.portals import check_document, check_portal_access

    found = check_portal_access(session.config(), session.portal_name(portal))
    code = EXIT_OK if found.readable else EXIT_ERROR
    if output_format == "json":
        session.echo(json.dumps(check_document(found), indent=2))
        return code
    session.echo(
        f"portal {terminal_safe(found.portal)}: {len(found.parts)} parts read in "
        f"{found.api_calls} API calls"
    )
    for kind, group in found.by_kind().items():
        session.echo(f"  {_MARKS[group.status.value]:<3} {kind:<18} {group.items:>6} items")
        for part in group.parts:
            if part.status is not CoverageStatus.COMPLETE:
                reason = terminal_safe(part.reason or "")
                session.echo(f"        {terminal_safe(part.scope)}: {part.status.value}: {reason}")
    if found.missing_scopes:
        session.echo("Scopes HubSpot asked for: " + ", ".join(found.missing_scopes))
    return code
