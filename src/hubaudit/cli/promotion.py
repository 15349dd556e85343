"""``hubaudit compare`` and ``hubaudit promote``: a sandbox against production, and its
differences filed as a change request of production."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

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
from hubaudit.cli.params import KIND
from hubaudit.report import FORMATS
from hubaudit.report.escape import terminal_safe
from hubaudit.services.actor import Actor

if TYPE_CHECKING:
    from hubaudit.analysis.promotion import PortalComparison

F = TypeVar("F", bound=Callable[..., Any])

_POINT = "latest, a snapshot id, a date (2026-03-31) or time, baseline or baseline:N"


@dataclass(frozen=True)
class Target:
    """What a command compares: the sandbox and production, each at a point, and the pins."""

    portal: str | None
    against: str | None
    sandbox_at: str
    production_at: str
    mapping: Path | None


def comparison_options(f: F) -> F:
    """What both commands compare: the sandbox (``--portal``) and production at two points;
    the command receives them as one ``target``."""

    @functools.wraps(f)
    def collect(
        *args: Any,
        portal: str | None,
        against: str | None,
        sandbox_at: str,
        production_at: str,
        mapping: Path | None,
        **kwargs: Any,
    ) -> Any:
        target = Target(portal, against, sandbox_at, production_at, mapping)
        return f(*args, target=target, **kwargs)

    wrapped: Any = collect
    for option in reversed(
        (
            portal_option,
            click.option(
                "--against",
                metavar="PROD",
                help="the production portal (default: the sandbox's sandbox_of in the config)",
            ),
            click.option(
                "--at",
                "sandbox_at",
                default="latest",
                show_default=True,
                metavar="POINT",
                help=f"the sandbox's point: {_POINT}",
            ),
            click.option(
                "--against-at",
                "production_at",
                default="latest",
                show_default=True,
                metavar="POINT",
                help=f"production's point: {_POINT}",
            ),
            click.option(
                "--mapping",
                metavar="FILE",
                type=click.Path(dir_okay=False, path_type=Path),
                help="a TOML or YAML file whose [pins] pin renamed sandbox items to production's",
            ),
        )
    ):
        wrapped = option(wrapped)
    return wrapped  # type: ignore[no-any-return]


def _compare(session: Session, target: Target) -> PortalComparison:
    from hubaudit.policies.severity import rules_with
    from hubaudit.services.promotion import (
        NO_MAPPING,
        compare_portals,
        counterpart,
        load_mapping,
    )

    config = session.config()
    sandbox = session.portal_name(target.portal)
    production = counterpart(config, sandbox, target.against)
    pins = load_mapping(target.mapping) if target.mapping is not None else NO_MAPPING
    return compare_portals(
        session.store(),
        sandbox,
        production,
        sandbox_at=target.sandbox_at,
        production_at=target.production_at,
        mapping=pins,
        severity_rules=rules_with(config.severity_overrides),
    )


@click.command()
@comparison_options
@format_option(*FORMATS, "markdown")
@output_option
@pass_session
def compare(
    session: Session,
    target: Target,
    output_format: str,
    output: str | None,
) -> int:
    """What a sandbox holds that production does not, matched item by item.

    Items are matched by what identifies them for a person (names, labels, emails), not by
    HubSpot's ids, and ids inside items are translated through the match. Each difference
    says whether production has it, whether its approved baseline has it, and which approved
    change request plans it. Formats as in `audit` (`markdown` is `md`)."""
    from hubaudit.report.promotion import RENDERERS
    from hubaudit.secrets import scrub

    comparison = _compare(session, target)
    # scrubbed as every audit report is: no secret the process read reaches a file or terminal
    return session.emit(scrub(RENDERERS[output_format](comparison)), output)


@click.command()
@comparison_options
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=KIND,
    help="promote the differences of this kind (repeatable)",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    metavar="GLOB",
    help="promote the differences whose key matches (property:deals:*; repeatable)",
)
@click.option("--all", "every", is_flag=True, help="promote every difference")
@actor_option
@click.option("--title", required=True, help="the change request's title")
@click.option("--reason", default="", help="why (recorded in the governance log)")
@click.option(
    "--from",
    "valid_from",
    metavar="DATE",
    help="the change request's window opens (default: now)",
)
@click.option(
    "--until",
    metavar="DATE",
    help="the change request's window closes (default: 90 days after it opens)",
)
@pass_session
def promote(
    session: Session,
    target: Target,
    kinds: tuple[str, ...],
    keys: tuple[str, ...],
    every: bool,
    actor: Actor,
    title: str,
    reason: str,
    valid_from: str | None,
    until: str | None,
) -> int:
    """File a sandbox's differences as one change request of production.

    The change request plans exactly the selected differences, with production's keys and the
    sandbox's values; the council approves it as any other (`hubaudit cr approve`), and the
    audit of production then classifies those changes as planned."""
    from hubaudit.dates import parse_end, parse_start
    from hubaudit.governance.change_requests import describe_planned
    from hubaudit.services.promotion import Selection, promote_differences

    start = parse_start(valid_from) if valid_from else None
    end = parse_end(until) if until else None
    comparison = _compare(session, target)
    from hubaudit.model import Kind

    selection = Selection(every=every, kinds=tuple(Kind(k) for k in kinds), keys=keys)
    promotion = promote_differences(
        session.store(),
        comparison,
        selection,
        title=title,
        actor=actor,
        reason=reason,
        valid_from=start,
        valid_until=end,
    )
    request = promotion.request
    session.echo(
        f"CR-{request.id} created on {terminal_safe(comparison.production)} "
        f"({len(promotion.planned)} planned changes from {terminal_safe(comparison.sandbox)}, "
        f"{request.valid_from:%Y-%m-%d %H:%M} to {request.valid_until:%Y-%m-%d %H:%M} UTC); "
        f"it plans nothing until approved (`hubaudit cr approve CR-{request.id} "
        f"--portal {terminal_safe(comparison.production)}`)"
    )
    for planned in promotion.planned:
        session.echo(f"  {terminal_safe(describe_planned(planned))}")
    for difference, why in promotion.skipped:
        change = difference.change
        field = f" {change.field}" if change.field else ""
        session.echo(f"  not promoted: {terminal_safe(change.key + field)}: {why}")
    return EXIT_OK
