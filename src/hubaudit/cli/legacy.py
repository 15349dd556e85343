"""The command line: arguments, terminal output and exit codes live here and nowhere else.

Exit codes follow ``terraform plan -detailed-exitcode``: 0 nothing unplanned, 2 unplanned drift,
1 an error (with a one-line message, never a traceback for a problem the user can fix). An audit
that saw no drift but could not read every part it governs exits 1: it is not a clean bill.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO

from hubaudit import __version__
from hubaudit.audit import utc_now
from hubaudit.cli.hints import hint_for
from hubaudit.cli_architecture import HANDLERS as ARCHITECTURE_HANDLERS
from hubaudit.cli_architecture import add_commands as add_architecture_commands
from hubaudit.cli_governance import HANDLERS as GOVERNANCE_HANDLERS
from hubaudit.cli_governance import add_commands as add_governance_commands
from hubaudit.cli_governance import add_defect_decisions, defect_decision, emit
from hubaudit.cli_reports import HANDLERS as REPORT_HANDLERS
from hubaudit.cli_reports import add_commands as add_report_commands
from hubaudit.config import Config, find_config_path, load_config
from hubaudit.errors import HubauditError, UsageError
from hubaudit.logs import configure_logging
from hubaudit.model import Defect, DefectStatus, Kind, Severity
from hubaudit.policies.severity import rules_with
from hubaudit.report.escape import terminal_safe
from hubaudit.report.history import (
    diff_json,
    diff_text,
    history_json,
    history_text,
    show_json,
    show_text,
)
from hubaudit.report.json_report import defect_document
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

    add_governance_commands(commands)
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

    defects = commands.add_parser("defects", help="architecture defects").add_subparsers(
        dest="defects_command", required=True, metavar="ACTION"
    )
    listing = defects.add_parser("list", help="list a portal's defects")
    listing.add_argument("--portal", required=True)
    listing.add_argument(
        "--status",
        action="append",
        choices=("open", "acknowledged", "resolved", "waived", "accepted"),
        help="only these statuses (repeatable); default: all",
    )
    listing.add_argument(
        "--severity", action="append", choices=[s.value for s in Severity], help="repeatable"
    )
    listing.add_argument("--kind", action="append", choices=[k.value for k in Kind])
    listing.add_argument("--since", help="last seen on or after this date (YYYY-MM-DD) or time")
    listing.add_argument("--json", action="store_true")
    show = defects.add_parser("show", help="one defect with its timeline")
    show.add_argument("id", type=int)
    show.add_argument("--portal", required=True)
    show.add_argument("--json", action="store_true")
    for name, text in (
        ("ack", "acknowledge open defects: known, being handled"),
        ("resolve", "mark defects resolved by hand (the next audit reopens any still present)"),
    ):
        decision = defects.add_parser(name, help=text)
        decision.add_argument("ids", type=int, nargs="+", metavar="ID")
        decision.add_argument("--portal", required=True)
        decision.add_argument("--by", required=True, help="who decided")
        decision.add_argument("--note", default="", required=name == "resolve")
    add_defect_decisions(defects)

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
            "defects": _defects,
            "history": _history,
            "show": _show,
            "diff": _diff,
            **GOVERNANCE_HANDLERS,
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


def _defects(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
    if args.defects_command in ("waive", "accept"):
        return defect_decision(args, config, store, out)
    if args.defects_command == "show":
        return _defect_show(args, store, out)
    if args.defects_command in ("ack", "resolve"):
        status, allowed = {
            "ack": (DefectStatus.ACKNOWLEDGED, {DefectStatus.OPEN}),
            "resolve": (DefectStatus.RESOLVED, {DefectStatus.OPEN, DefectStatus.ACKNOWLEDGED}),
        }[args.defects_command]
        if not args.by.strip():
            raise UsageError("--by needs the name of who decided")
        changed = store.set_defect_status(
            args.portal, args.ids, status, allowed, args.by.strip(), args.note.strip(), utc_now()
        )
        for d in changed:
            print(f"defect {d.id} {terminal_safe(_where(d))}: {d.status.value}", file=out)
        return EXIT_OK
    defects = store.defects(
        args.portal,
        [DefectStatus(s) for s in args.status] if args.status else None,
        severities=[Severity(s) for s in args.severity] if args.severity else None,
        kinds=[Kind(k) for k in args.kind] if args.kind else None,
        since=_moment(args.since) if args.since else None,
    )
    if args.json:
        print(json.dumps([defect_document(d) for d in defects], indent=2), file=out)
        return EXIT_OK
    if not defects:
        print(f"no defects for {args.portal}", file=out)
        return EXIT_OK
    print(
        f"{'id':>5}  {'status':<12} {'severity':<8}  {'seen':>4}  {'last seen':<16}  item", file=out
    )
    for d in defects:
        print(
            f"{d.id:>5}  {d.status.value:<12} {d.severity.value:<8}  {d.occurrences:>4}  "
            f"{d.last_seen_at:%Y-%m-%d %H:%M}  {terminal_safe(_where(d))}{_decision(d)}",
            file=out,
        )
    return EXIT_OK


def _decision(defect: Defect) -> str:
    if defect.waiver is not None and defect.status is DefectStatus.WAIVED:
        return f"  (waived until {defect.waiver.until:%Y-%m-%d})"
    if defect.accepted_version is not None and defect.status is not DefectStatus.ACCEPTED:
        return f"  (proposed for v{defect.accepted_version})"
    return ""


def _where(defect: Defect) -> str:
    return defect.key + (f" {defect.field}" if defect.field else f" ({defect.op.value})")


def _defect_show(args: argparse.Namespace, store: Store, out: TextIO) -> int:
    defect = store.defect(args.portal, args.id)
    events = store.defect_events(defect.id)
    if args.json:
        document = defect_document(defect) | {
            "timeline": [
                {
                    "at": e.at.isoformat(),
                    "event": e.event,
                    "detail": e.detail,
                    "snapshot_id": e.snapshot_id,
                }
                for e in events
            ]
        }
        print(json.dumps(document, indent=2), file=out)
        return EXIT_OK
    label = f'  "{terminal_safe(defect.label)}"' if defect.label else ""
    lines = [
        f"defect #{defect.id}: {terminal_safe(_where(defect))}{label}",
        f"  status {defect.status.value}, severity {defect.severity.value}, "
        f"seen {defect.occurrences} times, against baseline v{defect.baseline_version}",
        f"  first seen {defect.first_seen_at:%Y-%m-%d %H:%M}, last seen "
        f"{defect.last_seen_at:%Y-%m-%d %H:%M} UTC",
        f"  before: {terminal_safe(json.dumps(defect.before, sort_keys=True))}",
        f"  after:  {terminal_safe(json.dumps(defect.after, sort_keys=True))}",
    ]
    if defect.note:
        lines.append(f"  note: {terminal_safe(defect.note)}")
    if defect.waiver is not None and defect.status is DefectStatus.WAIVED:
        lines.append(
            f"  waived by {terminal_safe(defect.waiver.waived_by)} until "
            f"{defect.waiver.until:%Y-%m-%d %H:%M} UTC: {terminal_safe(defect.waiver.reason)}"
        )
    if defect.accepted_version is not None and defect.status is not DefectStatus.ACCEPTED:
        lines.append(f"  proposed for acceptance in baseline v{defect.accepted_version}")
    if defect.resolution:
        lines.append(f"  resolution: {terminal_safe(defect.resolution)}")
    lines.append("  timeline:")
    for e in events:
        detail = ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in e.detail.items())
        lines.append(f"    {e.at:%Y-%m-%d %H:%M}  {e.event:<12} {terminal_safe(detail)}")
    print("\n".join(lines), file=out)
    return EXIT_OK


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--since takes a date such as 2026-11-01, not {text!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
