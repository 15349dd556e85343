"""``hubaudit ignore``: ignore rules for drift that is nobody's concern.

``ignore check`` exits 0 for a valid rules file and 1 for an invalid one (every rule's first
mistake, with file, line and key, on stderr); it records no run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from hubaudit.cli.common import EXIT_OK, Session, format_option, pass_session, portal_option

if TYPE_CHECKING:
    from hubaudit.governance.ignore import RuleMatches
    from hubaudit.services.ignore import IgnoreCheck

EXAMPLES = 3
"""Changes shown per rule and outcome in ``ignore check``'s text."""


@click.group()
def ignore() -> None:
    """Ignore rules: check a rules file, suggest rules from what drifts now."""


@ignore.command()
@portal_option
@click.option(
    "--output",
    "--out",
    "output",
    metavar="FILE",
    help="write to this new file (never overwritten) instead of the terminal",
)
@pass_session
def suggest(session: Session, portal: str | None, output: str | None) -> int:
    """Propose rules from what drifts now (the latest snapshot against the approved baseline),
    reasons left for you to write; critical drift is never proposed."""
    from pathlib import Path

    from hubaudit.errors import UsageError
    from hubaudit.policies.severity import rules_with
    from hubaudit.report.escape import terminal_safe
    from hubaudit.report.history import stand_in_lines
    from hubaudit.services.ignore import suggest_ignore_rules

    config = session.config()
    portal_config = session.portal(portal)
    name = portal_config.name
    found = suggest_ignore_rules(
        session.store(),
        name,
        config.ignore_file_of(portal_config),
        rules_with(config.severity_overrides),
        config.impact,
    )
    header = (
        f"# suggested from snapshot #{found.snapshot.id} against baseline "
        f"v{found.baseline.version} of {terminal_safe(name)}: {len(found.drifting)} changes "
        "not yet ignored\n"
    ) + "".join(f"# {line}\n" for line in stand_in_lines(found.point))
    if not output:
        return session.emit(header + found.rules, None)
    target = Path(output)
    try:
        with target.open("x", encoding="utf-8") as handle:
            handle.write(header + found.rules)
    except FileExistsError as exc:
        raise UsageError(f"{target} exists; suggestions never overwrite a file") from exc
    session.echo(
        f"wrote suggestions for {len(found.drifting)} changes to {terminal_safe(str(target))}"
    )
    return EXIT_OK


@ignore.command()
@click.argument("file", required=False, metavar="[FILE]")
@portal_option
@format_option("text", "json")
@pass_session
def check(session: Session, file: str | None, portal: str | None, output_format: str) -> int:
    """Validate a rules file (default: the portal's configured one) and show what each rule
    would match in the portal's latest audit, critical changes it may not ignore included.
    Records nothing. Exit 0: valid; 1: invalid (each mistake with file, line and key)."""
    import json
    from pathlib import Path

    from hubaudit.errors import UsageError
    from hubaudit.services.ignore import check_ignore_file

    config = session.config()
    portal_config = session.portal(portal)
    path = Path(file) if file else config.ignore_file_of(portal_config)
    if path is None:
        raise UsageError(
            f"portal {portal_config.name!r} has no ignore file: give FILE, or set "
            "[governance] ignore_file (or the portal's ignore_file) in the config"
        )
    found = check_ignore_file(session.store, portal_config.name, path)
    if output_format == "json":
        return session.emit(json.dumps(check_document(found), indent=2) + "\n", None)
    return session.emit("".join(f"{line}\n" for line in check_lines(found)), None)


def check_lines(found: IgnoreCheck) -> list[str]:
    from hubaudit.governance.ignore import place
    from hubaudit.report.escape import terminal_safe

    count = len(found.rules)
    lines = [f"{terminal_safe(str(found.file))}: valid, {count} rule{'' if count == 1 else 's'}"]
    audit = found.audit
    if audit is None:
        lines.append("No audit of the portal yet: nothing to match the rules against.")
        return lines
    run = f"run #{audit.run_id}, " if audit.run_id is not None else ""
    lines.append(
        f"What each rule decides in the latest audit of {terminal_safe(audit.portal)} ({run}"
        f"snapshot #{audit.snapshot.id} of {audit.snapshot.taken_at:%Y-%m-%d %H:%M} UTC, "
        f"{_changes(len(audit.changes))}); nothing is recorded:"
    )
    for matches in found.matches:
        rule = matches.rule
        lines.append(f"  {terminal_safe(rule.describe())}")
        if rule.allow_critical:
            lines.append(
                f"    may ignore critical drift: {terminal_safe(rule.critical_reason or '')}"
            )
        outcomes = (
            ("ignores", matches.ignores),
            ("refuses (critical, and the rule has no allow_critical = true)", matches.refused),
            ("keeps (a negation: still reported)", matches.keeps),
        )
        if not any(changes for _, changes in outcomes):
            lines.append("    matches nothing")
        for verb, changes in outcomes:
            if not changes:
                continue
            lines.append(f"    {verb}: {_changes(len(changes))}")
            shown = sorted({place(change) for change in changes})
            lines += [f"      {terminal_safe(where)}" for where in shown[:EXAMPLES]]
            if len(shown) > EXAMPLES:
                lines.append(f"      … and {len(shown) - EXAMPLES} more")
    return lines


def check_document(found: IgnoreCheck) -> dict[str, Any]:
    """``ignore check --json``."""
    audit = found.audit
    return {
        "file": str(found.file),
        "valid": True,
        "audit": None
        if audit is None
        else {
            "portal": audit.portal,
            "run_id": audit.run_id,
            "snapshot_id": audit.snapshot.id,
            "taken_at": audit.snapshot.taken_at.isoformat(),
            "changes": len(audit.changes),
        },
        "rules": [_rule_document(matches) for matches in found.matches],
    }


def _rule_document(matches: RuleMatches) -> dict[str, Any]:
    from hubaudit.governance.ignore import place

    rule = matches.rule
    return {
        "index": rule.index,
        "line": rule.line,
        "rule": rule.describe(),
        "negate": rule.negate,
        "allow_critical": rule.allow_critical,
        **{
            name: sorted({place(change) for change in changes})
            for name, changes in (
                ("ignores", matches.ignores),
                ("refused", matches.refused),
                ("keeps", matches.keeps),
            )
        },
    }


def _changes(n: int) -> str:
    return f"{n} change" if n == 1 else f"{n} changes"
