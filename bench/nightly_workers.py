"""Benchmark: the nightly job's scale-out, N portals audited by 1 worker process and by 2.

    .venv/bin/python bench/nightly_workers.py [--portals 100] [--properties 2000] [--workers 2]
                                              [--parallel 40] [--rate 100] [--latency 0.08]
                                              [--database URL] [--quick]

Emulates N portals (the demo portal, ``fixtures/demo``, grown to ``--properties`` properties
by copies of its own properties that are the same both nights), each with its own HubSpot-like
ten-secondly limit, all served by one helper process (this script, started again with a hidden
option) so that the workers do not share a process with the emulators. In a fresh schema of the
Postgres database at ``--database`` (dropped at the end):

1. baselines: every portal is snapshotted from night1 and approved, against a first helper
   process that answers without a limit or latency (it is not measured);
2. a second helper serves night2 (28 changes a portal) at ``--rate`` per 10 s and ``--latency``;
   round A queues one run per portal and starts 1 ``hubaudit worker --exit-when-idle`` process;
   round B (after the emulators' ten-second windows have emptied) queues the next round and
   starts ``--workers`` of them. Every worker audits up to ``--parallel`` portals at a time
   (``[schedule] parallel_portals``).

Prints, per round: wall time from starting the workers until the last one exited, and per
portal; the span of the runs themselves (first claim to last finish, from the run records);
runs per worker, worker exit codes and stderr, API calls, 429s (seen by the clients, and
answered by the emulators), changes found; mean and slowest run duration; a portal's API calls
divided by its limit per second, and the rate-limit lower bound proper: the same with only the
calls the limit applies to (the emulator exempts association labels and limits, as HubSpot
does), which no run can beat; no round can beat its slowest portal's bound, nor all portals'
bounds shared over the round's slots. Then CPU seconds of the workers, of the emulator process
and of Postgres, and how busy the machine's cores were; last, the speed-up of K workers over 1.
The machine may have few cores, which the emulator process and Postgres share with the workers:
the CPU lines say whether the cores were the limit.

Round B audits the same night2 as round A, so its snapshots add no new payloads; the workers'
other work (reading, comparing, storing a snapshot's rows) is the same. No target is asserted:
the script verifies only that every portal has exactly one succeeded run per round.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hubaudit.config import PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.logs import configure_logging
from hubaudit.model.runs import RunRecord, RunStatus
from hubaudit.services.audit_run import approve_baseline, open_client, take_snapshot
from hubaudit.store.engine import make_engine, upgrade
from hubaudit.store.repository import Store
from hubaudit.store.runs import RunStore

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOKEN_ENV = "HUBAUDIT_BENCH_TOKEN"
FAST_LIMIT = 5000  # the baseline pass: the emulators and the clients at a high limit
WINDOW_SECONDS = 10.0  # the emulators' rate-limit window
EXPECTED_CHANGES = 27  # night1 -> night2 of the demo portal (what `hubaudit demo` finds)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# the emulator helper (a separate process) -------------------------------------------------------


def serve_emulators(folder: Path, count: int, rate: int, latency: float) -> None:
    """The helper's side: serve ``count`` emulators of ``folder``, print their base URLs as one
    JSON line, then answer each ``stats`` line on stdin with one JSON line of their counters;
    stop at the end of stdin."""
    from hubaudit.emulator.portal import is_exempt

    with ExitStack() as stack:
        emulators = [
            stack.enter_context(
                PortalEmulator(
                    folder, rate_limit_per_10s=rate, latency_seconds=latency, cache_responses=True
                )
            )
            for _ in range(count)
        ]
        print(json.dumps([e.base_url for e in emulators]), flush=True)
        for _line in sys.stdin:
            stats = []
            for emulator in emulators:
                calls = dict(emulator.calls)
                paced = sum(n for call, n in calls.items() if not is_exempt(*call.split(" ", 1)))
                stats.append(
                    {
                        "served": emulator.requests_served,
                        "limited": emulator.requests_limited,
                        "paced": paced,
                    }
                )
            print(json.dumps(stats), flush=True)


class Emulators:
    """The benchmark's side: the helper process, its base URLs and its counters."""

    def __init__(self, folder: Path, count: int, rate: int, latency: float) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve-emulators",
                str(folder),
                "--portals",
                str(count),
                "--rate",
                str(rate),
                "--latency",
                str(latency),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        line = self.stdout.readline()
        if not line:
            self.stop()
            raise SystemExit(f"the emulator helper exited with {self.process.returncode}")
        self.base_urls: list[str] = json.loads(line)

    def stats(self) -> list[dict[str, int]]:
        self.stdin.write("stats\n")
        self.stdin.flush()
        stats: list[dict[str, int]] = json.loads(self.stdout.readline())
        return stats

    def cpu_seconds(self) -> float:
        """User + system CPU of the helper so far, from /proc."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def stop(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def emulators(folder: Path, count: int, rate: int, latency: float) -> Iterator[Emulators]:
    running = Emulators(folder, count, rate, latency)
    try:
        yield running
    finally:
        running.stop()


# the database -----------------------------------------------------------------------------------


@contextmanager
def fresh_schema(url: str) -> Iterator[tuple[str, str]]:
    """A URL of a new, empty Postgres schema (dropped at the end), and the schema's name."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("--database: PostgreSQL only (workers share their queue through it)")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'create schema "{schema}"'))
    except sa.exc.OperationalError as exc:
        raise SystemExit(
            f"PostgreSQL not reachable ({exc.orig}); start it with `pg_ctlcluster "
            "--skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        ) from exc
    try:
        scoped = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False), schema
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'drop schema "{schema}" cascade'))
        admin.dispose()


def portal_names(count: int) -> list[str]:
    return [f"p{i:03d}" for i in range(count)]


def approve_baselines(store: Store, names: list[str], base_urls: list[str]) -> None:
    """Snapshot each portal (night1, fast emulators) and approve it as its baseline."""

    def one(name: str, base_url: str) -> None:
        portal = PortalConfig(
            name=name, base_url=base_url, token_env=TOKEN_ENV, rate_limit_per_10s=FAST_LIMIT
        )
        client = open_client(portal, Secret(DEMO_TOKEN))
        try:
            snapshot = take_snapshot(store, portal, client)
        finally:
            client.close()
        approve_baseline(store, portal.name, snapshot, "Bench", "baseline")

    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(one, n, u) for n, u in zip(names, base_urls, strict=True)]:
            future.result()


def write_config(
    path: Path, url: str, names: list[str], base_urls: list[str], rate: int, parallel: int
) -> None:
    lines = [
        "[database]",
        f"url = {json.dumps(url)}",
        "[logging]",
        'level = "warning"',
        "[schedule]",
        f"parallel_portals = {parallel}",
        "lease_seconds = 300",
    ]
    for name, base_url in zip(names, base_urls, strict=True):
        lines += [
            "[[portals]]",
            f'name = "{name}"',
            f'base_url = "{base_url}"',
            f'token_env = "{TOKEN_ENV}"',
            f"rate_limit_per_10s = {rate}",
        ]
    path.write_text("\n".join(lines) + "\n")


# measuring --------------------------------------------------------------------------------------


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of all cores since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass
class Round:
    label: str
    workers: int
    wall: float
    records: list[RunRecord]
    ok: bool
    exit_codes: list[int]


def run_round(
    label: str,
    workers: int,
    round_time: datetime,
    names: list[str],
    runs: RunStore,
    helper: Emulators,
    config: Path,
    logs: Path,
    args: argparse.Namespace,
) -> Round:
    now = datetime.now(UTC)
    queued = [runs.enqueue(name, round_time, "schedule", now) for name in names]
    if any(q is None for q in queued):
        raise SystemExit(f"round {label}: a portal still has an open run; nothing measured")
    env = {k: v for k, v in os.environ.items() if k not in ("HUBAUDIT_DATABASE_URL",)}
    env[TOKEN_ENV] = DEMO_TOKEN
    before = Usage.now(helper)

    started = time.perf_counter()
    processes = []
    with ExitStack() as files:
        for k in range(workers):
            out = files.enter_context((logs / f"{label}-{k}.out").open("w"))
            err = files.enter_context((logs / f"{label}-{k}.err").open("w"))
            command = [sys.executable, "-m", "hubaudit", "--config", str(config), "worker"]
            processes.append(
                subprocess.Popen([*command, "--exit-when-idle"], env=env, stdout=out, stderr=err)
            )
        exit_codes = []
        for process in processes:
            try:
                exit_codes.append(process.wait(timeout=max(1.0, args.timeout - elapsed(started))))
            except subprocess.TimeoutExpired:
                process.kill()
                exit_codes.append(process.wait())
                print(f"  worker pid {process.pid}: killed after the --timeout of {args.timeout} s")
    wall = time.perf_counter() - started

    after = Usage.now(helper)
    records = [
        r for r in runs.runs(limit=len(names) * 4 + 50) if as_utc(r.scheduled_for) == round_time
    ]
    report = Report(label, workers, names, args)
    ok = report.runs(wall, records, processes, exit_codes, logs)
    report.bounds(wall, records, before, after)
    report.cpu(before, after)
    return Round(label, workers, wall, records, ok, exit_codes)


def span_of(round_: Round) -> float:
    """First claim to last finish of the round's runs."""
    started = [as_utc(r.started_at) for r in round_.records if r.started_at]
    finished = [as_utc(r.finished_at) for r in round_.records if r.finished_at]
    if not started or not finished:
        return float("nan")
    return (max(finished) - min(started)).total_seconds()


def elapsed(started: float) -> float:
    return time.perf_counter() - started


def show(label: str, value: str) -> None:
    print(f"  {label + ':' if label else '':<19} {value}")


@dataclass(frozen=True)
class Usage:
    """Counters read before and after a round."""

    workers: float  # CPU seconds of this script's finished children (the workers)
    emulators: float  # CPU seconds of the emulator process
    postgres: float  # CPU seconds of the Postgres server (its processes and finished backends)
    busy: float  # CPU seconds of all cores, busy
    total: float  # CPU seconds of all cores
    emulated: list[dict[str, int]]  # per emulator: served, limited, paced

    @classmethod
    def now(cls, helper: Emulators) -> Usage:
        busy, total = machine_busy()
        return cls(
            children_cpu(), helper.cpu_seconds(), postgres_cpu(), busy, total, helper.stats()
        )


def postgres_cpu() -> float:
    """CPU seconds of every process named postgres, plus the finished backends its postmaster
    has reaped. Counts every client of the server, not only this benchmark's."""
    seconds = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        seconds += sum(int(f) for f in fields[11:15]) / CLOCK_TICKS
    return seconds


class Report:
    """What one round prints."""

    def __init__(
        self, label: str, workers: int, names: list[str], args: argparse.Namespace
    ) -> None:
        self.label = label
        self.workers = workers
        self.names = names
        self.portals = len(names)
        self.args = args
        self.per_second = args.rate / WINDOW_SECONDS

    def runs(
        self,
        wall: float,
        records: list[RunRecord],
        processes: list[subprocess.Popen[bytes]],
        exit_codes: list[int],
        logs: Path,
    ) -> bool:
        """The round's time, and whether every portal has one succeeded run."""
        print(
            f"round {self.label}: {self.workers} worker process{'es' if self.workers > 1 else ''}"
            f" x {self.args.parallel} portals at a time, {self.portals} portals"
        )
        show(
            "total",
            f"{wall:.1f} s from starting the workers until the last exited; "
            f"{wall / self.portals:.2f} s a portal",
        )
        succeeded = [r for r in records if r.status is RunStatus.SUCCEEDED]
        per_portal = Counter(r.portal for r in succeeded)
        ok = (
            len(records) == self.portals
            and set(per_portal) == set(self.names)
            and all(n == 1 for n in per_portal.values())
        )
        statuses = Counter(r.status.value for r in records)
        show(
            "runs",
            f"{len(succeeded)} succeeded of {len(records)} "
            f"({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}); one succeeded run "
            f"per portal: {'yes' if ok else 'NO'}",
        )
        for error in sorted({r.error for r in records if r.error})[:5]:
            show("run error", error)
        pids = {p.pid: k + 1 for k, p in enumerate(processes)}
        parts = []
        for name, n in sorted(Counter(r.worker for r in records).items(), key=str):
            pid = worker_pid(name)
            parts.append(f"worker {pids.get(pid, '?')} (pid {pid}) {n}")
        show("runs per worker", "; ".join(parts) or "none")
        codes = Counter(exit_codes)
        show("worker exit codes", ", ".join(f"{c} x{n}" for c, n in sorted(codes.items())))
        quiet = True
        for k in range(len(processes)):
            err = (logs / f"{self.label}-{k}.err").read_text().strip()
            if err:
                quiet = False
                lines = err.splitlines()
                show(f"worker {k + 1} stderr", f"{len(lines)} lines; the first ones:")
                for line in lines[:8]:
                    print(f"      {line[:300]}")
        if quiet:
            show("worker stderr", "empty")
        return ok

    def bounds(self, wall: float, records: list[RunRecord], before: Usage, after: Usage) -> None:
        """Calls, 429s, run durations, and the rate-limit lower bounds."""
        finished = [
            r for r in records if r.status is RunStatus.SUCCEEDED and r.started_at and r.finished_at
        ]
        if not finished:
            return
        first = min(as_utc(r.started_at) for r in finished if r.started_at)
        last = max(as_utc(r.finished_at) for r in finished if r.finished_at)
        span = (last - first).total_seconds()
        show(
            "audit span",
            f"{span:.1f} s from the first claim to the last finish (the rest of the total: "
            "interpreters starting, polling the queue, exiting)",
        )
        calls = [r.stats.api_calls for r in finished]
        mean_calls = sum(calls) / len(calls)
        pairs = list(zip(after.emulated, before.emulated, strict=True))
        served = sum(a["served"] - b["served"] for a, b in pairs)
        limited = sum(a["limited"] - b["limited"] for a, b in pairs)
        paced = {
            name: a["paced"] - b["paced"] for name, (a, b) in zip(self.names, pairs, strict=True)
        }
        show(
            "API calls",
            f"{sum(calls)} ({mean_calls:.1f} a run); 429s seen by the clients "
            f"{sum(r.stats.rate_limited for r in finished)}; the emulators served {served} "
            f"requests and answered {limited} with 429",
        )
        changes = [r.stats.changes for r in finished]
        show(
            "changes",
            f"{sum(changes) / len(changes):.1f} a run (expected {EXPECTED_CHANGES}: "
            f"{sum(c == EXPECTED_CHANGES for c in changes)} of {len(changes)} runs)",
        )
        durations = {
            r.portal: (as_utc(r.finished_at) - as_utc(r.started_at)).total_seconds()
            for r in finished
            if r.finished_at and r.started_at
        }
        mean_duration = sum(durations.values()) / len(durations)
        show(
            "run duration",
            f"mean {mean_duration:.1f} s, slowest {max(durations.values()):.1f} s, fastest "
            f"{min(durations.values()):.1f} s (finished - started)",
        )
        naive = mean_calls / self.per_second
        show(
            "all calls / rate",
            f"mean {naive:.1f} s a portal ({mean_calls:.1f} calls / {self.per_second:g} per s); "
            f"mean run / this {mean_duration / naive:.2f}",
        )
        bounds = {name: paced[name] / self.per_second for name in durations}
        mean_bound = sum(bounds.values()) / len(bounds)
        mean_paced = sum(paced[name] for name in durations) / len(durations)
        show(
            "lower bound",
            f"mean {mean_bound:.1f} s a portal ({mean_paced:.1f} paced calls / "
            f"{self.per_second:g} per s; the other {mean_calls - mean_paced:.1f} calls are "
            f"exempt from the limit), slowest {max(bounds.values()):.1f} s; "
            f"mean run / bound {mean_duration / mean_bound:.2f}",
        )
        slots = min(self.portals, self.workers * self.args.parallel)
        round_bound = max(max(bounds.values()), sum(bounds.values()) / slots)
        show(
            "",
            f"the round: {round_bound:.1f} s (the slowest portal's bound, or all bounds over "
            f"{slots} slots); audit span / bound {span / round_bound:.2f}, total / bound "
            f"{wall / round_bound:.2f}",
        )

    def cpu(self, before: Usage, after: Usage) -> None:
        cores = os.cpu_count() or 1
        seconds = (after.total - before.total) / cores
        busy = after.busy - before.busy
        workers = after.workers - before.workers
        emulators = after.emulators - before.emulators
        postgres = after.postgres - before.postgres
        other = busy - workers - emulators - postgres
        show(
            "CPU",
            f"workers {workers:.1f} s user+sys ({workers / seconds:.2f} cores), emulator "
            f"process {emulators:.1f} s ({emulators / seconds:.2f}), Postgres "
            f"{postgres:.1f} s ({postgres / seconds:.2f}), everything else {other:.1f} s "
            f"({other / seconds:.2f})",
        )
        show(
            "",
            f"the machine: {busy / seconds:.2f} of {cores} cores busy "
            f"({busy / seconds / cores:.0%}) during the round",
        )


def worker_pid(name: str | None) -> int:
    """The process id in a worker's name (``host:pid:role:tag``, see ``scheduler.worker_name``);
    -1 for a name not of that form."""
    parts = (name or "").rsplit(":", 3)
    return int(parts[1]) if len(parts) == 4 and parts[1].isdigit() else -1


def grown_fixtures(target: Path, properties: int) -> tuple[Path, int]:
    """The demo portal's two nights copied under ``target``, each object type's properties
    grown by copies of its own (new names, same both nights) to ``properties`` in all; the
    folder and the number of properties it holds. Nothing is added below the demo's own."""
    counts = {
        path.name: len(json.loads(path.read_text()))
        for path in sorted((DEMO / "night1" / "properties").glob("*.json"))
    }
    have = sum(counts.values())
    extra = max(0, properties - have)
    for night in ("night1", "night2"):
        shutil.copytree(DEMO / night, target / night)
        for k, name in enumerate(sorted(counts)):
            path = target / night / "properties" / name
            existing = json.loads(path.read_text())
            share = extra // len(counts) + (k < extra % len(counts))
            # night1's, for both nights: a copy never changes (the changes stay the demo's)
            first = json.loads((DEMO / "night1" / "properties" / name).read_text())
            templates = [p for p in first if not p.get("hubspotDefined")] or first
            grown = [
                {
                    **templates[n % len(templates)],
                    "name": f"bench_{n}_{templates[n % len(templates)]['name']}",
                    "label": f"{templates[n % len(templates)]['label']} {n}",
                }
                for n in range(share)
            ]
            path.write_text(json.dumps(existing + grown))
    return target, have + extra


# main -------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of round B")
    parser.add_argument(
        "--properties", type=int, default=2000, help="properties of each portal (the demo has 342)"
    )
    parser.add_argument(
        "--parallel", type=int, default=40, help="[schedule] parallel_portals of each worker"
    )
    parser.add_argument("--rate", type=int, default=100, help="each portal's limit per 10 s")
    parser.add_argument("--latency", type=float, default=0.08)
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="a Postgres URL")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a round may take")
    parser.add_argument("--quick", action="store_true", help="10 portals")
    parser.add_argument("--serve-emulators", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_emulators is not None:
        serve_emulators(args.serve_emulators, args.portals, args.rate, args.latency)
        return
    if args.quick:
        args.portals = 10
    configure_logging("console", "warning")
    names = portal_names(args.portals)
    cores = os.cpu_count() or 1

    with fresh_schema(args.database) as (url, schema), tempfile.TemporaryDirectory() as tmp:
        portal_dir, properties = grown_fixtures(Path(tmp) / "portal", args.properties)
        engine = make_engine(url)
        try:
            upgrade(engine)
            store = Store(engine)
            runs = RunStore(store)
            print(
                f"{args.portals} emulated portals (demo portal with {properties} properties, "
                "night1 -> night2: "
                f"{EXPECTED_CHANGES} changes each), limit {args.rate}/10 s each, latency "
                f"{args.latency * 1000:.0f} ms; Postgres schema {schema}"
            )
            print(
                f"machine: {cores} cores, shared by the workers, the emulator process (all "
                f"{args.portals} emulators) and Postgres; parallel_portals = {args.parallel}"
            )
            began = time.perf_counter()
            with emulators(portal_dir / "night1", args.portals, FAST_LIMIT, 0.0) as fast:
                approve_baselines(store, names, fast.base_urls)
            print(
                f"baselines: {args.portals} snapshots of night1 approved in "
                f"{elapsed(began):.1f} s (no limit, no latency; not measured)"
            )

            config = Path(tmp) / "hubaudit.toml"
            logs = Path(tmp)
            base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
            rounds: list[Round] = []
            with emulators(portal_dir / "night2", args.portals, args.rate, args.latency) as helper:
                write_config(config, url, names, helper.base_urls, args.rate, args.parallel)
                for n, (label, workers) in enumerate((("A", 1), ("B", args.workers))):
                    if n:
                        time.sleep(WINDOW_SECONDS + 1)  # the emulators' windows empty
                    round_time = base + timedelta(minutes=n)
                    rounds.append(
                        run_round(
                            label, workers, round_time, names, runs, helper, config, logs, args
                        )
                    )
        finally:
            engine.dispose()

    one, many = rounds
    print(
        f"speed-up of {many.workers} workers over 1: {one.wall / many.wall:.2f}x in total "
        f"({one.wall:.1f} s / {many.wall:.1f} s), {span_of(one) / span_of(many):.2f}x in audit "
        f"span ({span_of(one):.1f} s / {span_of(many):.1f} s); {many.workers}x would be "
        f"linear; {cores} cores on this machine"
    )
    failed = [r.label for r in rounds if not r.ok]
    if failed:
        raise SystemExit(f"round(s) {', '.join(failed)}: not one succeeded run per portal")


if __name__ == "__main__":
    main()
