"""``hubaudit emulator``: serve a portal folder over HTTP as HubSpot would (trying, tests)."""

from __future__ import annotations

import click

from hubaudit.cli.common import EXIT_OK, Session, pass_session


@click.command()
@click.option(
    "--fixtures",
    required=True,
    metavar="FOLDER",
    help="a portal folder (see fixtures/demo)",
)
@click.option(
    "--port",
    type=int,
    default=8089,
    show_default=True,
    help="the port on 127.0.0.1 (0: any free port)",
)
@click.option(
    "--token", metavar="TOKEN", help="the bearer token to accept (default: the demo token)"
)
@pass_session
def emulator(session: Session, fixtures: str, port: int, token: str | None) -> int:
    """Serve a portal folder as HubSpot's API.

    Serves on 127.0.0.1 until Ctrl-C."""
    from pathlib import Path

    from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
    from hubaudit.errors import UsageError

    session.configure_logging("info")
    if not Path(fixtures).is_dir():
        raise UsageError(f"--fixtures {fixtures}: not a portal folder (see fixtures/demo)")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: a port is a number from 0 to 65535")
    try:
        served = PortalEmulator(Path(fixtures), token=token or DEMO_TOKEN, port=port)
    except OSError as exc:
        raise UsageError(
            f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc} "
            "(another emulator? choose another --port)"
        ) from exc
    session.echo(f"serving {fixtures} at {served.base_url} (Ctrl-C stops)")
    session.out.flush()
    try:
        served.serve_forever()
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK
