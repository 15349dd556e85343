"""``hubaudit cr``: change requests, the planned changes the council approves before they happen."""

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
)
from hubaudit.cli.params import CR_ID, DATE, END_DATE
from hubaudit.services.actor import Actor

CHANGE_HELP = (
    "OP KEY [FIELD=VALUE...]: add, remove or modify an item, e.g. "
    "'add property:deals:renewal_date type=date' (repeatable)"
)


@click.group()
def cr() -> None:
    """Change requests: planned changes, decided first."""


@cr.command()
@portal_option
@click.option("--title", required=True, help="what the change request is for")
@click.option("--change", "changes", required=True, multiple=True, help=CHANGE_HELP)
@click.option(
    "--from",
    "valid_from",
    required=True,
    type=DATE,
    metavar="DATE",
    help="the start of the window the changes may happen in",
)
@click.option(
    "--until",
    "valid_until",
    required=True,
    type=END_DATE,
    metavar="DATE",
    help="the end of the window (a date: through its end)",
)
@actor_option
@click.option("--note", default="", help="why (default: the title)")
@pass_session
def create(
    session: Session,
    portal: str | None,
    title: str,
    changes: tuple[str, ...],
    valid_from: datetime,
    valid_until: datetime,
    actor: Actor,
    note: str,
) -> int:
    """Request planned changes within a window; they plan nothing until approved."""
    from hubaudit.governance.change_requests import parse_planned_change
    from hubaudit.services.change_requests import RequestDraft, create_request

    name = session.portal_name(portal)
    draft = RequestDraft(
        title=title,
        changes=tuple(parse_planned_change(text) for text in changes),
        valid_from=valid_from,
        valid_until=valid_until,
        note=note,
    )
    request = create_request(session.store(), name, draft, actor)
    session.echo(
        f"CR-{request.id} created ({len(draft.changes)} planned changes, "
        f"{valid_from:%Y-%m-%d %H:%M} to {valid_until:%Y-%m-%d %H:%M} UTC); it plans "
        "nothing until approved (`hubaudit cr approve`)"
    )
    return EXIT_OK


def _decision(approve: bool) -> click.Command:
    verb = "approve" if approve else "reject"

    @click.argument("request_id", type=CR_ID, metavar="CR")
    @portal_option
    @actor_option
    @click.option("--note", required=True, help="why: the council's reason, kept in the log")
    @pass_session
    def decide(
        session: Session, request_id: int, portal: str | None, actor: Actor, note: str
    ) -> int:
        from hubaudit.report.escape import terminal_safe
        from hubaudit.services.change_requests import decide_request

        request = decide_request(
            session.store(),
            session.portal_name(portal),
            request_id,
            approve,
            actor,
            note,
            single_approver=session.config().single_approver,
        )
        session.echo(f"CR-{request.id} {request.status.value} by {terminal_safe(actor.name)}")
        return EXIT_OK

    decide.__doc__ = f"{verb.capitalize()} a proposed change request (CR-N or N)."
    return click.command(verb)(decide)


cr.add_command(_decision(True))
cr.add_command(_decision(False))


@cr.command("list")
@portal_option
@format_option("text", "json")
@output_option
@pass_session
def list_command(
    session: Session, portal: str | None, output_format: str, output: str | None
) -> int:
    """Change requests with their progress: not started, partially implemented, implemented."""
    return _requests(session, None, portal, output_format, output)


@cr.command()
@click.argument("request_id", type=CR_ID, metavar="CR")
@portal_option
@format_option("text", "json")
@output_option
@pass_session
def show(
    session: Session,
    request_id: int,
    portal: str | None,
    output_format: str,
    output: str | None,
) -> int:
    """One change request (CR-N or N), change by change."""
    return _requests(session, request_id, portal, output_format, output)


def _requests(
    session: Session,
    request_id: int | None,
    portal: str | None,
    output_format: str,
    output: str | None,
) -> int:
    import json

    from hubaudit.governance.change_requests import describe_planned
    from hubaudit.report.escape import terminal_safe
    from hubaudit.report.governance_json import request_document
    from hubaudit.services.change_requests import change_requests

    name = session.portal_name(portal)
    ids = None if request_id is None else [request_id]
    progress = change_requests(session.store(), name, ids)
    if output_format == "json":
        documents = [request_document(p) for p in progress]
        document = documents[0] if request_id is not None else documents
        return session.emit(json.dumps(document, indent=2) + "\n", output)
    if not progress:
        return session.emit(f"no change requests for {terminal_safe(name)}\n", output)
    lines = []
    for p in progress:
        r = p.request
        released = f", in baseline v{r.released_version}" if r.released_version else ""
        lines.append(
            f"CR-{r.id}  {r.status.value}{released}  {p.summary}  "
            f"{r.valid_from:%Y-%m-%d} → {r.valid_until:%Y-%m-%d}  {terminal_safe(r.title)}"
        )
        if request_id is not None:
            lines.append(
                f"  requested by {terminal_safe(r.requested_by)} {r.requested_at:%Y-%m-%d %H:%M}"
                + (
                    f"; {r.status.value} by {terminal_safe(r.decided_by or '')}: "
                    f"{terminal_safe(r.decision_note or '')}"
                    if r.decided_by
                    else ""
                )
            )
            lines += [
                f"  - {terminal_safe(describe_planned(s.planned))}: {s.state}" for s in p.states
            ]
    return session.emit("\n".join(lines) + "\n", output)
