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
    reads_stored_data,
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
@click.option(
    "--owner",
    "owners",
    multiple=True,
    metavar="EMAIL",
    help="only defects assigned to this owner (repeatable); default: all",
)
@click.option(
    "--overdue", is_flag=True, help="only open or acknowledged defects past their due date"
)
@format_option("text", "json")
@output_option
@pass_session
@reads_stored_data
def list_command(
    session: Session,
    portal: str | None,
    statuses: tuple[str, ...],
    severities: tuple[str, ...],
    kinds: tuple[str, ...],
    since: datetime | None,
    owners: tuple[str, ...],
    overdue: bool,
    output_format: str,
    output: str | None,
) -> int:
    """List a portal's defects in triage order: new critical and high first (newest first),
    then other new ones, then carried-over ones with their age, then handled, then closed."""
    import json
    from datetime import UTC
    from datetime import datetime as moment

    from hubaudit.model.changes import Severity
    from hubaudit.model.defects import DefectStatus
    from hubaudit.model.items import Kind
    from hubaudit.report.escape import terminal_safe
    from hubaudit.report.json_report import defect_document
    from hubaudit.services.triage import DefectQuery, triage_defects

    name = session.portal_name(portal)
    query = DefectQuery(
        statuses=tuple(DefectStatus(s) for s in statuses),
        severities=tuple(Severity(s) for s in severities),
        kinds=tuple(Kind(k) for k in kinds),
        since=since,
        owners=owners,
        overdue_on=moment.now(UTC).date() if overdue else None,
    )
    found = triage_defects(session.reader(), name, query)
    if output_format == "json":
        documents = [
            {**defect_document(t.defect), "triage": t.group.value, "age_days": t.age.days}
            for t in found
        ]
        return session.emit(json.dumps(documents, indent=2) + "\n", output)
    if not found:
        return session.emit(f"no defects for {terminal_safe(name)}\n", output)
    lines: list[str] = []
    group = None
    for t in found:
        if t.group is not group:
            group = t.group
            count = sum(1 for x in found if x.group is group)
            lines += [*([""] if lines else []), f"{group.value.capitalize()} ({count})"]
            lines.append(
                f"{'id':>5}  {'severity':<8}  {'status':<12}  {'age':>4}  {'owner':<24}  "
                f"{'due':<10}  item"
            )
        d = t.defect
        due = f"{d.due:%Y-%m-%d}" if d.due else "-"
        lines.append(
            f"{d.id:>5}  {d.severity.value:<8}  {d.status.value:<12}  {_age(t.age.days):>4}  "
            f"{terminal_safe(d.owner or '-'):<24}  {due:<10}  "
            f"{terminal_safe(_item(d))}{_decision(d)}"
        )
    return session.emit("\n".join(lines) + "\n", output)


def _age(days: int) -> str:
    return "new" if days < 1 else f"{days}d"


def _item(defect: Defect) -> str:
    """A defect's item by its name, with its key and how many field changes it lists."""
    named = defect.display_name
    if named == defect.key:
        return _where(defect)
    return f"{named} ({defect.key})" + _where(defect)[len(defect.key) :]


def _where(defect: Defect) -> str:
    """A defect's key and its one field, how many field changes it lists, or its operation."""
    if len(defect.changes) > 1:
        return f"{defect.key}: {len(defect.changes)} field changes"
    field = defect.changes[0].shown_field if defect.changes else defect.field
    return defect.key + (f" {field}" if field else f" {defect.op.value}")


@defects.command("assign")
@_ids
@portal_option
@click.option("--owner", metavar="EMAIL", help="who is to handle them (an email address)")
@click.option("--due", type=DATE, metavar="DATE", help="by when (YYYY-MM-DD)")
@click.option("--clear", is_flag=True, help="take the owner and due date away")
@actor_option
@pass_session
def assign_command(
    session: Session,
    ids: tuple[int, ...],
    portal: str | None,
    owner: str | None,
    due: datetime | None,
    clear: bool,
    actor: Actor,
) -> int:
    """Give defects an owner and a due date (or --clear them); the governance log says who."""
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.triage import assign_defects

    assigned = assign_defects(
        session.store(),
        session.portal_name(portal),
        ids,
        actor,
        owner=owner,
        due=due.date() if due is not None else None,
        clear=clear,
    )
    for d in assigned:
        who = terminal_safe(d.owner) if d.owner else "no owner"
        when = f"due {d.due:%Y-%m-%d}" if d.due else "no due date"
        session.echo(f"defect {d.id} {terminal_safe(_item(d))}: {who}, {when}")
    return EXIT_OK


@defects.command("show")
@click.argument("defect_id", type=ID, metavar="ID")
@portal_option
@format_option("text", "json")
@output_option
@pass_session
@reads_stored_data
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
        session.echo(f"defect {d.id} {terminal_safe(_item(d))}: {d.status.value}")
    return EXIT_OK


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

    def shown(value: object) -> str:
        return terminal_safe(json.dumps(value, sort_keys=True, ensure_ascii=False))

    defect = timeline.defect
    item = (timeline.names.item if timeline.names is not None else None) or defect.display_name
    named_item = f'  "{terminal_safe(item)}"' if item != defect.key else ""
    lines = [
        f"defect #{defect.id}: {terminal_safe(_where(defect))}{named_item}",
        f"  status {defect.status.value}, severity {defect.severity.value}, "
        f"seen {defect.occurrences} {'time' if defect.occurrences == 1 else 'times'}, "
        f"against baseline v{defect.baseline_version}",
        f"  first seen {defect.first_seen_at:%Y-%m-%d %H:%M}, last seen "
        f"{defect.last_seen_at:%Y-%m-%d %H:%M} UTC",
        f"  owner: {terminal_safe(defect.owner) if defect.owner else '(none)'}, due: "
        + (f"{defect.due:%Y-%m-%d}" if defect.due else "(none)"),
    ]
    changes = defect.changes
    if changes:
        lines.append(f"  {len(changes)} field {'change' if len(changes) == 1 else 'changes'}:")
        names = timeline.field_names or (None,) * len(changes)
        for c, named in zip(changes, names, strict=False):
            where_ = terminal_safe(c.field) if c.field else f"the whole item ({defect.op.value})"
            if named is not None and named.field and named.field != c.field:
                where_ += f"  ({terminal_safe(named.field)})"
            lines.append(f"    {where_} [{c.severity.value}]")
            for side, value, text in (
                ("before:", c.before, named.before if named is not None else None),
                ("after: ", c.after, named.after if named is not None else None),
            ):
                lines.append(f"      {side} {shown(value)}")
                if text is not None:
                    lines.append(f"              {terminal_safe(text)}")
            revert = named.revert if named is not None else None
            back = terminal_safe(revert) if revert else _put_back(defect, c.before)
            lines.append(f"      to put it back: {back}")
            who = c.attribution
            person = who.user_email or who.user_id
            lines.append(
                "      by: "
                + (
                    f"{terminal_safe(person)} ({terminal_safe(who.source)}, confidence "
                    f"{terminal_safe(who.confidence)})"
                    if person
                    else "unknown (HubSpot does not say)"
                )
            )
    else:
        lines.append(f"  before: {shown(defect.before)}")
        lines.append(f"  after:  {shown(defect.after)}")
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
    if timeline.dependents:
        lines.append(f"  depends on it ({len(timeline.dependents)}):")
        for d in timeline.dependents:
            name = f' "{terminal_safe(d.label)}"' if d.label else ""
            detail = f" ({terminal_safe(d.detail)})" if d.detail else ""
            off = "" if d.active else " [off]"
            lines.append(f"    {terminal_safe(d.source)}{name} {d.relation}{detail}{off}")
    else:
        lines.append("  depends on it: nothing in the latest snapshot")
    lines.append("  timeline:")
    for e in timeline.events:
        detail = ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in e.detail.items())
        lines.append(f"    {e.at:%Y-%m-%d %H:%M}  {e.event:<12} {terminal_safe(detail)}")
    return lines


def _put_back(defect: Defect, before: object) -> str:
    """What to do to go back to the baseline for one field change."""
    import json

    from hubaudit.model.changes import ChangeOp
    from hubaudit.report.escape import terminal_safe

    if defect.op is ChangeOp.ADDED:
        return "delete the item (the baseline does not have it)"
    if defect.op is ChangeOp.REMOVED:
        return "recreate the item as the baseline holds it (before)"
    if before is None:
        return "remove the value (the baseline has none)"
    return terminal_safe(json.dumps(before, sort_keys=True, ensure_ascii=False))
