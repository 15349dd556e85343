"""``hubaudit defects``: the portal's drift against its approved baseline, and RevOps' decisions
on it (acknowledge, resolve, waive, accept into the proposed baseline)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from hubaudit.cli.common import (
    EXIT_OK,
    Session,
    actor_option,
    format_option,
    output_option,
    pass_session,
    portal_option,
)
from hubaudit.cli.params import DATE, DEFECT_STATUS, ID, KIND, SEVERITY, waiver_options
from hubaudit.services.actor import Actor

if TYPE_CHECKING:
    from hubaudit.model.defects import Defect
    from hubaudit.services.triage import DefectTimeline

_ids = click.argument("ids", nargs=-1, required=True, type=ID, metavar="ID...")


@click.group()
def defects() -> None:
    """Drift from the baseline, and RevOps' decisions on it."""


@defects.command("list")
@portal_option
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=DEFECT_STATUS,
    help="only these statuses (repeatable); default: all",
)
@click.option(
    "--severity",
    "severities",
    multiple=True,
    type=SEVERITY,
    help="only these severities (repeatable); default: all",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=KIND,
    help="only these kinds of item (repeatable); default: all",
)
@click.option(
    "--since",
    type=DATE,
    metavar="DATE",
    help="last seen on or after this date (YYYY-MM-DD) or time",
)
@format_option("text", "json")
@output_option
@pass_session
def list_command(
    session: Session,
    portal: str | None,
    statuses: tuple[str, ...],
    severities: tuple[str, ...],
    kinds: tuple[str, ...],
    since: datetime | None,
    output_format: str,
    output: str | None,
) -> int:
    """List a portal's defects, oldest first."""
    import json

    from hubaudit.model.changes import Severity
    from hubaudit.model.defects import DefectStatus
    from hubaudit.model.items import Kind
    from hubaudit.report.escape import terminal_safe
    from hubaudit.report.json_report import defect_document
    from hubaudit.services.triage import DefectQuery, list_defects

    name = session.portal_name(portal)
    query = DefectQuery(
        statuses=tuple(DefectStatus(s) for s in statuses),
        severities=tuple(Severity(s) for s in severities),
        kinds=tuple(Kind(k) for k in kinds),
        since=since,
    )
    found = list_defects(session.store(), name, query)
    if output_format == "json":
        return session.emit(
            json.dumps([defect_document(d) for d in found], indent=2) + "\n", output
        )
    if not found:
        return session.emit(f"no defects for {terminal_safe(name)}\n", output)
    lines = [f"{'id':>5}  {'status':<12} {'severity':<8}  {'seen':>4}  {'last seen':<16}  item"]
    lines += [
        f"{d.id:>5}  {d.status.value:<12} {d.severity.value:<8}  {d.occurrences:>4}  "
        f"{d.last_seen_at:%Y-%m-%d %H:%M}  {terminal_safe(where(d))}{_decision(d)}"
        for d in found
    ]
    return session.emit("\n".join(lines) + "\n", output)


@defects.command("show")
@click.argument("defect_id", type=ID, metavar="ID")
@portal_option
@format_option("text", "json")
@output_option
@pass_session
def show_command(
    session: Session,
    defect_id: int,
    portal: str | None,
    output_format: str,
    output: str | None,
) -> int:
    """One defect with before/after and its timeline."""
    import json

    from hubaudit.report.governance_json import defect_timeline_document
    from hubaudit.services.triage import defect_timeline

    timeline = defect_timeline(session.store(), session.portal_name(portal), defect_id)
    if output_format == "json":
        return session.emit(json.dumps(defect_timeline_document(timeline), indent=2) + "\n", output)
    return session.emit("\n".join(timeline_lines(timeline)) + "\n", output)


@defects.command("ack")
@_ids
@portal_option
@actor_option
@click.option("--note", default="", help="why, or what is being done about it")
@pass_session
def ack_command(
    session: Session, ids: tuple[int, ...], portal: str | None, actor: Actor, note: str
) -> int:
    """Acknowledge open defects: known, being handled (they stay so while the drift lasts)."""
    from hubaudit.services.triage import acknowledge_defects

    changed = acknowledge_defects(session.store(), session.portal_name(portal), ids, actor, note)
    return _print_statuses(session, changed)


@defects.command("resolve")
@_ids
@portal_option
@actor_option
@click.option("--note", required=True, help="how the drift was resolved")
@pass_session
def resolve_command(
    session: Session, ids: tuple[int, ...], portal: str | None, actor: Actor, note: str
) -> int:
    """Mark defects resolved by hand (the next audit reopens any still present)."""
    from hubaudit.services.triage import resolve_defects

    changed = resolve_defects(session.store(), session.portal_name(portal), ids, actor, note)
    return _print_statuses(session, changed)


@defects.command("waive")
@_ids
@portal_option
@waiver_options("drift")
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
    """Tolerate defects through a date, with a reason; when it runs out they reopen."""
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.triage import waive_defects

    waived = waive_defects(session.store(), session.portal_name(portal), ids, actor, reason, until)
    for d in waived:
        assert d.waiver is not None
        session.echo(
            f"defect {d.id} waived until {d.waiver.until:%Y-%m-%d %H:%M} UTC by "
            f"{terminal_safe(d.waiver.waived_by)}"
        )
    return EXIT_OK


@defects.command("accept")
@_ids
@portal_option
@actor_option
@click.option("--note", required=True, help="why the council should take this change in")
@pass_session
def accept_command(
    session: Session, ids: tuple[int, ...], portal: str | None, actor: Actor, note: str
) -> int:
    """Take defects' changes into the proposed baseline version; approving it closes them."""
    from hubaudit.services.triage import accept_defects

    baseline = accept_defects(session.store(), session.portal_name(portal), ids, actor, note)
    listed = ", ".join(f"#{i}" for i in sorted(set(ids)))
    session.echo(
        f"defects {listed} accepted into proposed baseline v{baseline.version} "
        f"({baseline.item_count} items); approving it closes them"
    )
    return EXIT_OK


def _print_statuses(session: Session, changed: list[Defect]) -> int:
    from hubaudit.report.escape import terminal_safe

    for d in changed:
        session.echo(f"defect {d.id} {terminal_safe(where(d))}: {d.status.value}")
    return EXIT_OK


def where(defect: Defect) -> str:
    """The item and field a defect is about."""
    return defect.key + (f" {defect.field}" if defect.field else f" ({defect.op.value})")


def _decision(defect: Defect) -> str:
    from hubaudit.model.defects import DefectStatus

    if defect.waiver is not None and defect.status is DefectStatus.WAIVED:
        return f"  (waived until {defect.waiver.until:%Y-%m-%d})"
    if defect.accepted_version is not None and defect.status is not DefectStatus.ACCEPTED:
        return f"  (proposed for v{defect.accepted_version})"
    return ""


def timeline_lines(timeline: DefectTimeline) -> list[str]:
    import json

    from hubaudit.model.defects import DefectStatus
    from hubaudit.report.escape import terminal_safe

    defect = timeline.defect
    names = timeline.names
    name = (names.item if names is not None else None) or defect.label
    label = f'  "{terminal_safe(name)}"' if name else ""
    lines = [
        f"defect #{defect.id}: {terminal_safe(where(defect))}{label}",
        f"  status {defect.status.value}, severity {defect.severity.value}, "
        f"seen {defect.occurrences} times, against baseline v{defect.baseline_version}",
        f"  first seen {defect.first_seen_at:%Y-%m-%d %H:%M}, last seen "
        f"{defect.last_seen_at:%Y-%m-%d %H:%M} UTC",
    ]
    if names is not None and names.field and names.field != defect.field:
        lines.append(f"  field:  {terminal_safe(names.field)}")
    for side, value, text in (
        ("before:", defect.before, names.before if names is not None else None),
        ("after: ", defect.after, names.after if names is not None else None),
    ):
        lines.append(f"  {side} {terminal_safe(json.dumps(value, sort_keys=True))}")
        if text is not None:
            lines.append(f"          {terminal_safe(text)}")
    if names is not None and names.revert:
        lines.append(f"  to put it back: {terminal_safe(names.revert)}")
    if defect.note:
        lines.append(f"  note: {terminal_safe(defect.note)}")
    if defect.waiver is not None and defect.status is DefectStatus.WAIVED:
        lines.append(
            f"  waived by {terminal_safe(defect.waiver.waived_by)} until "
            f"{defect.waiver.until:%Y-%m-%d %H:%M} UTC: {terminal_safe(defect.waiver.reason)}"
        )
    if defect.accepted_version is not None and defect.status is not DefectStatus.ACCEPTED:
        lines.append(f"  proposed for acceptance in baseline v{defect.accepted_version}")
    if defect.resolution:
        lines.append(f"  resolution: {terminal_safe(defect.resolution)}")
    lines.append("  timeline:")
    for e in timeline.events:
        detail = ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in e.detail.items())
        lines.append(f"    {e.at:%Y-%m-%d %H:%M}  {e.event:<12} {terminal_safe(detail)}")
    return lines
