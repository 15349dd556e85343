"""The command line: arguments, terminal output and exit codes live here and nowhere else.

Exit codes follow ``terraform plan -detailed-exitcode``: 0 nothing unplanned, 2 unplanned drift,
1 an error (with a one-line message, never a traceback for a problem the user can fix). An audit
that saw no drift but could not read every part it governs exits 1: it is not a clean bill.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from hubaudit import __version__
from hubaudit.cli.hints import hint_for
from hubaudit.cli_architecture import HANDLERS as ARCHITECTURE_HANDLERS
from hubaudit.cli_architecture import add_commands as add_architecture_commands
from hubaudit.cli_reports import HANDLERS as REPORT_HANDLERS
from hubaudit.cli_reports import add_commands as add_report_commands
from hubaudit.cli_reports import emit
from hubaudit.config import Config, find_config_path, load_config
from hubaudit.errors import HubauditError, UsageError
from hubaudit.logs import configure_logging
from hubaudit.policies.severity import rules_with
from hubaudit.report.history import (
    diff_json,
    diff_text,
    history_json,
    history_text,
    show_json,
    show_text,
)
from hubaudit.secrets import scrub
from hubaudit.store.engine import make_engine, require_current_schema
from hubaudit.store.repository import Store
from hubaudit.timetravel import POINT_HELP, diff_points, item_at, item_history, resolve_point

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubaudit", description="HubSpot configuration drift and governance auditor."
    )
    parser.add_argument("--version", action="version", version=f"hubaudit {__version__}")
    parser.add_argument(
        "--config", help="config file (default: $HUBAUDIT_CONFIG or ./hubaudit.toml)"
    )
    parser.add_argument(
        "--log-format", choices=("console", "json"), help="overrides [logging] format"
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        help="overrides [logging] level",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add_architecture_commands(commands)
    add_report_commands(commands)

    history = commands.add_parser("history", help="every stored version of one item")
    history.add_argument("key", help="an item key, e.g. property:deals:amount")
    history.add_argument("--portal", required=True)
    history.add_argument("--json", action="store_true")

    show_item = commands.add_parser("show", help="one item as a snapshot or baseline holds it")
    show_item.add_argument("key", help="an item key, e.g. pipeline:deals:default")
    show_item.add_argument("--portal", required=True)
    where = show_item.add_mutually_exclusive_group()
    where.add_argument("--at", help="the last snapshot at or before this date or time")
    where.add_argument("--snapshot", metavar="ID", help="a snapshot id or 'latest' (default)")
    where.add_argument("--baseline", metavar="N", help="a baseline version")
    show_item.add_argument("--raw", action="store_true", help="HubSpot's raw JSON, not canonical")
    show_item.add_argument("--json", action="store_true")

    diff = commands.add_parser("diff", help="changes between two stored points in time")
    diff.add_argument("--portal", required=True)
    diff.add_argument("before", metavar="FROM", help=POINT_HELP)
    diff.add_argument("after", metavar="TO", help=POINT_HELP)
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.add_argument("--output", help="write to this file instead of stdout")

    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args, stdout)
    except HubauditError as exc:
        print(f"hubaudit: error: {scrub(str(exc))}", file=sys.stderr)
        hint = hint_for(exc)
        if hint:
            print(f"hubaudit: hint: {hint}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("hubaudit: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace, out: TextIO) -> int:
    config = load_config(find_config_path(args.config))
    configure_logging(
        args.log_format or config.logging.format, args.log_level or config.logging.level
    )
    if getattr(args, "portal", None) is not None:
        config.portal(args.portal)  # every --portal: a typo is an error, never a new portal

    engine = make_engine(config.database_url)
    try:
        require_current_schema(engine)

        store = Store(engine)
        handler = {
            "history": _history,
            "show": _show,
            "diff": _diff,
            **ARCHITECTURE_HANDLERS,
            **REPORT_HANDLERS,
        }[args.command]
        return handler(args, config, store, out)
    finally:
        engine.dispose()


def _history(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    entries = item_history(store, args.portal, args.key)
    render_history = history_json if args.json else history_text
    out.write(render_history(args.portal, args.key, entries))
    return EXIT_OK


def _show(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    if args.at is not None:
        ref = args.at
        if ref.strip().isdigit() or ref.strip() in ("latest", "baseline"):
            raise UsageError(f"--at takes a date or time, not {ref!r}")
    elif args.baseline is not None:
        ref = f"baseline:{args.baseline}"
    else:
        ref = args.snapshot or "latest"
        if not (ref == "latest" or (ref.isascii() and ref.isdigit())):
            raise UsageError(f"--snapshot takes a snapshot id or 'latest', not {ref!r}")
    item = item_at(store, args.portal, resolve_point(store, args.portal, ref), args.key)
    out.write(show_json(item) if args.json else show_text(item, raw=args.raw))
    return EXIT_OK


def _diff(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    before = resolve_point(store, args.portal, args.before)
    after = resolve_point(store, args.portal, args.after)
    diff = diff_points(store, args.portal, before, after, rules_with(config.severity_overrides))
    return emit(diff_json(diff) if args.format == "json" else diff_text(diff), args.output, out)
