"""The root command: global options, the command registry (in the order ``--help`` lists it) and
the one place that turns exceptions into exit codes and one-line errors."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import TextIO

import click

from hubaudit import __version__
from hubaudit.cli.common import EXIT_ERROR, Session
from hubaudit.errors import HubauditError

# Every command: its name, the section ``hubaudit --help`` lists it under, and where it lives
# ("module:attribute", imported only when the command runs). Sections and commands in the order a
# person meets them: the morning's work first, the plumbing last.
SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Drift and triage",
        (
            ("audit", "hubaudit.cli.audit:audit"),
            ("report", "hubaudit.cli.reports:report"),
            ("defects", "hubaudit.cli.defects:defects"),
            ("findings", "hubaudit.cli.findings:findings"),
            ("runs", "hubaudit.cli.runs:runs"),
        ),
    ),
    (
        "Governance",
        (
            ("baseline", "hubaudit.cli.baseline:baseline"),
            ("cr", "hubaudit.cli.cr:cr"),
            ("ignore", "hubaudit.cli.ignore:ignore"),
            ("log", "hubaudit.cli.log:log"),
            ("promote", "hubaudit.cli.promotion:promote"),
            ("policies", "hubaudit.cli.policies:policies"),
        ),
    ),
    (
        "Looking back",
        (
            ("history", "hubaudit.cli.history:history"),
            ("show", "hubaudit.cli.history:show"),
            ("diff", "hubaudit.cli.history:diff"),
            ("impact", "hubaudit.cli.impact:impact"),
            ("compare", "hubaudit.cli.promotion:compare"),
            ("kpis", "hubaudit.cli.reports:kpis"),
        ),
    ),
    (
        "Operations",
        (
            ("snapshot", "hubaudit.cli.snapshot:snapshot"),
            ("schedule", "hubaudit.cli.schedule:schedule"),
            ("worker", "hubaudit.cli.worker:worker"),
            ("health", "hubaudit.cli.health:health"),
            ("serve", "hubaudit.cli.serve:serve"),
            ("users", "hubaudit.cli.users:users"),
            ("portals", "hubaudit.cli.portals:portals"),
            ("config", "hubaudit.cli.config:config"),
            ("db", "hubaudit.cli.db:db"),
        ),
    ),
    (
        "Trying it",
        (
            ("demo", "hubaudit.cli.demo:demo"),
            ("emulator", "hubaudit.cli.emulator:emulator"),
        ),
    ),
)
COMMANDS: dict[str, str] = {name: target for _, entries in SECTIONS for name, target in entries}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, listed in :data:`SECTIONS` order."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for section, entries in SECTIONS:
            rows = []
            for name, _ in entries:
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(formatter.width - 20)))
            if rows:
                with formatter.section(section):
                    formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="hubaudit", message="%(prog)s %(version)s"
)
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    help="config file (default: $HUBAUDIT_CONFIG or ./hubaudit.toml)",
)
@click.option(
    "--log-format", type=click.Choice(["console", "json"]), help="overrides [logging] format"
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="overrides [logging] level",
)
@click.pass_context
def root(
    ctx: click.Context, config_path: str | None, log_format: str | None, log_level: str | None
) -> None:
    """HubSpot configuration drift and governance auditor."""
    session = ctx.ensure_object(Session)
    session.config_path = config_path
    session.log_format = log_format
    session.log_level = log_level
    ctx.call_on_close(session.close)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; return its exit code (0 nothing unplanned, 2 drift, 1 an error)."""
    args = list(sys.argv[1:] if argv is None else argv)
    session = Session(out=out or sys.stdout)
    try:
        with root.make_context("hubaudit", args, obj=session) as ctx:
            result = root.invoke(ctx)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:  # a usage error: exit 1, never the drift code
        exc.show(file=sys.stderr)
        return EXIT_ERROR
    except HubauditError as exc:
        _print_error(exc)
        return EXIT_ERROR
    except (KeyboardInterrupt, click.exceptions.Abort):
        print("hubaudit: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_closed_pipe()
        return EXIT_ERROR


def _print_error(exc: HubauditError) -> None:
    from hubaudit.cli.hints import hint_for
    from hubaudit.secrets import scrub

    print(f"hubaudit: error: {scrub(str(exc))}", file=sys.stderr)
    hint = hint_for(exc)
    if hint:
        print(f"hubaudit: hint: {hint}", file=sys.stderr)


def _quiet_closed_pipe() -> None:
    """The reader went away (``| head``): stop without a traceback, and without the interpreter
    complaining when it flushes stdout on the way out."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
