"""``hubaudit demo``: the whole story on a bundled demo portal, with no HubSpot account."""

from __future__ import annotations

import click

from hubaudit.cli.common import EXIT_OK, Session, pass_session


@click.command()
@click.option(
    "--dir",
    "workdir",
    default="hubaudit-demo",
    show_default=True,
    metavar="FOLDER",
    help="where the demo keeps its files (its database is made anew each time)",
)
@pass_session
def demo(session: Session, workdir: str) -> int:
    """The whole story on a bundled demo portal.

    Snapshot, baseline, a night of changes, the audit and its report: no HubSpot account."""
    import sys
    from pathlib import Path

    from hubaudit.demo import run_demo

    session.configure_logging("warning")
    invoked = Path(sys.argv[0]).name == "hubaudit"
    run_demo(Path(workdir).resolve(), session.out, command=sys.argv[0] if invoked else "hubaudit")
    return EXIT_OK
