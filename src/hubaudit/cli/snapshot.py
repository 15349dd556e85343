"""``hubaudit snapshot``: read a portal and store what was read as one snapshot."""

from __future__ import annotations

import json

import click

from hubaudit.cli.common import EXIT_OK, Session, format_option, pass_session, portal_option


@click.command()
@portal_option
@format_option("text", "json")
@pass_session
def snapshot(session: Session, portal: str | None, output_format: str) -> int:
    """Read a portal and store a snapshot.

    The enabled policies are judged on it too (`findings list` shows what they found)."""
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.audit import snapshot_document, take_portal_snapshot

    name = session.portal_name(portal)
    taken = take_portal_snapshot(session.store(), session.config(), name)
    if output_format == "json":
        session.echo(json.dumps(snapshot_document(taken), indent=2))
        return EXIT_OK
    stored = taken.snapshot
    session.echo(
        f"snapshot {stored.id} of {terminal_safe(stored.portal)}: {stored.item_count} items, "
        f"{taken.api_calls} API calls"
    )
    for part in stored.coverage:
        reason = f"  {terminal_safe(part.reason)}" if part.reason else ""
        scope = terminal_safe(part.scope)  # custom object names come from HubSpot
        session.echo(f"  {scope:<32} {part.status.value:<11} {part.items:>6}{reason}")
    session.echo(
        f"policy findings: {taken.findings} ({taken.findings_new} new); "
        f"`hubaudit findings list --portal {terminal_safe(name)}` lists them"
    )
    return EXIT_OK
