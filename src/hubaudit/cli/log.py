"""``hubaudit log``: the governance log, who decided what, when and why."""

from __future__ import annotations

from datetime import datetime

import click

from hubaudit.cli.common import (
    Session,
    format_option,
    output_option,
    pass_session,
    portal_option,
    reads_stored_data,
)
from hubaudit.cli.params import DATE, END_DATE


@click.command()
@portal_option
@click.option("--since", type=DATE, metavar="DATE", help="entries on or after this date or time")
@click.option(
    "--until",
    type=END_DATE,
    metavar="DATE",
    help="entries up to this date (through its end) or time",
)
@format_option("text", "json")
@output_option
@pass_session
@reads_stored_data
def log(
    session: Session,
    portal: str | None,
    since: datetime | None,
    until: datetime | None,
    output_format: str,
    output: str | None,
) -> int:
    """The governance log: who decided what, when, why.

    Every proposal, approval, rejection, waiver, expiry, acceptance, release and import."""
    import json

    from hubaudit.report.escape import terminal_safe
    from hubaudit.report.governance_json import log_entry_document
    from hubaudit.services.log import governance_log

    if since is not None and until is not None and until < since:
        raise click.BadParameter("must not be before --since", param_hint="--until")
    name = session.portal_name(portal)
    entries = governance_log(session.store(), name, since, until)
    if output_format == "json":
        documents = [log_entry_document(e) for e in entries]
        return session.emit(json.dumps(documents, indent=2) + "\n", output)
    if not entries:
        return session.emit(f"the governance log of {terminal_safe(name)} is empty\n", output)
    lines = [
        f"{e.at:%Y-%m-%d %H:%M}  {terminal_safe(e.actor):<24} {e.action:<18} "
        f"{terminal_safe(e.subject)}: {terminal_safe(e.note)}"
        for e in entries
    ]
    return session.emit("\n".join(lines) + "\n", output)
