"""``hubaudit serve``: the web app, on the config's database."""

from __future__ import annotations

import click

from hubaudit.cli.common import EXIT_OK, Session, pass_session


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="the address to listen on")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="the port"
)
@pass_session
def serve(session: Session, host: str, port: int) -> int:
    """Serve the web app: triage and council decisions in a browser (README: The web app)."""
    from hubaudit.web.server import build_app, secret_key, serve_forever

    config = session.config()
    secret = secret_key(config)
    app = build_app(config, session.store(), secret)

    def ready(url: str) -> None:
        session.echo(f"hubaudit web app on {url} (Ctrl-C stops it)")
        session.out.flush()

    serve_forever(app, host, port, ready)
    return EXIT_OK
