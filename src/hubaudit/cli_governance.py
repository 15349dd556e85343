"""The council's commands: baseline versions and files, change requests, waivers, acceptances,
ignore-rule suggestions and the governance log. An edge like ``cli``: arguments in, text out."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from hubaudit.audit import require_baseline, resolve_snapshot, utc_now
from hubaudit.compare import compare
from hubaudit.config import Config
from hubaudit.council import (
    accept_defects,
    decide_proposed,
    export_baseline,
    import_baseline,
    named,
    parse_end,
    parse_start,
    propose_from_snapshot,
    release_requests,
    request_progress,
    waive_defects,
)
from hubaudit.errors import UsageError
from hubaudit.governance.change_requests import CHANGE_HELP, describe_planned, parse_planned_change
from hubaudit.governance.ignore import ignored_by, load_ignore_rules, suggest_rules
from hubaudit.model import BaselineInfo, BaselineStatus, Change, ChangeOp
from hubaudit.policies.severity import rules_with
from hubaudit.report.escape import terminal_safe
from hubaudit.report.history import diff_json, diff_text, stand_in_lines
from hubaudit.store.governance import GovernanceStore
from hubaudit.store.keys import key_ever_held, unknown_key
from hubaudit.store.repository import Store
from hubaudit.timetravel import diff_points, point_items, resolve_point, snapshot_point

Handler = Callable[[argparse.Namespace, Config, Store, TextIO], int]


def add_commands(commands: Any) -> None:
    """The ``baseline``, ``cr``, ``ignore`` and ``log`` commands (``defects waive|accept`` are
    added by :func:`add_defect_decisions`)."""
    baseline = commands.add_parser(
        "baseline", help="baseline versions: propose, approve, export, import, release"
    ).add_subparsers(dest="baseline_command", required=True, metavar="ACTION")
    propose = baseline.add_parser("propose", help="propose a snapshot as the next version")
    propose.add_argument("--portal", required=True)
    propose.add_argument("--from-snapshot", required=True, metavar="latest|ID")
    _decider(propose)
    approve = baseline.add_parser(
        "approve", help="approve the proposed version (or, with --from-snapshot, a snapshot)"
    )
    approve.add_argument("--portal", required=True)
    which = approve.add_mutually_exclusive_group()
    which.add_argument("--version", type=int, help="the proposed version (a check)")
    which.add_argument(
        "--from-snapshot", metavar="latest|ID", help="propose and approve a snapshot at once"
    )
    _decider(approve)
    reject = baseline.add_parser("reject", help="reject the proposed version")
    reject.add_argument("--portal", required=True)
    reject.add_argument("--version", type=int, help="the proposed version (a check)")
    _decider(reject)
    listing = baseline.add_parser("list", help="every version with its status")
    listing.add_argument("--portal", required=True)
    listing.add_argument("--json", action="store_true")
    show = baseline.add_parser("show", help="one version: who, when, why, what it holds")
    show.add_argument("version", nargs="?", type=int, help="default: the latest approved")
    show.add_argument("--portal", required=True)
    show.add_argument("--json", action="store_true")
    diff = baseline.add_parser("diff", help="the changelog from version N to version M")
    diff.add_argument("from_version", metavar="N", type=int)
    diff.add_argument("to_version", metavar="M", type=int)
    diff.add_argument("--portal", required=True)
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.add_argument("--output", help="write to this file instead of stdout")
    export = baseline.add_parser("export", help="write a version as YAML files")
    export.add_argument("--portal", required=True)
    export.add_argument("--version", type=int, help="default: the latest approved")
    export.add_argument("--out", required=True, metavar="DIR")
    load = baseline.add_parser("import", help="propose the next version from YAML files")
    load.add_argument("directory", metavar="DIR")
    load.add_argument("--portal", help="refuse files of another portal")
    load.add_argument("--by", required=True, help="who proposes it")
    load.add_argument("--note", default="", help="why")
    release = baseline.add_parser(
        "release", help="propose the next version with implemented change requests"
    )
    release.add_argument("--portal", required=True)
    release.add_argument("--from-crs", required=True, nargs="+", metavar="CR", type=_cr_id)
    release.add_argument("--by", required=True)
    release.add_argument("--note", default="")

    cr = commands.add_parser("cr", help="change requests: planned changes").add_subparsers(
        dest="cr_command", required=True, metavar="ACTION"
    )
    create = cr.add_parser("create", help="request a planned change")
    create.add_argument("--portal", required=True)
    create.add_argument("--title", required=True)
    create.add_argument("--change", required=True, action="append", help=CHANGE_HELP)
    create.add_argument("--from", dest="valid_from", required=True, metavar="DATE", help="start")
    create.add_argument("--until", required=True, metavar="DATE", help="end (a date: its end)")
    create.add_argument("--by", required=True, help="who requests it")
    create.add_argument("--note", default="")
    for name in ("approve", "reject"):
        decision = cr.add_parser(name, help=f"{name} a proposed change request")
        decision.add_argument("id", type=_cr_id, metavar="CR")
        decision.add_argument("--portal", required=True)
        _decider(decision)
    cr_list = cr.add_parser("list", help="change requests with their progress")
    cr_list.add_argument("--portal", required=True)
    cr_list.add_argument("--json", action="store_true")
    cr_show = cr.add_parser("show", help="one change request, change by change")
    cr_show.add_argument("id", type=_cr_id, metavar="CR")
    cr_show.add_argument("--portal", required=True)
    cr_show.add_argument("--json", action="store_true")

    ignore = commands.add_parser("ignore", help="ignore rules").add_subparsers(
        dest="ignore_command", required=True, metavar="ACTION"
    )
    suggest = ignore.add_parser("suggest", help="propose rules from what is drifting now")
    suggest.add_argument("--portal", required=True)
    suggest.add_argument("--output", help="write to this new file instead of stdout")

    log = commands.add_parser("log", help="the governance log: who decided what, when, why")
    log.add_argument("--portal", required=True)
    log.add_argument("--since", metavar="DATE")
    log.add_argument("--json", action="store_true")


def add_defect_decisions(defects: Any) -> None:
    waive = defects.add_parser("waive", help="tolerate defects until a date, with a reason")
    waive.add_argument("ids", type=int, nargs="+", metavar="ID")
    waive.add_argument("--portal", required=True)
    waive.add_argument("--reason", required=True, help="why this drift is tolerated")
    waive.add_argument("--until", required=True, metavar="DATE", help="a date (through its end)")
    waive.add_argument("--by", required=True)
    accept = defects.add_parser(
        "accept", help="take defects' changes into the proposed baseline version"
    )
    accept.add_argument("ids", type=int, nargs="+", metavar="ID")
    accept.add_argument("--portal", required=True)
    _decider(accept)


def _decider(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", required=True, help="who decides")
    parser.add_argument("--note", required=True, help="why: the council's decision")


def _cr_id(text: str) -> int:
    digits = text[3:] if text.upper().startswith("CR-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        raise argparse.ArgumentTypeError(f"a change request is CR-N or N, not {text!r}")
    return int(digits)


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


# baseline -----------------------------------------------------------------------------------


def baseline_command(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    action = args.baseline_command
    if action == "import":
        if args.portal:
            config.portal(args.portal)
        baseline = import_baseline(
            store,
            Path(args.directory),
            args.by,
            args.note,
            args.portal,
            known=config.portal,
            max_bytes=int(config.max_import_mb * 2**20),
        )
        print(
            f"baseline v{baseline.version} of {terminal_safe(baseline.portal)} proposed from "
            f"{terminal_safe(args.directory)} ({baseline.item_count} items); "
            f"see `hubaudit baseline diff` and approve it with `hubaudit baseline approve`",
            file=out,
        )
        return 0
    config.portal(args.portal)
    if action == "propose":
        snapshot = resolve_snapshot(store, args.portal, args.from_snapshot)
        baseline = propose_from_snapshot(store, args.portal, snapshot, args.by, args.note)
        print(
            f"baseline v{baseline.version} of {args.portal} proposed by {terminal_safe(args.by)} "
            f"from snapshot {snapshot.id} ({baseline.item_count} items)",
            file=out,
        )
        return 0
    if action == "approve" and args.from_snapshot:
        snapshot = resolve_snapshot(store, args.portal, args.from_snapshot)
        propose_from_snapshot(store, args.portal, snapshot, args.by, args.note)
    if action in ("approve", "reject"):
        approving = action == "approve"
        version = getattr(args, "version", None)
        baseline, defects, requests = decide_proposed(
            store, args.portal, version, approving, args.by, args.note
        )
        verb = "approved" if approving else "rejected"
        print(
            f"baseline v{baseline.version} of {args.portal} {verb} by {terminal_safe(args.by)} "
            f"({baseline.item_count} items)",
            file=out,
        )
        if defects:
            closed = "closed as accepted" if approving else "no longer proposed for acceptance"
            print(f"  defects {_ids(defects)}: {closed}", file=out)
        if requests:
            state = "released" if approving else "no longer released"
            print(f"  change requests {_crs(requests)}: {state}", file=out)
        return 0
    if action == "list":
        return _baseline_list(args, store, out)
    if action == "show":
        return _baseline_show(args, store, out)
    if action == "diff":
        before = resolve_point(store, args.portal, f"baseline:{args.from_version}")
        after = resolve_point(store, args.portal, f"baseline:{args.to_version}")
        diff = diff_points(store, args.portal, before, after, rules_with(config.severity_overrides))
        return emit(diff_json(diff) if args.format == "json" else diff_text(diff), args.output, out)
    if action == "export":
        baseline, files = export_baseline(store, args.portal, args.version, Path(args.out))
        print(
            f"baseline v{baseline.version} of {args.portal} written to {args.out}: "
            f"{len(files)} files, {baseline.item_count} items",
            file=out,
        )
        return 0
    assert action == "release"
    baseline = release_requests(store, args.portal, args.from_crs, args.by, args.note)
    print(
        f"baseline v{baseline.version} of {args.portal} proposed with {_crs(args.from_crs)} "
        f"({baseline.item_count} items); approve it with `hubaudit baseline approve`",
        file=out,
    )
    return 0


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


def _crs(ids: Sequence[int]) -> str:
    return ", ".join(f"CR-{i}" for i in sorted(ids))


def _version_document(b: BaselineInfo, defects: list[int], requests: list[int]) -> dict[str, Any]:
    return {
        "version": b.version,
        "status": b.status.value,
        "source": b.source,
        "proposed_by": b.proposed_by,
        "proposed_at": b.proposed_at.isoformat() if b.proposed_at else None,
        "proposal_note": b.proposal_note,
        "approved_by": b.approved_by,
        "approved_at": b.approved_at.isoformat() if b.approved_at else None,
        "note": b.note,
        "rejected_by": b.rejected_by,
        "rejected_at": b.rejected_at.isoformat() if b.rejected_at else None,
        "rejection_note": b.rejection_note,
        "source_snapshot_id": b.source_snapshot_id,
        "items": b.item_count,
        "scopes": list(b.scopes),
        "accepted_defects": defects,
        "released_change_requests": requests,
    }


def _decision_line(b: BaselineInfo) -> str:
    if b.status is BaselineStatus.APPROVED:
        return f"approved by {terminal_safe(b.approved_by or '')} {b.moment:%Y-%m-%d %H:%M}"
    if b.status is BaselineStatus.REJECTED and b.rejected_at is not None:
        return f"rejected by {terminal_safe(b.rejected_by or '')} {b.rejected_at:%Y-%m-%d %H:%M}"
    return "awaiting a decision"


def _baseline_list(args: argparse.Namespace, store: Store, out: TextIO) -> int:
    governance = GovernanceStore(store)
    versions = governance.versions(args.portal)
    if args.json:
        documents = [_version_document(b, *governance.linked(b.id)) for b in versions]
        print(json.dumps(documents, indent=2), file=out)
        return 0
    if not versions:
        print(f"no baseline versions for {args.portal}", file=out)
        return 0
    for b in versions:
        print(
            f"v{b.version:<4} {b.status.value:<9} {b.item_count:>6} items  "
            f"proposed by {terminal_safe(b.proposed_by)} "
            f"{b.proposed_at:%Y-%m-%d %H:%M} ({b.source}); {_decision_line(b)}",
            file=out,
        )
    return 0


def _baseline_show(args: argparse.Namespace, store: Store, out: TextIO) -> int:
    governance = GovernanceStore(store)
    if args.version is None:
        baseline = require_baseline(store, args.portal)
    else:
        baseline = store.baseline(args.portal, args.version)
    defects, requests = governance.linked(baseline.id)
    if args.json:
        document = _version_document(baseline, defects, requests)
        print(json.dumps(document, indent=2), file=out)
        return 0
    items = store.baseline_items(baseline.id)
    kinds: dict[str, int] = {}
    for item in items.values():
        kinds[item.kind.value] = kinds.get(item.kind.value, 0) + 1
    lines = [
        f"baseline v{baseline.version} of {args.portal}: {baseline.status.value}",
        f"  proposed by {terminal_safe(baseline.proposed_by)} on "
        f"{baseline.proposed_at:%Y-%m-%d %H:%M} UTC from {baseline.source}: "
        f"{terminal_safe(baseline.proposal_note)}",
        f"  {_decision_line(baseline)}"
        + (f": {terminal_safe(baseline.note or '')}" if baseline.note else "")
        + (f": {terminal_safe(baseline.rejection_note)}" if baseline.rejection_note else ""),
        f"  {baseline.item_count} items: "
        + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())),
        f"  governs {len(baseline.scopes)} parts",
    ]
    if defects:
        lines.append(f"  accepts defects {_ids(defects)}")
    if requests:
        lines.append(f"  releases {_crs(requests)}")
    print("\n".join(lines), file=out)
    return 0


# change requests ----------------------------------------------------------------------------


def cr_command(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
    governance = GovernanceStore(store)
    action = args.cr_command
    if action == "create":
        if not args.title.strip():
            raise UsageError("a change request needs a --title")
        by, note = named(args.by, args.note, "a change request", note_required=False)
        changes = [parse_planned_change(text) for text in args.change]
        # only an added item may be new to a portal hubaudit has read: a typo plans nothing
        read = store.latest_snapshot(args.portal) is not None
        modified = [c.key for c in changes if c.op is not ChangeOp.ADDED] if read else []
        for key in modified:
            if not key_ever_held(store, args.portal, key):
                raise UsageError(unknown_key(store, args.portal, key))
        keys = [c.key for c in changes]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise UsageError(f"{twice[0]} is named twice; one planned change per item")
        valid_from, valid_until = parse_start(args.valid_from), parse_end(args.until)
        if valid_until <= valid_from:
            raise UsageError("--until must be after --from")
        request = governance.create_request(
            args.portal,
            title=args.title.strip(),
            by=by,
            at=utc_now(),
            valid_from=valid_from,
            valid_until=valid_until,
            changes=changes,
            note=note,
        )
        print(
            f"CR-{request.id} created ({len(changes)} planned changes, "
            f"{valid_from:%Y-%m-%d %H:%M} to {valid_until:%Y-%m-%d %H:%M} UTC); it plans "
            "nothing until approved (`hubaudit cr approve`)",
            file=out,
        )
        return 0
    if action in ("approve", "reject"):
        by, note = named(args.by, args.note, f"{action.rstrip('e')}ing a change request")
        request = governance.decide_request(
            args.portal,
            args.id,
            action == "approve",
            by,
            note,
            utc_now(),
        )
        print(f"CR-{request.id} {request.status.value} by {terminal_safe(args.by)}", file=out)
        return 0
    requests = governance.requests(args.portal, [args.id] if action == "show" else None)
    progress = request_progress(store, args.portal, requests)
    if args.json:
        documents = [
            {
                "id": p.request.id,
                "title": p.request.title,
                "status": p.request.status.value,
                "progress": p.summary,
                "requested_by": p.request.requested_by,
                "requested_at": p.request.requested_at.isoformat(),
                "valid_from": p.request.valid_from.isoformat(),
                "valid_until": p.request.valid_until.isoformat(),
                "decided_by": p.request.decided_by,
                "decided_at": p.request.decided_at.isoformat() if p.request.decided_at else None,
                "decision_note": p.request.decision_note,
                "released_version": p.request.released_version,
                "changes": [
                    {
                        "op": s.planned.op.value,
                        "key": s.planned.key,
                        "expect": dict(s.planned.expect),
                        "state": s.state,
                    }
                    for s in p.states
                ],
            }
            for p in progress
        ]
        print(json.dumps(documents[0] if action == "show" else documents, indent=2), file=out)
        return 0
    if not progress:
        print(f"no change requests for {args.portal}", file=out)
        return 0
    for p in progress:
        r = p.request
        released = f", in baseline v{r.released_version}" if r.released_version else ""
        print(
            f"CR-{r.id}  {r.status.value}{released}  {p.summary}  "
            f"{r.valid_from:%Y-%m-%d} → {r.valid_until:%Y-%m-%d}  {terminal_safe(r.title)}",
            file=out,
        )
        if action == "show":
            print(
                f"  requested by {terminal_safe(r.requested_by)} {r.requested_at:%Y-%m-%d %H:%M}"
                + (
                    f"; {r.status.value} by {terminal_safe(r.decided_by or '')}: "
                    f"{terminal_safe(r.decision_note or '')}"
                    if r.decided_by
                    else ""
                ),
                file=out,
            )
            for s in p.states:
                print(f"  - {terminal_safe(describe_planned(s.planned))}: {s.state}", file=out)
    return 0


# defects: waive and accept ------------------------------------------------------------------


def defect_decision(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
    if args.defects_command == "waive":
        defects = waive_defects(
            store, args.portal, args.ids, args.by, args.reason, parse_end(args.until)
        )
        for d in defects:
            assert d.waiver is not None
            print(
                f"defect {d.id} waived until {d.waiver.until:%Y-%m-%d %H:%M} UTC by "
                f"{terminal_safe(d.waiver.waived_by)}",
                file=out,
            )
        return 0
    baseline = accept_defects(store, args.portal, args.ids, args.by, args.note)
    print(
        f"defects {_ids(sorted(set(args.ids)))} accepted into proposed baseline "
        f"v{baseline.version} ({baseline.item_count} items); approving it closes them",
        file=out,
    )
    return 0


# ignore suggest -----------------------------------------------------------------------------


def ignore_command(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    portal = config.portal(args.portal)
    baseline = require_baseline(store, args.portal)
    point = snapshot_point(store, args.portal, "latest", "latest")
    assert point.snapshot is not None
    snapshot = point.snapshot
    complete = point.scopes
    comparable = {s: complete[s] for s in baseline.scopes if s in complete}
    comparison = compare(
        store.baseline_items(baseline.id),
        point_items(store, point),
        comparable,
        store.load_payloads,
    )
    ignore_file = config.ignore_file_of(portal)
    rules = load_ignore_rules(ignore_file) if ignore_file is not None else ()
    drifting: list[Change] = [c for c in comparison.changes if ignored_by(c, rules) is None]
    text = suggest_rules(drifting)
    header = (
        f"# suggested from snapshot #{snapshot.id} against baseline v{baseline.version} of "
        f"{args.portal}: {len(drifting)} changes not yet ignored\n"
    ) + "".join(f"# {line}\n" for line in stand_in_lines(point))
    if args.output:
        target = Path(args.output)
        try:
            with target.open("x", encoding="utf-8") as handle:
                handle.write(header + text)
        except FileExistsError as exc:
            raise UsageError(f"{target} exists; suggestions never overwrite a file") from exc
        print(f"wrote suggestions for {len(drifting)} changes to {target}", file=out)
        return 0
    out.write(header + text)
    return 0


# the log ------------------------------------------------------------------------------------


def log_command(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
    since = parse_start(args.since) if args.since else None
    entries = (
        GovernanceStore(store).log(args.portal, since)
        if args.portal in store.portal_names()
        else []
    )
    if args.json:
        documents = [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "note": e.note,
                "detail": e.detail,
            }
            for e in entries
        ]
        print(json.dumps(documents, indent=2), file=out)
        return 0
    if not entries:
        print(f"the governance log of {args.portal} is empty", file=out)
        return 0
    for e in entries:
        print(
            f"{e.at:%Y-%m-%d %H:%M}  {terminal_safe(e.actor):<24} {e.action:<18} "
            f"{terminal_safe(e.subject)}: {terminal_safe(e.note)}",
            file=out,
        )
    return 0


HANDLERS: dict[str, Handler] = {
    "baseline": baseline_command,
    "cr": cr_command,
    "ignore": ignore_command,
    "log": log_command,
}
