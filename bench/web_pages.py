"""Benchmark: the web app's page times on a large portal: many items, defects, log entries
and a year of nights.

    .venv/bin/python bench/web_pages.py [--items 20000] [--nights 365] [--defects 5000]
        [--log 5000] [--runs 15] [--database URL] [--keep DIR] [--compare-src DIR]

Builds a database the way the nightly job fills one: the demo portal (``fixtures/demo``),
padded with copies of a custom property up to ``--items`` config items in both its nights, is
read once from the emulator and stored night after night through the store's API, dated
``--nights`` nights ago to yesterday, with a few properties drifting each night (as
``bench/read_commands.py`` builds its year); the first night is approved as v1. Then night 2
is audited through the real CLI against the emulator (a run, its report and real defects),
two defects are accepted (a proposed v2, for the side-by-side diff), those defects are copied,
each under a new key and fingerprint, up to ``--defects``, and ``--log`` governance-log entries
are added. ``--nights 0``: the CLI's own snapshot of night 1 is v1 instead (two nights only).
``--keep DIR`` builds in DIR and keeps it; run again with the same sizes, it reuses it.

Then the app is served over loopback (uvicorn in a thread of a child process, as ``hubaudit
serve`` runs it) and every page is fetched ``--runs`` times by a signed-in council member,
after one round that is not counted; it prints each page's median and worst wall time and its
median CPU time (the serving process's, which a busy machine inflates much less than wall)
beside ``/healthz`` (the framework's floor) measured in the same rounds, and each page's ratio
to it. ``--compare-src DIR`` serves the same database with the hubaudit under DIR too (another
checkout's ``src``), in alternated halves of the runs, and prints its medians and its ratio to
this checkout's. Nothing is asserted.

Goal (issue 17): every page well under 300 ms server time at 20,000 items, 5,000 defects and a
year of nights. Measured: README, "Speed" of the web app.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-" + "x" * 32
PASSWORD = "correct horse battery"


def pad(portal: Path, items: int, model: dict[str, object]) -> int:
    """Add copies of ``model`` (a custom property) to the portal folder's property files until
    the portal holds about ``items`` config items; how many were added."""
    files = sorted((portal / "properties").glob("*.json"))
    lists = {path: json.loads(path.read_text()) for path in files}
    held = sum(len(v) for v in lists.values()) + 134  # the demo's pipelines, groups, flows, …
    wanted = max(0, items - held)
    for serial in range(wanted):
        path = files[serial % len(files)]
        lists[path].append(
            {
                **model,
                "name": f"bench_pad_{serial}",
                "label": f"Bench field {serial}",
                "hubspotDefined": False,
                "description": "" if serial % 3 else f"Bench field number {serial}.",
            }
        )
    for path, properties in lists.items():
        path.write_text(json.dumps(properties))
    return wanted


def year_of_nights(url: str, base_url: str, nights: int, seed: int = 17) -> int:
    """``nights`` nightly snapshots of the portal the emulator at ``base_url`` serves, a few
    properties drifting each night, the first approved as v1; the items of a night."""
    import random
    from datetime import UTC, datetime, timedelta

    from hubaudit.config import PortalConfig, Secret
    from hubaudit.emulator import DEMO_TOKEN
    from hubaudit.hubspot.client import connect
    from hubaudit.hubspot.collectors import DEFAULT_COLLECTORS, collect_portal
    from hubaudit.model.items import Kind
    from hubaudit.services.audit_run import approve_baseline
    from hubaudit.store.engine import make_engine
    from hubaudit.store.repository import Store

    sys.path.insert(0, str(REPO / "bench"))
    from read_commands import _drifted

    from hubaudit.analysis.canonical import make_item

    portal = PortalConfig(
        name="demo", base_url=base_url, token_env="HUBAUDIT_BENCH_TOKEN", rate_limit_per_10s=5000
    )
    client = connect(portal, Secret(DEMO_TOKEN), None)
    try:
        items, coverage = collect_portal(client, portal, DEFAULT_COLLECTORS)
    finally:
        client.close()
    rng = random.Random(seed)
    engine = make_engine(url)
    store = Store(engine)
    tonight = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    current = {item.key: item for item in items}
    properties = sorted(k for k, i in current.items() if i.kind is Kind.PROPERTY)
    for night in range(nights, 0, -1):
        taken_at = tonight - timedelta(days=night)
        if night != nights:
            for key in rng.sample(properties, rng.choice((0, 1, 2, 3, 5))):
                current[key] = _drifted(current[key], rng, night, make_item)
        snapshot = store.save_snapshot("demo", taken_at, coverage, current.values())
        if night == nights:
            approved_at = taken_at + timedelta(hours=1)
            approve_baseline(
                store,
                "demo",
                snapshot,
                "Bench council",
                "the first night",
                lambda at=approved_at: at,  # type: ignore[misc]
            )
    engine.dispose()
    return len(current)


def build(folder: Path, url: str, items: int, nights: int, defects: int, log_entries: int) -> int:
    import os
    import shutil

    import sqlalchemy as sa

    from hubaudit.cli import main
    from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
    from hubaudit.logs import configure_logging
    from hubaudit.model.users import Role
    from hubaudit.services.actor import Actor
    from hubaudit.services.triage import DefectQuery, accept_defects, list_defects
    from hubaudit.services.users import add_user
    from hubaudit.store.engine import make_engine
    from hubaudit.store.repository import Store
    from hubaudit.store.tables import DefectRow, GovernanceLogRow

    configure_logging("console", "warning")
    nights_dir = folder / "portal"
    deals = json.loads((REPO / "fixtures/demo/night1/properties/deals.json").read_text())
    model = next(p for p in deals if p.get("options"))  # the same in both nights: no drift
    for night in ("night1", "night2"):
        shutil.copytree(REPO / "fixtures" / "demo" / night, nights_dir / night)
        pad(nights_dir / night, items, model)
    held = 0
    os.environ["HUBAUDIT_BENCH_TOKEN"] = DEMO_TOKEN
    with PortalEmulator(
        nights_dir / "night1", token=DEMO_TOKEN, rate_limit_per_10s=5000
    ) as emulator:
        config = folder / "hubaudit.toml"
        config.write_text(
            f'[database]\nurl = "{url}"\n[logging]\nlevel = "warning"\n'
            '[web]\nsecret_key_env = "HUBAUDIT_BENCH_SECRET"\n'
            f'[[portals]]\nname = "demo"\nbase_url = "{emulator.base_url}"\n'
            'token_env = "HUBAUDIT_BENCH_TOKEN"\nrate_limit_per_10s = 5000\n',
            encoding="utf-8",
        )

        def run(*args: str) -> None:
            code = main(["--config", str(config), *args], out=io.StringIO())
            assert code in (0, 2), args

        run("db", "upgrade")
        if nights > 0:
            held = year_of_nights(url, emulator.base_url, nights)
        else:
            run("snapshot")
            run("baseline", "approve", "--from-snapshot", "latest", "--by", "Ada", "--note", "v1")
        emulator.load(nights_dir / "night2")
        run("audit")
    configure_logging("console", "warning")
    engine = make_engine(url)
    store = Store(engine)
    add_user(store, "carl", Role.COUNCIL, PASSWORD)
    real_ids = [d.id for d in list_defects(store, "demo", DefectQuery())]
    accept_defects(store, "demo", real_ids[:2], Actor("Rita"), "bench: a proposed v2")
    table = DefectRow.__table__
    log_table = GovernanceLogRow.__table__
    with engine.begin() as connection:
        real = [dict(r._mapping) for r in connection.execute(sa.select(table))]
        rows = []
        for serial in range(max(0, defects - len(real))):
            row = dict(real[serial % len(real)])
            row.pop("id")
            row["fingerprint"] = f"bench{serial:059d}"
            row["key"] = f"{row['key']}_copy{serial}"
            row["status"] = ("open", "acknowledged", "resolved", "waived")[serial % 4]
            rows.append(row)
        for start in range(0, len(rows), 500):
            connection.execute(sa.insert(table), rows[start : start + 500])
        entry = dict(next(iter(connection.execute(sa.select(log_table))))._mapping)
        entry.pop("id")
        entries = []
        for serial in range(log_entries):
            entries.append(
                {
                    **entry,
                    "actor": ("rita", "carl", "ada")[serial % 3],
                    "action": "defects.acknowledged",
                    "subject": f"defect #{serial}",
                    "note": f"bench note {serial}",
                    "detail_json": json.dumps({"defects": [serial]}),
                }
            )
        for start in range(0, len(entries), 500):
            connection.execute(sa.insert(log_table), entries[start : start + 500])
    engine.dispose()
    return held


PAGES = [
    "/healthz",
    "/",
    "/health",
    "/portals/demo/dashboard",
    "/portals/demo/dashboard?weeks=52",
    "/portals/demo/defects",
    "/portals/demo/defects?all=1&page=40",
    "/portals/demo/defects?severity=high&q=deal",
    "/portals/demo/defects/1",
    "/portals/demo/baselines",
    "/portals/demo/baselines/1",
    "/portals/demo/baselines/2",
    "/portals/demo/baselines/diff?from=1&to=2",
    "/portals/demo/crs",
    "/portals/demo/log",
    "/portals/demo/log?q=rita&page=3",
    "/portals/demo/runs",
    "/portals/demo/runs/1",  # the audited night's report as the triage page
    "/portals/demo/runs/1?severity=critical&severity=high&q=deal",
]
Times = dict[str, list[tuple[float, float]]]


def serve_and_time(folder: Path, url: str, runs: int) -> Times:
    """Serve the built database (uvicorn in a thread, as ``hubaudit serve`` runs it) and fetch
    every page ``runs`` times as a signed-in council member, after one round that is not
    counted (a process's first read of a page); (wall, CPU of this process) of each fetch."""
    import os

    import httpx

    from hubaudit.config import load_config
    from hubaudit.store.engine import make_engine
    from hubaudit.store.repository import Store
    from hubaudit.web.server import BackgroundServer, build_app

    os.environ["HUBAUDIT_BENCH_SECRET"] = SECRET
    config = load_config(folder / "hubaudit.toml")
    store = Store(make_engine(url))
    times: Times = {page: [] for page in PAGES}
    with (
        BackgroundServer(build_app(config, store, SECRET)) as server,
        httpx.Client(base_url=server.url, timeout=120) as client,
    ):
        login = client.get("/login").text
        token = login.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        signed = client.post(
            "/login", data={"username": "carl", "password": PASSWORD, "csrf": token}
        )
        assert signed.status_code == 303
        for round_ in range(runs + 1):
            for page in PAGES:  # interleaved: load affects every page alike
                cpu, wall = time.process_time(), time.perf_counter()
                response = client.get(page)
                took = (time.perf_counter() - wall, time.process_time() - cpu)
                assert response.status_code == 200, (page, response.status_code)
                if round_:
                    times[page].append(took)
    store.engine.dispose()
    return times


def timed_by(src: Path, folder: Path, url: str, runs: int) -> Times:
    """:func:`serve_and_time` in a child process running the hubaudit under ``src``."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    argv = [sys.executable, __file__, "--serve-only", str(folder), "--database", url]
    done = subprocess.run(
        [*argv, "--runs", str(runs)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"serving with {src} failed: {done.stderr[-2000:]}")
    found: Times = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20000, help="config items (about)")
    parser.add_argument("--nights", type=int, default=365, help="nights stored (0: two)")
    parser.add_argument("--defects", type=int, default=5000)
    parser.add_argument("--log", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database", help="a database URL (default: a SQLite file in the folder)")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="build in DIR and keep it; reuse it if built"
    )
    parser.add_argument(
        "--compare-src",
        type=Path,
        metavar="DIR",
        help="also serve the same database with the hubaudit under DIR (another checkout's src)",
    )
    parser.add_argument("--serve-only", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve_only is not None:  # the child of timed_by: times as JSON
        url = args.database or f"sqlite:///{args.serve_only / 'bench.db'}"
        print(json.dumps(serve_and_time(args.serve_only, url, args.runs)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = args.database or f"sqlite:///{folder / 'bench.db'}"
        shape = (
            f"{args.items} items, {args.nights} nights, {args.defects} defects, "
            f"{args.log} extra log entries ({url.split(':')[0]})"
        )
        mark = folder / "built.txt"
        if mark.exists() and mark.read_text() == shape:
            print(f"reused {folder}: {shape}")
        else:
            started = time.perf_counter()
            held = build(folder, url, args.items, args.nights, args.defects, args.log)
            mark.write_text(shape)
            print(f"built in {time.perf_counter() - started:.1f} s: {held} items a night; {shape}")
        sources = {"this": REPO / "src"}
        if args.compare_src is not None:
            sources["compared"] = args.compare_src
        times: dict[str, Times] = {name: {p: [] for p in PAGES} for name in sources}
        # halves alternated (this, compared, this, compared): load affects both alike
        for half in (args.runs - args.runs // 2, args.runs // 2):
            for name, src in sources.items():
                for page, found in timed_by(src, folder, url, half).items():
                    times[name][page] += found
    if args.compare_src is not None:
        print(f"compared: the hubaudit under {args.compare_src}")
    floor = statistics.median(wall for wall, _cpu in times["this"]["/healthz"])
    header = f"{'page':<44} {'median':>9} {'worst':>9} {'cpu':>8} {'x healthz':>10}"
    print(header + ("   compared: median    cpu  ratio" if args.compare_src else ""))
    for page in PAGES:
        wall = statistics.median(w for w, _c in times["this"][page])
        cpu = statistics.median(c for _w, c in times["this"][page])
        worst = max(w for w, _c in times["this"][page])
        line = (f"{page:<44} {wall * 1000:>7.1f}ms {worst * 1000:>7.1f}ms "
                f"{cpu * 1000:>6.1f}ms {wall / floor:>9.1f}x")  # fmt: skip
        if args.compare_src is not None:
            other = statistics.median(w for w, _c in times["compared"][page])
            other_cpu = statistics.median(c for _w, c in times["compared"][page])
            line += f"   {other * 1000:>9.1f}ms {other_cpu * 1000:>6.1f}ms {other / wall:>5.1f}x"
        print(line)
    slowest = max(PAGES, key=lambda p: statistics.median(w for w, _c in times["this"][p]))
    worst_median = statistics.median(w for w, _c in times["this"][slowest])
    print(f"slowest: {slowest}, {worst_median * 1000:.0f} ms (goal: well under 300 ms)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
