"""The report commands: ``report`` (a run's report in any format) and ``kpis``. An edge like
``cli``: arguments in, text out."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from hubaudit.audit import utc_now
from hubaudit.config import Config
from hubaudit.dates import parse_end, parse_start
from hubaudit.errors import UsageError
from hubaudit.kpis import DEFAULT_WEEKS, default_since, governance_kpis
from hubaudit.latest import latest_point
from hubaudit.report import FORMATS, render
from hubaudit.report.history import stand_in_lines
from hubaudit.report.json_report import from_document, kpis_document
from hubaudit.report.text import kpis_lines
from hubaudit.store.reports import ReportStore
from hubaudit.store.repository import Store
from hubaudit.timetravel import snapshot_view

Handler = Callable[[argparse.Namespace, Config, Store, TextIO], int]


def add_commands(commands: Any) -> None:
    report = commands.add_parser(
        "report", help="a run's drift report in any format (default: the latest run)"
    )
    report.add_argument("--portal", required=True)
    report.add_argument("--run", type=int, metavar="ID", help="a run id (see `hubaudit runs`)")
    report.add_argument("--format", choices=FORMATS, default="text")
    report.add_argument("--output", help="write to this file instead of stdout")

    kpis = commands.add_parser("kpis", help="governance KPIs of a portal over a period")
    kpis.add_argument("--portal", required=True)
    kpis.add_argument("--since", metavar="DATE", help=f"default: {DEFAULT_WEEKS} weeks ago")
    kpis.add_argument("--until", metavar="DATE", help="default: now")
    kpis.add_argument("--json", action="store_true")


def emit(text: str, output: str | None, out: TextIO) -> int:
    """Write to ``output`` if given, else to the terminal."""
    if not output:
        out.write(text)
        return 0
    target = Path(output)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"hubaudit: error: cannot write {target}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def report_command(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
    result = from_document(ReportStore(store).report_document(args.portal, args.run))
    colour = not args.output and wants_colour(out)
    return emit(render(result, args.format, colour=colour), args.output, out)


def wants_colour(out: TextIO) -> bool:
    """Colour for a person at a terminal; none when piped, or when NO_COLOR is set."""
    return bool(getattr(out, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def kpis_command(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
    until = parse_end(args.until) if args.until else utc_now()
    since = parse_start(args.since) if args.since else default_since(until)
    if since >= until:
        raise UsageError("--since must be before --until")
    point = latest_point(store, args.portal) if args.portal in store.portal_names() else None
    view = snapshot_view(store, point) if point is not None else None
    baseline = store.latest_baseline(args.portal) if point is not None else None
    keys = store.baseline_items(baseline.id).keys() if baseline is not None else ()
    kpis = governance_kpis(store, args.portal, view, set(keys), since, until)
    if args.json:
        print(json.dumps(kpis_document(kpis), indent=2, ensure_ascii=False), file=out)
        return 0
    print(f"portal {args.portal}", file=out)
    for line in stand_in_lines(point) if point is not None else []:
        print(line, file=out)
    print("\n".join(kpis_lines(kpis)).rstrip("\n"), file=out)
    return 0


HANDLERS: dict[str, Handler] = {"report": report_command, "kpis": kpis_command}
