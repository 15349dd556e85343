"""``hubaudit ignore``: ignore rules for drift that is nobody's concern."""

from __future__ import annotations

import click

from hubaudit.cli.common import EXIT_OK, Session, pass_session, portal_option


@click.group()
def ignore() -> None:
    """Ignore rules: suggestions from what drifts now."""


@ignore.command()
@portal_option
@click.option(
    "--output",
    "--out",
    "output",
    metavar="FILE",
    help="write to this new file (never overwritten) instead of the terminal",
)
@pass_session
def suggest(session: Session, portal: str | None, output: str | None) -> int:
    """Propose rules from what drifts now (the latest snapshot against the approved baseline),
    reasons left for you to write."""
    from pathlib import Path

    from hubaudit.errors import UsageError
    from hubaudit.report.escape import terminal_safe
    from hubaudit.report.history import stand_in_lines
    from hubaudit.services.ignore import suggest_ignore_rules

    config = session.config()
    portal_config = session.portal(portal)
    name = portal_config.name
    found = suggest_ignore_rules(session.store(), name, config.ignore_file_of(portal_config))
    header = (
        f"# suggested from snapshot #{found.snapshot.id} against baseline "
        f"v{found.baseline.version} of {terminal_safe(name)}: {len(found.drifting)} changes "
        "not yet ignored\n"
    ) + "".join(f"# {line}\n" for line in stand_in_lines(found.point))
    if not output:
        return session.emit(header + found.rules, None)
    target = Path(output)
    try:
        with target.open("x", encoding="utf-8") as handle:
            handle.write(header + found.rules)
    except FileExistsError as exc:
        raise UsageError(f"{target} exists; suggestions never overwrite a file") from exc
    session.echo(
        f"wrote suggestions for {len(found.drifting)} changes to {terminal_safe(str(target))}"
    )
    return EXIT_OK
