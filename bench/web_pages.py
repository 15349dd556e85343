"""Benchmark: the web app's page times on a portal with thousands of defects and log entries.

    .venv/bin/python bench/web_pages.py [--defects 5000] [--log 5000] [--runs 15] [--database URL]

Builds a database the way the tests do (the demo portal's night 1 approved as v1, night 2
audited through the real CLI against the emulator: about 480 items and two dozen real
defects), then copies those defects, each under a new key and fingerprint, up to ``--defects``,
and adds ``--log`` governance-log entries, so the defect list (triage order, filters, pages),
a defect, the baseline pages and the log have a large portal's volume to go through. Then the
app is served over loopback (uvicorn in a thread, as ``hubaudit serve`` runs it) and every page
is fetched ``--runs`` times by a signed-in council member; it prints each page's median and
worst time beside ``/healthz`` (the framework's floor) measured in the same rounds, and each
page's ratio to it. Nothing is asserted.

Goal (issue 17): every page well under 300 ms server time at 5,000 defects. Not measured here:
20,000 items and a year of nights (the demo portal has ~480 items and two nights).
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


def build(folder: Path, url: str, defects: int, log_entries: int) -> None:
    import os
    import shutil

    import sqlalchemy as sa

    from hubaudit.cli import main
    from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
    from hubaudit.logs import configure_logging
    from hubaudit.model.users import Role
    from hubaudit.services.users import add_user
    from hubaudit.store.engine import make_engine
    from hubaudit.store.repository import Store
    from hubaudit.store.tables import DefectRow, GovernanceLogRow

    nights = folder / "portal"
    for night in ("night1", "night2"):
        shutil.copytree(REPO / "fixtures" / "demo" / night, nights / night)
    os.environ["HUBAUDIT_BENCH_TOKEN"] = DEMO_TOKEN
    with PortalEmulator(nights / "night1", token=DEMO_TOKEN, rate_limit_per_10s=5000) as emulator:
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
        run("snapshot")
        run("baseline", "approve", "--from-snapshot", "latest", "--by", "Ada", "--note", "v1")
        emulator.load(nights / "night2")
        run("audit")
    configure_logging("console", "warning")
    engine = make_engine(url)
    store = Store(engine)
    add_user(store, "carl", Role.COUNCIL, PASSWORD)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defects", type=int, default=5000)
    parser.add_argument("--log", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database", help="a database URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    import httpx

    from hubaudit.config import load_config
    from hubaudit.store.engine import make_engine
    from hubaudit.store.repository import Store
    from hubaudit.web.server import BackgroundServer, build_app

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database or f"sqlite:///{folder / 'bench.db'}"
        started = time.perf_counter()
        build(folder, url, args.defects, args.log)
        print(f"built in {time.perf_counter() - started:.1f} s: {args.defects} defects, "
              f"{args.log} extra log entries ({url.split(':')[0]})")  # fmt: skip
        import os

        os.environ["HUBAUDIT_BENCH_SECRET"] = SECRET
        config = load_config(folder / "hubaudit.toml")
        store = Store(make_engine(url))
        pages = [
            "/healthz",
            "/",
            "/portals/demo/defects",
            "/portals/demo/defects?all=1&page=40",
            "/portals/demo/defects?severity=high&q=deal",
            "/portals/demo/defects/1",
            "/portals/demo/baselines",
            "/portals/demo/baselines/1",
            "/portals/demo/crs",
            "/portals/demo/log",
            "/portals/demo/log?q=rita&page=3",
            "/portals/demo/runs",
        ]
        times: dict[str, list[float]] = {page: [] for page in pages}
        with (
            BackgroundServer(build_app(config, store, SECRET)) as server,
            httpx.Client(base_url=server.url, timeout=60) as client,
        ):
            login = client.get("/login").text
            token = login.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            signed = client.post(
                "/login", data={"username": "carl", "password": PASSWORD, "csrf": token}
            )
            assert signed.status_code == 303
            for _ in range(args.runs):
                for page in pages:  # interleaved: load affects every page alike
                    before = time.perf_counter()
                    response = client.get(page)
                    times[page].append(time.perf_counter() - before)
                    assert response.status_code == 200, (page, response.status_code)
        store.engine.dispose()
    floor = statistics.median(times["/healthz"])
    print(f"{'page':<44} {'median':>9} {'worst':>9} {'x healthz':>11}")
    for page in pages:
        median = statistics.median(times[page])
        print(f"{page:<44} {median * 1000:>7.1f}ms {max(times[page]) * 1000:>7.1f}ms "
              f"{median / floor:>10.1f}x")  # fmt: skip
    slowest = max(pages, key=lambda p: statistics.median(times[p]))
    print(f"slowest: {slowest}, {statistics.median(times[slowest]) * 1000:.0f} ms "
          "(goal: well under 300 ms)")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
