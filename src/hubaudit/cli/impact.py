"""``hubaudit impact``: what depends on an item (workflows, properties…)."""

from __future__ import annotations

import click

from hubaudit.cli.common import (
    EXIT_OK,
    Session,
    format_option,
    pass_session,
    portal_option,
    reads_stored_data,
)


@click.command()
@click.argument("key")
@portal_option
@click.option(
    "--snapshot",
    default="latest",
    show_default=True,
    metavar="ID",
    help="a snapshot id or 'latest'",
)
@click.option(
    "--depth",
    type=click.IntRange(1, 5),
    default=3,
    show_default=True,
    help="how many levels of dependents to follow (1 to 5)",
)
@format_option("text", "json")
@pass_session
@reads_stored_data
def impact(
    session: Session, key: str, portal: str | None, snapshot: str, depth: int, output_format: str
) -> int:
    """What depends on an item (workflows, properties…).

    KEY is an item key, e.g. property:contacts:lifecyclestage."""
    from hubaudit.report.history import impact_json, impact_text
    from hubaudit.services import history as service

    name = session.portal_name(portal)
    found = service.impact(session.reader(), name, key, snapshot, depth)
    session.out.write(impact_json(found) if output_format == "json" else impact_text(found))
    return EXIT_OK
