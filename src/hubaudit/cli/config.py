"""``hubaudit config check``: the whole config file, every table checked."""

from __future__ import annotations

import click

from hubaudit.cli.common import EXIT_OK, Session, pass_session


@click.group()
def config() -> None:
    """The config file."""


@config.command()
@pass_session
def check(session: Session) -> int:
    """Check every table of the config file, not only those a command uses; list every
    mistake with its file, line and key (exit 1), or say it is valid.

    Read commands (history, show, defects list, report...) check only what they use: the
    database, the portals' names and logging."""
    found = session.config()
    names = ", ".join(portal.name for portal in found.portals)
    portals = f"{len(found.portals)} portal{'' if len(found.portals) == 1 else 's'}"
    session.echo(f"{found.path}: valid ({portals}{f': {names}' if names else ''})")
    return EXIT_OK
