"""``hubaudit baseline``: the council's baseline versions, from proposal to decision, as files, and
the changelog between two of them."""

from __future__ import annotations

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
from hubaudit.cli.params import CR_ID, ID, SNAPSHOT, version_argument
from hubaudit.services.actor import Actor

if TYPE_CHECKING:
    from hubaudit.model.baselines import BaselineInfo
    from hubaudit.services.baselines import BaselineDecision

_note = click.option("--note", required=True, help="why: the council's reason, kept in the log")


@click.group()
def baseline() -> None:
    """Baseline versions: propose, decide, compare, files.

    propose, approve, reject, list, show, diff, export, import, release."""


@baseline.command()
@portal_option
@click.option(
    "--from-snapshot",
    "snapshot",
    required=True,
    type=SNAPSHOT,
    metavar="latest|ID",
    help="the snapshot to propose: 'latest' or a snapshot id (it must have read every part)",
)
@actor_option
@_note
@pass_session
def propose(
    session: Session, portal: str | None, snapshot: int | None, actor: Actor, note: str
) -> int:
    """Propose a complete snapshot as the next version (a draft: audits keep the approved one)."""
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.baselines import propose_baseline

    name = session.portal_name(portal)
    proposal = propose_baseline(session.store(), name, snapshot, actor, note)
    session.echo(
        f"baseline v{proposal.baseline.version} of {terminal_safe(name)} proposed by "
        f"{terminal_safe(actor.name)} from snapshot {proposal.snapshot.id} "
        f"({proposal.baseline.item_count} items)"
    )
    return EXIT_OK


@baseline.command()
@version_argument("the proposed version (old spelling of VERSION)")
@portal_option
@click.option(
    "--from-snapshot",
    "snapshot",
    type=SNAPSHOT,
    metavar="latest|ID",
    help="propose this snapshot ('latest' or an id) and approve it in one step",
)
@actor_option
@_note
@pass_session
def approve(
    session: Session,
    version: int | None,
    portal: str | None,
    snapshot: int | None,
    actor: Actor,
    note: str,
) -> int:
    """Approve the proposed version [VERSION, a check that it is the one proposed]; approving
    closes the defects it accepts and releases its change requests."""
    from hubaudit.services.baselines import approve_snapshot, decide_baseline

    from_snapshot = click.get_current_context().get_parameter_source("snapshot")
    name = session.portal_name(portal)
    store = session.store()
    alone = session.config().single_approver
    if from_snapshot is click.core.ParameterSource.COMMANDLINE:
        if version is not None:
            raise click.UsageError("give a VERSION to approve or --from-snapshot, not both")
        decision = approve_snapshot(store, name, snapshot, actor, note, single_approver=alone)
    else:
        decision = decide_baseline(store, name, version, True, actor, note, single_approver=alone)
    return _print_decision(session, name, decision, actor)


@baseline.command()
@version_argument("the proposed version (old spelling of VERSION)")
@portal_option
@actor_option
@_note
@pass_session
def reject(
    session: Session, version: int | None, portal: str | None, actor: Actor, note: str
) -> int:
    """Reject the proposed version [VERSION, a check that it is the one proposed]; its accepted
    defects and released change requests are no longer proposed."""
    from hubaudit.services.baselines import decide_baseline

    name = session.portal_name(portal)
    decision = decide_baseline(session.store(), name, version, False, actor, note)
    return _print_decision(session, name, decision, actor)


def _print_decision(session: Session, name: str, decision: BaselineDecision, actor: Actor) -> int:
    from hubaudit.report.escape import terminal_safe

    b = decision.baseline
    verb = "approved" if decision.approved else "rejected"
    session.echo(
        f"baseline v{b.version} of {terminal_safe(name)} {verb} by {terminal_safe(actor.name)} "
        f"({b.item_count} items)"
    )
    if decision.defects:
        closed = "closed as accepted" if decision.approved else "no longer proposed for acceptance"
        session.echo(f"  defects {_ids(decision.defects)}: {closed}")
    if decision.requests:
        state = "released" if decision.approved else "no longer released"
        session.echo(f"  change requests {_crs(decision.requests)}: {state}")
    return EXIT_OK


@baseline.command("list")
@portal_option
@format_option("text", "json")
@output_option
@pass_session
def list_command(
    session: Session, portal: str | None, output_format: str, output: str | None
) -> int:
    """Every version (proposed, approved, rejected) with who, when and why."""
    import json

    from hubaudit.report.escape import terminal_safe
    from hubaudit.report.governance_json import version_document
    from hubaudit.services.baselines import baseline_versions

    name = session.portal_name(portal)
    records = baseline_versions(session.store(), name)
    if output_format == "json":
        documents = [version_document(r) for r in records]
        return session.emit(json.dumps(documents, indent=2) + "\n", output)
    if not records:
        return session.emit(f"no baseline versions for {terminal_safe(name)}\n", output)
    lines = [
        f"v{b.version:<4} {b.status.value:<9} {b.item_count:>6} items  "
        f"proposed by {terminal_safe(b.proposed_by)} "
        f"{b.proposed_at:%Y-%m-%d %H:%M} ({b.source}); {_decision_line(b)}"
        for b in (r.baseline for r in records)
    ]
    return session.emit("\n".join(lines) + "\n", output)


@baseline.command()
@version_argument("the version to show (old spelling of VERSION)")
@portal_option
@format_option("text", "json")
@output_option
@pass_session
def show(
    session: Session,
    version: int | None,
    portal: str | None,
    output_format: str,
    output: str | None,
) -> int:
    """One version [VERSION, default the latest approved]: who, when, why, what it holds."""
    import json

    from hubaudit.report.escape import terminal_safe
    from hubaudit.report.governance_json import version_document
    from hubaudit.services.baselines import baseline_version

    name = session.portal_name(portal)
    detail = baseline_version(session.store(), name, version)
    if output_format == "json":
        return session.emit(json.dumps(version_document(detail), indent=2) + "\n", output)
    b = detail.baseline
    lines = [
        f"baseline v{b.version} of {terminal_safe(name)}: {b.status.value}",
        f"  proposed by {terminal_safe(b.proposed_by)} on "
        f"{b.proposed_at:%Y-%m-%d %H:%M} UTC from {b.source}: "
        f"{terminal_safe(b.proposal_note)}",
        f"  {_decision_line(b)}"
        + (f": {terminal_safe(b.note or '')}" if b.note else "")
        + (f": {terminal_safe(b.rejection_note)}" if b.rejection_note else ""),
        f"  {b.item_count} items: "
        + ", ".join(f"{n} {kind}" for kind, n in detail.items_by_kind.items()),
        f"  governs {len(b.scopes)} parts",
    ]
    if detail.defects:
        lines.append(f"  accepts defects {_ids(detail.defects)}")
    if detail.requests:
        lines.append(f"  releases {_crs(detail.requests)}")
    return session.emit("\n".join(lines) + "\n", output)


@baseline.command()
@click.argument("from_version", metavar="N", type=ID)
@click.argument("to_version", metavar="M", type=ID)
@portal_option
@format_option("text", "json")
@output_option
@pass_session
def diff(
    session: Session,
    from_version: int,
    to_version: int,
    portal: str | None,
    output_format: str,
    output: str | None,
) -> int:
    """The changelog from version N to version M, in the change format of `audit`."""
    from hubaudit.policies.severity import rules_with
    from hubaudit.report.history import diff_json, diff_text
    from hubaudit.services.baselines import baseline_changelog

    name = session.portal_name(portal)
    rules = rules_with(session.config().severity_overrides)
    changes = baseline_changelog(session.store(), name, from_version, to_version, rules)
    return session.emit(
        diff_json(changes) if output_format == "json" else diff_text(changes), output
    )


@baseline.command()
@version_argument("the version to export (old spelling of VERSION)")
@portal_option
@click.option(
    "--output",
    "--out",
    "directory",
    required=True,
    metavar="DIR",
    help="the directory to write the YAML files into",
)
@pass_session
def export(session: Session, version: int | None, portal: str | None, directory: str) -> int:
    """Write a version [VERSION, default the latest approved] as YAML files, one per kind and
    object type."""
    from pathlib import Path

    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.baselines import export_baseline

    name = session.portal_name(portal)
    written = export_baseline(session.store(), name, version, Path(directory))
    session.echo(
        f"baseline v{written.baseline.version} of {terminal_safe(name)} written to "
        f"{terminal_safe(directory)}: {len(written.files)} files, "
        f"{written.baseline.item_count} items"
    )
    return EXIT_OK


@baseline.command("import")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.option(
    "--portal",
    metavar="NAME",
    help="refuse files of another portal (default: the portal the files name)",
)
@actor_option
@click.option("--note", default="", help="why (default: where the files came from)")
@pass_session
def import_command(
    session: Session, directory: str, portal: str | None, actor: Actor, note: str
) -> int:
    """Propose the next version from YAML files; every file is checked before anything is
    written."""
    from pathlib import Path

    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.baselines import import_baseline

    config = session.config()
    if portal is not None:
        config.portal(portal)  # a typo is an error, before any file is read
    proposed = import_baseline(
        session.store(),
        Path(directory),
        actor,
        note,
        portal,
        known=config.portal,
        max_bytes=int(config.max_import_mb * 2**20),
    )
    session.echo(
        f"baseline v{proposed.version} of {terminal_safe(proposed.portal)} proposed from "
        f"{terminal_safe(directory)} ({proposed.item_count} items); "
        f"see `hubaudit baseline diff` and approve it with `hubaudit baseline approve`"
    )
    return EXIT_OK


@baseline.command()
@click.argument("requests", nargs=-1, type=CR_ID, metavar="[CR]...")
@portal_option
@click.option(
    "--from-crs",
    "from_crs",
    multiple=True,
    type=CR_ID,
    metavar="CR",
    help="an implemented change request to release, CR-N or N (repeatable; or give them as CR)",
)
@actor_option
@click.option("--note", default="", help="why (default: 'release of CR-…')")
@pass_session
def release(
    session: Session,
    requests: tuple[int, ...],
    portal: str | None,
    from_crs: tuple[int, ...],
    actor: Actor,
    note: str,
) -> int:
    """Put implemented change requests into the proposed version (proposing one from the latest
    approved if none is)."""
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.baselines import release_requests

    ids = sorted({*requests, *from_crs})
    if not ids:
        raise click.UsageError("name the change requests to release (CR-N, or --from-crs CR-N)")
    name = session.portal_name(portal)
    proposed = release_requests(session.store(), name, ids, actor, note)
    session.echo(
        f"baseline v{proposed.version} of {terminal_safe(name)} proposed with {_crs(ids)} "
        f"({proposed.item_count} items); approve it with `hubaudit baseline approve`"
    )
    return EXIT_OK


def _ids(ids: tuple[int, ...] | list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


def _crs(ids: tuple[int, ...] | list[int]) -> str:
    return ", ".join(f"CR-{i}" for i in sorted(ids))


def _decision_line(b: BaselineInfo) -> str:
    from hubaudit.model.baselines import BaselineStatus
    from hubaudit.report.escape import terminal_safe

    if b.status is BaselineStatus.APPROVED:
        return f"approved by {terminal_safe(b.approved_by or '')} {b.moment:%Y-%m-%d %H:%M}"
    if b.status is BaselineStatus.REJECTED and b.rejected_at is not None:
        return f"rejected by {terminal_safe(b.rejected_by or '')} {b.rejected_at:%Y-%m-%d %H:%M}"
    return "awaiting a decision"
