"""The architecture commands: ``impact``, ``findings`` and ``policies``. An edge like ``cli``:
arguments in, text out."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, TextIO

from hubaudit.config import Config
from hubaudit.council import parse_end, waive_findings
from hubaudit.errors import UsageError
from hubaudit.model import FindingStatus, Severity
from hubaudit.policies.builtin import BUILTIN_POLICIES
from hubaudit.report.escape import terminal_safe
from hubaudit.report.json_report import finding_document
from hubaudit.report.text import finding_line
from hubaudit.store.findings import FindingStore
from hubaudit.store.repository import Store

Handler = Callable[[argparse.Namespace, Config, Store, TextIO], int]


def add_commands(commands: Any) -> None:
    findings = commands.add_parser("findings", help="breaches of architecture policies")
    actions = findings.add_subparsers(dest="findings_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the portal's findings, worst first")
    listing.add_argument("--portal", required=True)
    listing.add_argument(
        "--status", action="append", choices=[s.value for s in FindingStatus], default=None
    )
    listing.add_argument("--policy", action="append", default=None, metavar="ID")
    listing.add_argument(
        "--severity", action="append", choices=[s.value for s in Severity], default=None
    )
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="one finding with its detail")
    show.add_argument("id", type=int)
    show.add_argument("--portal", required=True)
    show.add_argument("--json", action="store_true")
    waive = actions.add_parser("waive", help="tolerate findings until a date, with a reason")
    waive.add_argument("ids", type=int, nargs="+", metavar="ID")
    waive.add_argument("--portal", required=True)
    waive.add_argument("--reason", required=True, help="why this breach is tolerated")
    waive.add_argument("--until", required=True, metavar="DATE", help="a date (through its end)")
    waive.add_argument("--by", required=True)


def findings_command(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
    findings = FindingStore(store)
    if args.findings_command == "waive":
        until = parse_end(args.until)
        waived = waive_findings(store, args.portal, args.ids, args.by, args.reason, until)
        for f in waived:
            print(
                f"finding #{f.id} {f.policy} {terminal_safe(f.key)}: waived until {until:%Y-%m-%d}",
                file=out,
            )
        return 0
    if args.findings_command == "show":
        finding = findings.finding(args.portal, args.id)
        if args.json:
            print(json.dumps(finding_document(finding), indent=2), file=out)
            return 0
        lines = [
            f"finding #{finding.id}: {finding.policy} on {terminal_safe(finding.subject)}",
            f"  {finding.status.value}, severity {finding.severity.value}, seen "
            f"{finding.occurrences} times, first {finding.first_seen_at:%Y-%m-%d %H:%M}, "
            f"last {finding.last_seen_at:%Y-%m-%d %H:%M} UTC",
            f"  {terminal_safe(finding.message)}",
            f"  why the council has this policy: {terminal_safe(finding.reason)}",
        ]
        if finding.waiver is not None:
            lines.append(
                f"  waived by {terminal_safe(finding.waiver.by)} until "
                f"{finding.waiver.until:%Y-%m-%d %H:%M} UTC: {terminal_safe(finding.waiver.reason)}"
            )
        if finding.resolution:
            lines.append(f"  resolution: {terminal_safe(finding.resolution)}")
        detail = json.dumps(finding.detail, sort_keys=True)
        lines.append(f"  detail: {terminal_safe(detail)}")
        print("\n".join(lines), file=out)
        return 0
    known = {p.id for p in BUILTIN_POLICIES}
    for policy in args.policy or ():
        if policy not in known:
            raise UsageError(f"no policy {policy!r} (known: {', '.join(sorted(known))})")
    found = findings.findings(
        args.portal,
        [FindingStatus(s) for s in args.status] if args.status else None,
        policies=args.policy,
        severities=[Severity(s) for s in args.severity] if args.severity else None,
    )
    found.sort(key=lambda f: (f.status is not FindingStatus.OPEN, -f.severity.rank, f.id))
    if args.json:
        print(
            json.dumps([finding_document(f) for f in found], indent=2),
            file=out,
        )
        return 0
    if not found:
        print(f"no findings for {terminal_safe(args.portal)}", file=out)
        return 0
    for f in found:
        state = "" if f.status is not FindingStatus.RESOLVED else "  (resolved)"
        print(finding_line(f) + state, file=out)
    return 0


HANDLERS: dict[str, Handler] = {
    "findings": findings_command,
}
