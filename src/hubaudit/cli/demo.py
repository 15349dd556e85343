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
@click.option(
    "--serve",
    is_flag=True,
    help="then leave the web app running on the demo's database, with a user of each role",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="the web app's port, with --serve")  # fmt: skip
@pass_session
def demo(session: Session, workdir: str, serve: bool, port: int) -> int:
    """The whole story on a bundled demo portal.

    Snapshot, baseline, a night of changes, the audit and its report: no HubSpot account."""
    import sys
    from pathlib import Path

    from hubaudit.demo import run_demo

    session.configure_logging("warning")
    invoked = Path(sys.argv[0]).name == "hubaudit"
    folder = Path(workdir).resolve()
    run_demo(folder, session.out, command=sys.argv[0] if invoked else "hubaudit")
    if serve:
        _serve_demo(session, folder, port)
    return EXIT_OK


def _serve_demo(session: Session, folder: object, port: int) -> None:
    import secrets
    from pathlib import Path

    from hubaudit.config import load_config
    from hubaudit.demo import demo_people
    from hubaudit.store.engine import make_engine
    from hubaudit.store.repository import Store
    from hubaudit.web.server import build_app, serve_forever

    assert isinstance(folder, Path)
    config = load_config(folder / "hubaudit.toml")
    store = Store(make_engine(config.database_url))
    people = demo_people(store)

    def ready(url: str) -> None:
        session.echo(f"\nThe web app: {url}/  (Ctrl-C stops it)")
        session.echo("Demo users (name, role, password; new each run):")
        for name, role, password in people:
            session.echo(f"  {name:<5} {role:<8} {password}")
        session.out.flush()

    app = build_app(config, store, secrets.token_urlsafe(32))
    serve_forever(app, "127.0.0.1", port, ready)
