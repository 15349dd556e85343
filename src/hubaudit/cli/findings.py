"""``hubaudit findings``: breaches of the council's architecture policies, and their waivers."""

from __future__ import annotations

from datetime import datetime

import click

from hubaudit.cli.common import (
    EXIT_OK,
    Session,
    actor_option,
    format_option,
    output_option,
    pass_session,
    portal_option,
    reads_stored_data,
)
from hubaudit.cli.params import FINDING_STATUS, ID, SEVERITY, waiver_options
from hubaudit.services.actor import Actor


@click.group()
def findings() -> None:
    """Findings: breaches of architecture policies."""


@findings.command("list")
@portal_option
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=FINDING_STATUS,
    help="only these statuses (repeatable); default: all",
)
@click.option(
    "--policy",
    "policies",
    multiple=True,
    metavar="ID",
    help="only these policies (repeatable; see `hubaudit policies list`)",
)
@click.option(
    "--severity",
    "severities",
    multiple=True,
    type=SEVERITY,
    help="only these severities (repeatable); default: all",
)
@format_option("text", "json")
@output_option
@pass_session
@reads_stored_data
def list_command(
    session: Session,
    portal: str | None,
    statuses: tuple[str, ...],
    policies: tuple[str, ...],
    severities: tuple[str, ...],
    output_format: str,
    output: str | None,
) -> int:
    """The portal's findings, open first, worst first."""
    import json

    from hubaudit.model.changes import Severity
    from hubaudit.model.findings import FindingStatus
    from hubaudit.report.escape import terminal_safe
    from hubaudit.report.json_report import finding_document
    from hubaudit.report.text import finding_line
    from hubaudit.services.triage import FindingQuery, list_findings

    name = session.portal_name(portal)
    query = FindingQuery(
        statuses=tuple(FindingStatus(s) for s in statuses),
        policies=policies,
        severities=tuple(Severity(s) for s in severities),
    )
    found = list_findings(session.store(), name, query)
    if output_format == "json":
        return session.emit(
            json.dumps([finding_document(f) for f in found], indent=2) + "\n", output
        )
    if not found:
        return session.emit(f"no findings for {terminal_safe(name)}\n", output)
    lines = [
        finding_line(f) + ("  (resolved)" if f.status is FindingStatus.RESOLVED else "")
        for f in found
    ]
    return session.emit("\n".join(lines) + "\n", output)


@findings.command("show")
@click.argument("finding_id", type=ID, metavar="ID")
@portal_option
@format_option("text", "json")
@output_option
@pass_session
@reads_stored_data
def show_command(
    session: Session,
    finding_id: int,
    portal: str | None,
    output_format: str,
    output: str | None,
) -> int:
    """One finding: message, the policy's reason, first/last seen, waiver, detail."""
    import json

    from hubaudit.report.escape import terminal_safe
    from hubaudit.report.json_report import finding_document
    from hubaudit.services.triage import finding

    found = finding(session.store(), session.portal_name(portal), finding_id)
    if output_format == "json":
        return session.emit(json.dumps(finding_document(found), indent=2) + "\n", output)
    lines = [
        f"finding #{found.id}: {found.policy} on {terminal_safe(found.subject)}",
        f"  {found.status.value}, severity {found.severity.value}, seen "
        f"{found.occurrences} times, first {found.first_seen_at:%Y-%m-%d %H:%M}, "
        f"last {found.last_seen_at:%Y-%m-%d %H:%M} UTC",
        f"  {terminal_safe(found.message)}",
        f"  why the council has this policy: {terminal_safe(found.reason)}",
    ]
    if found.waiver is not None:
        lines.append(
            f"  waived by {terminal_safe(found.waiver.by)} until "
            f"{found.waiver.until:%Y-%m-%d %H:%M} UTC: {terminal_safe(found.waiver.reason)}"
        )
    if found.resolution:
        lines.append(f"  resolution: {terminal_safe(found.resolution)}")
    detail = json.dumps(found.detail, sort_keys=True)
    lines.append(f"  detail: {terminal_safe(detail)}")
    return session.emit("\n".join(lines) + "\n", output)


@findings.command("waive")
@click.argument("ids", nargs=-1, required=True, type=ID, metavar="ID...")
@portal_option
@waiver_options("breach")
@actor_option
@pass_session
def waive_command(
    session: Session,
    ids: tuple[int, ...],
    portal: str | None,
    reason: str,
    until: datetime,
    actor: Actor,
) -> int:
    """Tolerate open findings through a date, as they are now (if what they say changes, they
    reopen)."""
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.triage import waive_findings

    name = session.portal_name(portal)
    for f in waive_findings(session.store(), name, ids, actor, reason, until):
        session.echo(
            f"finding #{f.id} {f.policy} {terminal_safe(f.key)}: waived until {until:%Y-%m-%d}"
        )
    return EXIT_OK
