"""Benchmark: the wall time of the read commands on a year-old database, beside Python's own start.

    .venv/bin/python bench/read_commands.py [--runs 7] [--nights 365] [--cache DIR] [--rebuild]
        [--compare-src DIR] [--config-load]

Builds (once; reused from ``--cache``, default ``~/.cache/hubaudit-bench/read-commands``) a
SQLite database holding a year of nightly snapshots of the demo portal (``fixtures/demo``,
about 480 config items): the portal is read once from the emulator, then stored night after
night through the store's API, dated a year ago to yesterday, with a few properties relabelled,
redescribed or given a new option each night; baseline v1 is the first night. Then one real
``hubaudit audit`` (a subprocess, against the emulator serving the demo's second night) records
tonight's run with its defects and its stored report, as the nightly job would.

Then times each read command as a subprocess, ``--runs`` times, and prints the median wall time
beside ``python3 -c pass`` and ``python3 -c "import click"`` measured in the same run (same
interpreter, interleaved), with each command's ratio to ``python3 -c pass``; and beside click
with ``sqlalchemy`` and with ``sqlalchemy.orm``: the floor of a read path on SQLAlchemy Core, and
on its ORM. With
``--compare-src DIR`` (the ``src`` folder of another checkout, e.g. a worktree of an older
commit) each hubaudit command is timed with that code too, in the same rounds. With
``--config-load`` the config read alone is timed too (``read_essentials``, what the read
commands read, and ``load_config``, the whole file), beside the modules every read command
imports anyway. Nothing is asserted:
the figures are for the README ("Speed") and for a person comparing branches.

Goal (issue 15/20): ``history``, ``show``, ``defects list`` and ``report`` well under 0.5 s.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PORTAL = "demo"
TOKEN_ENV = "HUBAUDIT_BENCH_TOKEN"
RATE_LIMIT = 190
BUILT_MARK = "built.txt"
GOAL_SECONDS = 0.5
COMPARED = "compared"


def build(folder: Path, nights: int, seed: int = 15) -> None:
    """The year-old database and its config in ``folder`` (wiped first)."""
    from hubaudit.analysis.canonical import make_item
    from hubaudit.config import PortalConfig, Secret
    from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
    from hubaudit.hubspot.client import connect
    from hubaudit.hubspot.collectors import DEFAULT_COLLECTORS, collect_portal
    from hubaudit.logs import configure_logging
    from hubaudit.model.items import ConfigItem, Kind
    from hubaudit.services.audit_run import approve_baseline
    from hubaudit.shipped import demo_fixtures_dir
    from hubaudit.store.engine import make_engine, upgrade
    from hubaudit.store.repository import Store

    configure_logging("console", "warning")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    database = folder / "hubaudit.db"
    rng = random.Random(seed)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    store = Store(engine)
    fixtures = demo_fixtures_dir()
    with PortalEmulator(
        fixtures / "night1", token=DEMO_TOKEN, rate_limit_per_10s=RATE_LIMIT
    ) as emulator:
        portal = PortalConfig(
            name=PORTAL,
            base_url=emulator.base_url,
            token_env=TOKEN_ENV,
            rate_limit_per_10s=RATE_LIMIT,
        )
        client = connect(portal, Secret(DEMO_TOKEN), None)
        try:
            items, coverage = collect_portal(client, portal, DEFAULT_COLLECTORS)
        finally:
            client.close()
    tonight = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    current: dict[str, ConfigItem] = {item.key: item for item in items}
    properties = sorted(k for k, i in current.items() if i.kind is Kind.PROPERTY)
    first = None
    for night in range(nights, 0, -1):
        taken_at = tonight - timedelta(days=night)
        if first is not None:
            for key in rng.sample(properties, rng.choice((0, 1, 1, 2, 3))):
                current[key] = _drifted(current[key], rng, night, make_item)
        snapshot = store.save_snapshot(PORTAL, taken_at, coverage, current.values())
        if first is None:
            first = snapshot
            approved_at = taken_at + timedelta(hours=1)
            approve_baseline(
                store,
                PORTAL,
                snapshot,
                "Bench council",
                "the first night",
                lambda at=approved_at: at,  # type: ignore[misc]
            )
    engine.dispose()

    with PortalEmulator(
        fixtures / "night2", token=DEMO_TOKEN, rate_limit_per_10s=RATE_LIMIT
    ) as emulator:
        (folder / "hubaudit.toml").write_text(
            "# Written by bench/read_commands.py: a year of nights of the demo portal.\n"
            f'[database]\nurl = "sqlite:///{database}"\n\n'
            f'[[portals]]\nname = "{PORTAL}"\nbase_url = "{emulator.base_url}"\n'
            f'token_env = "{TOKEN_ENV}"\nrate_limit_per_10s = {RATE_LIMIT}\n',
            encoding="utf-8",
        )
        audit = subprocess.run(
            [*hubaudit(), "--config", str(folder / "hubaudit.toml"), "audit", "--portal", PORTAL],
            env={**os.environ, TOKEN_ENV: DEMO_TOKEN},
            capture_output=True,
            text=True,
            check=False,
        )
    if audit.returncode not in (0, 2):
        raise SystemExit(f"the bench's audit failed ({audit.returncode}):\n{audit.stderr}")
    (folder / BUILT_MARK).write_text(f"nights={nights} seed={seed}\n", encoding="utf-8")


def _drifted(item: Any, rng: random.Random, night: int, make_item: Any) -> Any:
    canonical = dict(item.canonical)
    what = rng.choice(("label", "description", "option"))
    if what == "option" and isinstance(canonical.get("options"), dict) and canonical["options"]:
        options = dict(canonical["options"])
        options[f"bench_{night}"] = {
            "label": f"Bench {night}",
            "displayOrder": len(options),
            "hidden": False,
            "description": "",
        }
        canonical["options"] = options
    elif what == "label":
        canonical["label"] = f"{canonical.get('label', '')} ({night})"
    else:
        canonical["description"] = f"Edited {night} nights ago."
    raw = {**item.raw, **{k: v for k, v in canonical.items() if k in item.raw}}
    return replace(make_item(item.kind, item.key, raw, canonical, item.label))


def hubaudit() -> list[str]:
    return [sys.executable, "-m", "hubaudit"]


def commands(config: str) -> list[tuple[str, list[str]]]:
    """The commands timed, spelled as every version of hubaudit since the read commands were
    first measured accepts them (``--portal`` given)."""
    base = [*hubaudit(), "--config", config]
    portal = ["--portal", PORTAL]
    return [
        ("hubaudit --help", [*base, "--help"]),
        ("history", [*base, "history", "pipeline:deals:default", *portal]),
        ("show", [*base, "show", "pipeline:deals:default", *portal]),
        ("defects list", [*base, "defects", "list", *portal]),
        ("report", [*base, "report", *portal]),
        ("report --format html", [*base, "report", "--format", "html", *portal]),
        ("diff baseline latest", [*base, "diff", "baseline", "latest", *portal]),
        ("impact", [*base, "impact", "property:contacts:lifecyclestage", *portal]),
    ]


FLOORS = [
    ("python3 -c pass", [sys.executable, "-c", "pass"]),
    ('python3 -c "import click"', [sys.executable, "-c", "import click"]),
    # what any read command on SQLAlchemy pays before its own work, and the ORM's share of it
    ('python3 -c "import click, sqlalchemy"', [sys.executable, "-c", "import click, sqlalchemy"]),
    (
        'python3 -c "import click, sqlalchemy.orm"',
        [sys.executable, "-c", "import click, sqlalchemy.orm"],
    ),
]

Row = tuple[str, list[str], dict[str, str]]

_BEFORE_CONFIG = (
    "import tomllib, hubaudit.model, hubaudit.policies.catalog; from pathlib import Path"
)
"""What every read command imports anyway, loaded before the config in ``--config-load``."""


def config_loads(config: str) -> list[tuple[str, list[str]]]:
    """``--config-load``: the config read alone in a fresh interpreter, beside the same
    interpreter with only the modules every read command imports anyway."""
    path = f"Path({config!r})"
    return [
        ("config: model imports only", [sys.executable, "-c", _BEFORE_CONFIG]),
        (
            "config: + read_essentials",
            [
                sys.executable,
                "-c",
                f"{_BEFORE_CONFIG}; from hubaudit.config.essentials import read_essentials; "
                f"read_essentials({path})",
            ],
        ),
        (
            "config: + load_config",
            [
                sys.executable,
                "-c",
                f"{_BEFORE_CONFIG}; from hubaudit.config import load_config; load_config({path})",
            ],
        ),
    ]


def measure(
    rows: Sequence[Row], runs: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each command ``runs`` times, interleaved (one round runs every command once), so that
    a busy machine slows all of them alike: wall times, and CPU times (user + system) of the
    command's process, which a busy machine inflates much less."""
    times: dict[str, list[float]] = {name: [] for name, _, _ in rows}
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in rows}
    for _ in range(runs):
        for name, argv, env in rows:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, check=False, env=env)
            times[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if done.returncode not in (0, 2):
                raise SystemExit(
                    f"{name} failed ({done.returncode}): {done.stderr.decode()[-2000:]}"
                )
    return times, cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (default 7)")
    parser.add_argument("--nights", type=int, default=365, help="nights stored (default 365)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "hubaudit-bench" / "read-commands",
        help="where the database is built and kept between runs",
    )
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument(
        "--compare-src",
        type=Path,
        metavar="DIR",
        help="also time each command with the hubaudit package under DIR (another checkout's src)",
    )
    parser.add_argument(
        "--config-load",
        action="store_true",
        help="also time the config read alone: the essentials and the whole file",
    )
    args = parser.parse_args(argv)
    folder: Path = args.cache
    mark = folder / BUILT_MARK
    if args.rebuild or not mark.exists() or f"nights={args.nights} " not in mark.read_text():
        started = time.perf_counter()
        print(f"building a database of {args.nights} nights in {folder} …", flush=True)
        build(folder, args.nights)
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    size = (folder / "hubaudit.db").stat().st_size
    print(f"database: {folder / 'hubaudit.db'} ({size / 1e6:.1f} MB, {args.nights} nights)")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # As installed: pip compiles a package's modules to bytecode when it installs them, so a
    # command imports them compiled. This checkout's (and the compared one's) are compiled
    # here too: where PYTHONDONTWRITEBYTECODE is set (as on the development machines), no
    # command would ever write them, and each run would compile every module again.
    import hubaudit

    for tree in filter(None, [Path(hubaudit.__file__).parent, args.compare_src]):
        compileall.compile_dir(str(tree), quiet=1)
    rows: list[Row] = [(name, argv, env) for name, argv in FLOORS]
    listed = commands(str(folder / "hubaudit.toml"))
    rows += [(name, argv, env) for name, argv in listed]
    loads = config_loads(str(folder / "hubaudit.toml")) if args.config_load else []
    rows += [(name, argv, env) for name, argv in loads]
    if args.compare_src is not None:
        other = {**env, "PYTHONPATH": str(args.compare_src.resolve())}
        rows += [(f"{name} [{COMPARED}]", argv, other) for name, argv in listed]
        rows += [(f"{name} [{COMPARED}]", argv, other) for name, argv in loads[::2]]
    times, cpu = measure(rows, args.runs)
    floor = statistics.median(times["python3 -c pass"])
    print(f"\nmedian wall of {args.runs} runs (this machine, now)")
    if args.compare_src is not None:
        print(f"[{COMPARED}]: the hubaudit under {args.compare_src}")
    print(f"{'command':<34} {'median':>8} {'min':>8}  {'x python3 -c pass':>18} {'cpu':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"{name:<34} {median:>7.3f}s {min(values):>7.3f}s  {median / floor:>17.1f}x "
            f"{statistics.median(cpu[name]):>7.3f}s"
        )
    print(f"\ngoal: history, show, defects list and report under {GOAL_SECONDS} s wall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
