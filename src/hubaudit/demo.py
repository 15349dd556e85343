"""``hubaudit demo``: the whole story against the bundled emulator, with no HubSpot account.

A portal is snapshotted and its architecture approved as baseline v1; overnight its users change
a few things; the next audit reports exactly those changes as defects.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from hubaudit.config import Config, PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import HubauditError
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.items import CoverageStatus, SnapshotInfo
from hubaudit.model.runs import RunTrigger
from hubaudit.report import render
from hubaudit.services.audit_run import (
    approve_baseline,
    open_client,
    portal_view,
    record_findings,
    take_snapshot,
    utc_now,
)
from hubaudit.services.jobs import execute_run
from hubaudit.shipped import demo_fixtures_dir
from hubaudit.store.engine import make_engine, upgrade
from hubaudit.store.repository import Store
from hubaudit.store.runs import RunStore

PORTAL = "demo"
RATE_LIMIT = 190  # the demo company is on Professional: 190 requests per 10 seconds
TOKEN_ENV = "HUBAUDIT_DEMO_TOKEN"  # noqa: S105 - a variable name, not a token


def _by_kind(snapshot: SnapshotInfo) -> str:
    counts: dict[str, int] = {}
    unsupported: list[str] = []
    for part in snapshot.coverage:
        counts[part.kind.value] = counts.get(part.kind.value, 0) + part.items
        if part.status is CoverageStatus.UNSUPPORTED:
            unsupported.append(part.scope)
    text = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    if unsupported:
        text += f"\n   (not in this portal's subscription: {', '.join(unsupported)})"
    return text


def _recorded_audit(
    store: Store, portal: PortalConfig, client: HubSpotClient, database: Path
) -> AuditResult:
    """The nightly audit as a recorded run, as `hubaudit audit` makes it: its report is kept,
    so `hubaudit report --portal demo` renders it again in any format."""
    runs = RunStore(store)
    lease = timedelta(minutes=5)
    run = runs.start_now(PORTAL, RunTrigger.CLI, "demo", utc_now(), lease)
    config = Config(f"sqlite:///{database}", (portal,))
    outcome = execute_run(
        store,
        runs,
        config,
        run,
        "demo",
        threading.Event(),
        # the night-1 client: its pacing knows what it already spent of the portal's limit
        client_factory=lambda _config, _name, _stop: client,
    )
    if outcome.result is None:
        raise HubauditError(f"the demo audit failed: {outcome.error}")
    return outcome.result


def run_demo(workdir: Path, out: TextIO, command: str = "hubaudit") -> AuditResult:
    fixtures = demo_fixtures_dir()
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "hubaudit.db"
    for stale in (database, workdir / "hubaudit.db-wal", workdir / "hubaudit.db-shm"):
        stale.unlink(missing_ok=True)  # the demo tells the same story every time
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        store = Store(engine)
        with PortalEmulator(
            fixtures / "night1", token=DEMO_TOKEN, rate_limit_per_10s=RATE_LIMIT
        ) as emulator:
            portal = PortalConfig(
                name=PORTAL,
                base_url=emulator.base_url,
                token_env=TOKEN_ENV,
                rate_limit_per_10s=RATE_LIMIT,
            )
            client = open_client(portal, Secret(DEMO_TOKEN))
            try:
                print(
                    "hubaudit demo: a HubSpot portal audited end to end, no account needed.\n",
                    file=out,
                )
                print(
                    f"1. The portal emulator serves {fixtures / 'night1'}\n"
                    f"   at {emulator.base_url}, with HubSpot's paths, shapes and rate limit.",
                    file=out,
                )
                first = take_snapshot(store, portal, client)
                print(
                    f"2. Snapshot #{first.id}: {first.item_count} config items in "
                    f"{client.api_calls} API calls: {_by_kind(first)}.",
                    file=out,
                )
                _found, findings, _resolved = record_findings(store, portal_view(store, first), {})
                print(
                    f"   The architecture policies find {len(findings)} breaches already there "
                    "(duplicates, naming, workflows left off…).",
                    file=out,
                )
                baseline = approve_baseline(
                    store,
                    PORTAL,
                    first,
                    "Governance council (demo)",
                    "Architecture as signed off at the Q4 review",
                )
                print(
                    f"3. Baseline v{baseline.version} approved by {baseline.approved_by}.", file=out
                )
                emulator.load(fixtures / "night2")
                print(
                    f"4. Overnight, portal users changed a few things ({fixtures / 'DRIFT.txt'}"
                    "),\n   among HubSpot's own noise: reordered lists, new timestamps, "
                    "omitted flags.",
                    file=out,
                )
                result = _recorded_audit(store, portal, client, database)
                print(
                    f"5. The nightly audit: snapshot #{result.snapshot.id} against baseline "
                    f"v{baseline.version}.\n",
                    file=out,
                )
            finally:
                client.close()
    finally:
        engine.dispose()
    text_report = render(result, "text")
    (workdir / "report.txt").write_text(text_report, encoding="utf-8")
    for fmt in ("json", "md", "html"):
        (workdir / f"report.{fmt}").write_text(render(result, fmt), encoding="utf-8")
    config = workdir / "hubaudit.toml"
    config.write_text(
        "# Written by `hubaudit demo`. The emulator is gone once the demo ends, so use this\n"
        "# config for the commands that read the database (defects, findings, impact).\n"
        "[database]\n"
        'url = "sqlite:///hubaudit.db"\n\n'
        "[[portals]]\n"
        f'name = "{PORTAL}"\n'
        f'base_url = "{portal.base_url}"\n'
        f'token_env = "{TOKEN_ENV}"\n',
        encoding="utf-8",
    )
    out.write(text_report)
    print(
        f"\nFiles: database {database}\n"
        f"       reports {workdir / 'report.txt'}, report.html, report.md and report.json\n"
        f"       config {config}\n"
        f"Next:  {command} --config {config} defects list --portal {PORTAL}\n"
        f"       {command} --config {config} impact property:contacts:lifecyclestage "
        f"--portal {PORTAL}\n"
        f"       {command} --config {config} findings list --portal {PORTAL}\n"
        f"       {command} --config {config} report --portal {PORTAL} --format html "
        f"--output report.html\n"
        f"       {command} --config {config} diff --portal {PORTAL} baseline latest\n"
        f"       {command} --config {config} history pipeline:deals:default --portal {PORTAL}",
        file=out,
    )
    return result


DEMO_USERS = (("rita", "revops"), ("carl", "council"), ("vera", "viewer"), ("ada", "admin"))
"""``demo --serve``: one person of each role."""


def demo_people(store: Store) -> list[tuple[str, str, str]]:
    """One demo user of each role with a fresh random password: (name, role, password)."""
    import secrets

    from hubaudit.model.users import Role
    from hubaudit.services.users import add_user

    made = []
    for name, role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        add_user(store, name, Role(role), password, name.capitalize())
        made.append((name, role, password))
    return made
