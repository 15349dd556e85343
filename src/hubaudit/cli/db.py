"""``hubaudit db``: the database's schema, its integrity, and pruning by the retention policy."""

from __future__ import annotations

import sys

import click

from hubaudit.cli.common import EXIT_ERROR, EXIT_OK, Session, pass_session
from hubaudit.errors import UsageError
from hubaudit.report.escape import terminal_safe


@click.group()
def db() -> None:
    """The database: schema, integrity, retention."""


@db.command()
@pass_session
def upgrade(session: Session) -> int:
    """Create or upgrade the database to the current schema."""
    from hubaudit.store.engine import current_revision, head_revision
    from hubaudit.store.engine import upgrade as upgrade_schema

    engine = session.engine()
    upgrade_schema(engine)
    session.echo(f"database is at revision {current_revision(engine)} (head {head_revision()})")
    return EXIT_OK


@db.command()
@pass_session
def current(session: Session) -> int:
    """Print the database's schema revision."""
    from hubaudit.store.engine import require_known_revision

    revision = require_known_revision(session.engine())  # a newer hubaudit's revision: exit 1
    session.echo(revision or "empty (run `hubaudit db upgrade`)")
    return EXIT_OK


@db.command()
@pass_session
def check(session: Session) -> int:
    """Verify every stored payload, snapshot and baseline."""
    from hubaudit.store.integrity import check_integrity

    report = check_integrity(session.store().engine)
    session.echo(
        f"checked {report.payloads} payloads, {report.versions} item versions, "
        f"{report.snapshots} snapshots and {report.baselines} baselines"
    )
    if report.ok:
        session.echo("ok: every payload matches its hash and every snapshot is whole")
        return EXIT_OK
    for problem in report.problems:
        session.echo(f"  ! {terminal_safe(problem)}")
    if report.more_problems:
        session.echo(f"  … and {report.more_problems} more")
    total = len(report.problems) + report.more_problems
    print(f"hubaudit: error: {total} problems found in the database", file=sys.stderr)
    return EXIT_ERROR


@db.command()
@click.option("--portal", metavar="NAME", help="only this portal (default: every portal stored)")
@click.option("--dry-run", is_flag=True, help="say what would go; delete nothing")
@pass_session
def prune(session: Session, portal: str | None, dry_run: bool) -> int:
    """Delete snapshots the [retention] policy does not keep."""
    from hubaudit.services.audit_run import utc_now
    from hubaudit.store.retention import snapshots_to_keep

    config = session.config()
    if portal is not None:
        config.portal(portal)  # a typo is an error, never a new portal
    store = session.store()
    if config.retention is None:
        raise UsageError(
            f"{config.path or 'the config'} has no [retention] table: nothing is pruned "
            "without a policy (see config.example.toml)"
        )
    policy = config.retention
    now = utc_now()
    for name in [portal] if portal else store.portal_names():
        result = store.prune(
            name,
            lambda stamps, protected: snapshots_to_keep(stamps, policy, now, protected),
            dry_run=dry_run,
        )
        verb = "would delete" if result.dry_run else "deleted"
        session.echo(
            f"{terminal_safe(name)}: {verb} {len(result.deleted)} snapshots, "
            f"{result.versions_deleted} item versions, {result.payloads_deleted} payloads "
            f"({result.bytes_freed / 1e6:.1f} MB); {result.kept} snapshots kept"
        )
        if result.dry_run:
            for stamp in result.deleted:
                session.echo(f"  - snapshot #{stamp.id} {stamp.taken_at:%Y-%m-%d %H:%M} UTC")
    return EXIT_OK
