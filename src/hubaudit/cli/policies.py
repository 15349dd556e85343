"""``hubaudit policies``: the architecture policies and their settings."""

from __future__ import annotations

import click

from hubaudit.cli.common import EXIT_OK, Session, format_option, pass_session


@click.group()
def policies() -> None:
    """The architecture policies and their settings."""


@policies.command("list")
@format_option("text", "json")
@pass_session
def list_policies(session: Session, output_format: str) -> int:
    """Every policy: on or off, severity, what it checks."""
    from hubaudit.report.policies import policies_json, policies_lines
    from hubaudit.services.policies import policy_summaries

    summaries = policy_summaries(session.config().policies)
    if output_format == "json":
        session.out.write(policies_json(summaries))
    else:
        for line in policies_lines(summaries):
            session.echo(line)
    return EXIT_OK
