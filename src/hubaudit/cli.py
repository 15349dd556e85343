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
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine

from hubaudit import __version__
from hubaudit.audit import (
    approve_baseline,
    check_portal,
    open_client,
    require_baseline,
    resolve_snapshot,
    run_audit,
    take_snapshot,
    utc_now,
)
from hubaudit.config import Config, PortalConfig, find_config_path, load_config, resolve_token
from hubaudit.demo import run_demo
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import HubauditError, UsageError
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.logs import configure_logging
from hubaudit.model import CoverageStatus, Defect, DefectStatus, Kind, KindCoverage, Severity
from hubaudit.policies.severity import rules_with
from hubaudit.report import render
from hubaudit.report.escape import terminal_safe
from hubaudit.report.history import (
    diff_json,
    diff_text,
    history_json,
    history_text,
    show_json,
    show_text,
)
from hubaudit.store.engine import (
    current_revision,
    head_revision,
    make_engine,
    require_current_schema,
    upgrade,
)
from hubaudit.store.integrity import check_integrity
from hubaudit.store.repository import Store
from hubaudit.store.retention import snapshots_to_keep
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

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True, metavar="ACTION"
    )
    db.add_parser("upgrade", help="create or upgrade the database to the current schema")
    db.add_parser("current", help="print the database's schema revision")
    prune = db.add_parser("prune", help="delete snapshots the [retention] policy does not keep")
    prune.add_argument("--portal", help="only this portal (default: every portal stored)")
    prune.add_argument("--dry-run", action="store_true", help="say what would go; delete nothing")
    db.add_parser("check", help="verify every stored payload, snapshot and baseline")

    snapshot = commands.add_parser("snapshot", help="read a portal and store a snapshot")
    snapshot.add_argument("--portal", required=True)
    snapshot.add_argument("--json", action="store_true", help="print JSON instead of text")

    baseline = commands.add_parser("baseline", help="approved baselines").add_subparsers(
        dest="baseline_command", required=True, metavar="ACTION"
    )
    approve = baseline.add_parser("approve", help="approve a snapshot as the next baseline")
    approve.add_argument("--portal", required=True)
    approve.add_argument("--from-snapshot", required=True, metavar="latest|ID")
    approve.add_argument("--by", required=True, help="who approved it")
    approve.add_argument("--note", required=True, help="why: the council's decision")

    audit = commands.add_parser(
        "audit", help="snapshot a portal and report drift from its baseline"
    )
    audit.add_argument("--portal", required=True)
    audit.add_argument("--format", choices=("text", "json"), default="text")
    audit.add_argument("--output", help="write the report to this file instead of stdout")
    audit.add_argument(
        "--fail-on",
        choices=[s.value for s in Severity],
        default=Severity.INFO.value,
        help="exit 2 only for unplanned drift at or above this severity (default: any)",
    )

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
    where.add_argument("--baseline", metavar="N", type=int, help="a baseline version")
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

    portals = commands.add_parser("portals", help="the portals in the config").add_subparsers(
        dest="portals_command", required=True, metavar="ACTION"
    )
    check = portals.add_parser("check", help="which kinds the token can read; missing scopes")
    check.add_argument("--portal", required=True)
    check.add_argument("--json", action="store_true")

    demo = commands.add_parser("demo", help="the whole story on a bundled demo portal")
    demo.add_argument("--dir", default="hubaudit-demo", help="where the demo keeps its files")

    emulator = commands.add_parser("emulator", help="serve a portal folder over HTTP")
    emulator.add_argument("--fixtures", required=True, help="a portal folder (see fixtures/demo)")
    emulator.add_argument("--port", type=int, default=8089)
    emulator.add_argument("--token", help="the bearer token to accept (default: the demo token)")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args, stdout)
    except HubauditError as exc:
        print(f"hubaudit: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("hubaudit: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace, out: TextIO) -> int:
    if args.command == "demo":
        configure_logging(args.log_format or "console", args.log_level or "warning")
        return _demo(args, out)
    if args.command == "emulator":
        configure_logging(args.log_format or "console", args.log_level or "info")
        return _emulator(args, out)
    config = load_config(find_config_path(args.config))
    configure_logging(
        args.log_format or config.logging.format, args.log_level or config.logging.level
    )
    if args.command == "portals":
        return _portals_check(args, config, out)

    engine = make_engine(config.database_url)
    try:
        if args.command == "db" and args.db_command in ("upgrade", "current"):
            return _db(args, engine, out)
        require_current_schema(engine)

        store = Store(engine)
        handler = {
            "db": _db_maintenance,
            "snapshot": _snapshot,
            "baseline": _baseline,
            "audit": _audit,
            "defects": _defects,
            "history": _history,
            "show": _show,
            "diff": _diff,
        }[args.command]
        return handler(args, config, store, out)
    finally:
        engine.dispose()


def _db(args: argparse.Namespace, engine: Engine, out: TextIO) -> int:
    if args.db_command == "upgrade":
        upgrade(engine)
        print(
            f"database is at revision {current_revision(engine)} (head {head_revision()})", file=out
        )
    else:
        print(current_revision(engine) or "empty (run `hubaudit db upgrade`)", file=out)
    return EXIT_OK


def _db_maintenance(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    if args.db_command == "check":
        report = check_integrity(store.engine)
        print(
            f"checked {report.payloads} payloads, {report.versions} item versions, "
            f"{report.snapshots} snapshots and {report.baselines} baselines",
            file=out,
        )
        if report.ok:
            print("ok: every payload matches its hash and every snapshot is whole", file=out)
            return EXIT_OK
        for problem in report.problems:
            print(f"  ! {terminal_safe(problem)}", file=out)
        if report.more_problems:
            print(f"  … and {report.more_problems} more", file=out)
        print(
            f"hubaudit: error: {len(report.problems) + report.more_problems} problems "
            "found in the database",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if config.retention is None:
        raise UsageError(
            f"{config.path or 'the config'} has no [retention] table: nothing is pruned "
            "without a policy (see config.example.toml)"
        )
    policy = config.retention
    now = utc_now()
    portals = [args.portal] if args.portal else store.portal_names()
    for name in portals:
        result = store.prune(
            name,
            lambda stamps, protected: snapshots_to_keep(stamps, policy, now, protected),
            dry_run=args.dry_run,
        )
        verb = "would delete" if result.dry_run else "deleted"
        print(
            f"{terminal_safe(name)}: {verb} {len(result.deleted)} snapshots, "
            f"{result.versions_deleted} item versions, {result.payloads_deleted} payloads "
            f"({result.bytes_freed / 1e6:.1f} MB); {result.kept} snapshots kept",
            file=out,
        )
        if result.dry_run:
            for stamp in result.deleted:
                print(f"  - snapshot #{stamp.id} {stamp.taken_at:%Y-%m-%d %H:%M} UTC", file=out)
    return EXIT_OK


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
        if not (ref.isdigit() or ref == "latest"):
            raise UsageError(f"--snapshot takes a snapshot id or 'latest', not {ref!r}")
    item = item_at(store, args.portal, resolve_point(store, args.portal, ref), args.key)
    out.write(show_json(item) if args.json else show_text(item, raw=args.raw))
    return EXIT_OK


def _diff(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    before = resolve_point(store, args.portal, args.before)
    after = resolve_point(store, args.portal, args.after)
    diff = diff_points(store, args.portal, before, after, rules_with(config.severity_overrides))
    return _emit(diff_json(diff) if args.format == "json" else diff_text(diff), args.output, out)


def _emit(text: str, output: str | None, out: TextIO) -> int:
    """Write to ``output`` if given, else to the terminal."""
    if not output:
        out.write(text)
        return EXIT_OK
    target = Path(output)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"hubaudit: error: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _client(config: Config, portal_name: str) -> tuple[PortalConfig, HubSpotClient]:
    portal = config.portal(portal_name)
    return portal, open_client(portal, resolve_token(portal))


def _snapshot(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    portal, client = _client(config, args.portal)
    try:
        snapshot = take_snapshot(store, portal, client)
    finally:
        client.close()
    if args.json:
        document = {
            "id": snapshot.id,
            "portal": snapshot.portal,
            "taken_at": snapshot.taken_at.isoformat(),
            "item_count": snapshot.item_count,
            "api_calls": client.api_calls,
            "coverage": [
                {
                    "kind": c.kind.value,
                    "scope": c.scope,
                    "status": c.status.value,
                    "items": c.items,
                    "reason": c.reason,
                }
                for c in snapshot.coverage
            ],
        }
        print(json.dumps(document, indent=2), file=out)
        return EXIT_OK

    print(
        f"snapshot {snapshot.id} of {snapshot.portal}: {snapshot.item_count} items, "
        f"{client.api_calls} API calls",
        file=out,
    )
    for part in snapshot.coverage:
        reason = f"  {terminal_safe(part.reason)}" if part.reason else ""
        scope = terminal_safe(part.scope)  # custom object names come from HubSpot
        print(f"  {scope:<32} {part.status.value:<11} {part.items:>6}{reason}", file=out)
    return EXIT_OK


def _baseline(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
    snapshot = resolve_snapshot(store, args.portal, args.from_snapshot)
    baseline = approve_baseline(store, args.portal, snapshot, args.by, args.note)
    print(
        f"baseline v{baseline.version} of {args.portal} approved by {baseline.approved_by} "
        f"from snapshot {snapshot.id} ({baseline.item_count} items)",
        file=out,
    )
    return EXIT_OK


def _audit(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    require_baseline(store, args.portal)
    portal, client = _client(config, args.portal)
    try:
        result = run_audit(
            store, portal, client, severity_rules=rules_with(config.severity_overrides)
        )
    finally:
        client.close()
    if _emit(render(result, args.format), args.output, out) != EXIT_OK:
        return EXIT_ERROR
    threshold = Severity(args.fail_on).rank
    if any(change.severity.rank >= threshold for change in result.unplanned):
        return EXIT_DRIFT
    if result.not_verified:
        # Nothing unplanned was seen, but not everything could be looked at: not a clean bill.
        parts = ", ".join(p.scope for p in result.not_verified)
        print(
            f"hubaudit: error: not verified: {terminal_safe(parts)} (see the report)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK


def _defects(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
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
        print(json.dumps([_defect_document(d) for d in defects], indent=2), file=out)
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
            f"{d.last_seen_at:%Y-%m-%d %H:%M}  {terminal_safe(_where(d))}",
            file=out,
        )
    return EXIT_OK


def _where(defect: Defect) -> str:
    return defect.key + (f" {defect.field}" if defect.field else f" ({defect.op.value})")


def _defect_document(d: Defect) -> dict[str, Any]:
    return {
        "id": d.id,
        "kind": d.kind.value,
        "key": d.key,
        "field": d.field,
        "label": d.label,
        "op": d.op.value,
        "status": d.status.value,
        "severity": d.severity.value,
        "before": d.before,
        "after": d.after,
        "first_seen_at": d.first_seen_at.isoformat(),
        "last_seen_at": d.last_seen_at.isoformat(),
        "occurrences": d.occurrences,
        "baseline_version": d.baseline_version,
        "resolution": d.resolution,
    }


def _defect_show(args: argparse.Namespace, store: Store, out: TextIO) -> int:
    defect = store.defect(args.portal, args.id)
    events = store.defect_events(defect.id)
    if args.json:
        document = _defect_document(defect) | {
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


def _portals_check(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    portal, client = _client(config, args.portal)
    try:
        coverage = check_portal(portal, client)
        calls = client.api_calls
    finally:
        client.close()
    failed = [c for c in coverage if c.status is CoverageStatus.FAILED]
    missing = sorted({scope for c in failed for scope in c.scopes})
    if args.json:
        document = {
            "portal": portal.name,
            "api_calls": calls,
            "readable": not failed,
            "missing_scopes": missing,
            "parts": [
                {
                    "kind": c.kind.value,
                    "scope": c.scope,
                    "status": c.status.value,
                    "items": c.items,
                    "reason": c.reason,
                    "scopes": list(c.scopes),
                }
                for c in coverage
            ],
        }
        print(json.dumps(document, indent=2), file=out)
        return EXIT_ERROR if failed else EXIT_OK
    by_kind: dict[str, list[KindCoverage]] = {}
    for part in coverage:
        by_kind.setdefault(part.kind.value, []).append(part)
    print(f"portal {portal.name}: {len(coverage)} parts read in {calls} API calls", file=out)
    for kind, parts in by_kind.items():
        statuses = {p.status for p in parts}
        worst = (
            CoverageStatus.FAILED
            if CoverageStatus.FAILED in statuses
            else CoverageStatus.UNSUPPORTED
            if statuses == {CoverageStatus.UNSUPPORTED}
            else CoverageStatus.COMPLETE
        )
        mark = {"complete": "ok", "failed": "NO", "unsupported": "--"}[worst.value]
        print(f"  {mark:<3} {kind:<18} {sum(p.items for p in parts):>6} items", file=out)
        for part in parts:
            if part.status is not CoverageStatus.COMPLETE:
                reason = terminal_safe(part.reason or "")
                print(
                    f"        {terminal_safe(part.scope)}: {part.status.value}: {reason}", file=out
                )
    if missing:
        print("Scopes HubSpot asked for: " + ", ".join(missing), file=out)
    return EXIT_ERROR if failed else EXIT_OK


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    invoked = Path(sys.argv[0]).name == "hubaudit"
    run_demo(Path(args.dir).resolve(), out, command=sys.argv[0] if invoked else "hubaudit")
    return EXIT_OK


def _emulator(args: argparse.Namespace, out: TextIO) -> int:
    emulator = PortalEmulator(Path(args.fixtures), token=args.token or DEMO_TOKEN, port=args.port)
    print(f"serving {args.fixtures} at {emulator.base_url} (Ctrl-C stops)", file=out, flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK
