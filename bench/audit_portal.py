"""Benchmark: a whole audit of a large emulated portal, against the rate-limit bound.

    .venv/bin/python bench/audit_portal.py [--properties 20000] [--workflows 1000]
                                           [--users 300] [--latency 0.08] [--rate 100]
                                           [--compare-src OTHER/src] [--phases [--tracemalloc]]

Builds the portal of ``bench/read_portal.py`` with ``--properties`` properties over its 15
object types, serves it from an emulator in a process of its own, snapshots it and approves
that as the baseline (in a second process), edits 1% of the properties (relabelled, an option
added or removed) and turns off a tenth of the workflows, then audits it in a third, fresh
process: read, store, compare, classify, defects, dependency graph, policies and findings.

Prints, for the audit: its wall time beside the rate-limit bound of its reads (paced calls /
rate; and the burst-aware bound, which lets the first window's calls go at once, as HubSpot's
rolling window does); the time from its first request to its last answer (the read); the CPU
it spent after its last answer, and that as a share of the read; and the audit process's peak
RSS (the kernel's high-water mark, VmHWM, and ``getrusage``). The baseline, measured in the
same run, is the read alone (the baseline night's snapshot, which reads the same portal).
With ``--phases``, where in the audit its memory peaks: its RSS at entry, peak and exit of
each step; ``--tracemalloc`` adds live Python memory by step and what holds the most.

Targets (issue 20): wall <= 1.2x the burst-aware bound; CPU after the last read <= 20% of the
read; peak RSS of an audit of a 100k-item portal < 500 MB. With HUBAUDIT_BENCH_PROFILE=FILE in
the environment, the audit child writes a cProfile of its run there (pstats format).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fresh_process import last_json_line
from read_portal import CUSTOM, build, burst_aware_bound

from hubaudit.config import DEFAULT_PROPERTY_OBJECT_TYPES, PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.logs import configure_logging


def object_type_count() -> int:
    return len([t for t in DEFAULT_PROPERTY_OBJECT_TYPES if t != "leads"]) + len(CUSTOM)


def peak_rss_mb() -> tuple[float, float]:
    """(VmHWM, getrusage) of this process, in MB."""
    rusage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024, rusage
    return rusage, rusage


def serve(folder: str, args: dict[str, Any], pipe: Any) -> None:
    """The emulator's process: build the portal, serve it until told to stop."""
    per_type = max(1, args["properties"] // object_type_count())
    expected = build(Path(folder), per_type, args["workflows"], args["users"])
    with PortalEmulator(
        Path(folder), rate_limit_per_10s=args["rate"], latency_seconds=args["latency"]
    ) as emulator:
        pipe.send({"base_url": emulator.base_url, **expected})
        pipe.recv()  # stop
        pipe.send({"limited": emulator.requests_limited})


def portal_config(base_url: str, rate: int) -> PortalConfig:
    # each checkout's own default concurrency: what an audit with an unedited config does
    return PortalConfig(name="bench", base_url=base_url, token_env="T", rate_limit_per_10s=rate)


def baseline_night(folder: str, database: str, base_url: str, rate: int, pipe: Any) -> None:
    """Snapshot the portal, approve it as the baseline; then edit the portal's files."""
    from hubaudit.services.audit_run import approve_baseline, open_client, take_snapshot
    from hubaudit.store.engine import make_engine, upgrade
    from hubaudit.store.repository import Store

    configure_logging("console", "warning")
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    store = Store(engine)
    client = open_client(portal_config(base_url, rate), Secret(DEMO_TOKEN))
    started = time.perf_counter()
    snapshot = take_snapshot(store, portal_config(base_url, rate), client)
    read = time.perf_counter() - started
    client.close()
    approve_baseline(store, "bench", snapshot, "Council", "bench")
    engine.dispose()
    rng = random.Random(5)
    edited = 0
    for path in sorted((Path(folder) / "properties").glob("*.json")):
        props = json.loads(path.read_text())
        for n in rng.sample(range(len(props)), max(1, len(props) // 100)):
            prop = props[n]
            if n % 3 == 0:
                prop["label"] += " (renamed)"
            elif n % 3 == 1:
                prop["options"].append(
                    {"label": "New", "value": "new", "displayOrder": 99, "hidden": False}
                )
            elif prop["options"]:
                prop["options"].pop(0)
            else:
                prop["description"] = ""
            edited += 1
        path.write_text(json.dumps(props))
    flows_path = Path(folder) / "flows.json"
    flows = json.loads(flows_path.read_text())
    for flow in flows[::10]:
        flow["isEnabled"] = False
    flows_path.write_text(json.dumps(flows))
    pipe.send({"snapshot_wall": read, "items": snapshot.item_count, "edited": edited})


class RssPhases:
    """Where in an audit its memory peaks: a thread samples the process's RSS every 20 ms and
    charges each sample to the innermost audit step running then (steps named by wrapping the
    functions :mod:`hubaudit.services.audit_run` calls; instrumentation kept in the bench)."""

    STEPS = (
        "collect_portal",
        "payloads_of",
        "compare",
        "portal_view",
        "with_stand_ins",
        "build_graph",
        "with_impact",
        "attributed",
        "classify",
        "with_vendor",
        "named",
        "baseline_holds",
        "record_findings",
        "governance_kpis",
        "governed_surface",
    )
    STORE_STEPS = (
        "save_snapshot",
        "snapshot_items",
        "baseline_items",
        "update_defects",
        "defects",
        "load_payloads",
    )

    def __init__(self, traced: bool = False) -> None:
        self.traced = traced
        self.live: dict[str, float] = {}
        self.top: list[str] = []
        self.stack: list[str] = ["start"]
        self.order: list[str] = []
        self.peak: dict[str, float] = {}
        self.entry: dict[str, float] = {}
        self.exit: dict[str, float] = {}
        self.page = os.sysconf("SC_PAGE_SIZE") / 2**20  # MiB, as VmHWM is given
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def rss(self) -> float:
        return int(Path("/proc/self/statm").read_text().split()[1]) * self.page

    def sample(self) -> None:
        while not self.stop.wait(0.02):
            step, now = self.stack[-1], self.rss()
            self.peak[step] = max(self.peak.get(step, 0.0), now)

    def charge(self) -> None:
        """With tracemalloc on: the peak of live Python memory since the last step boundary,
        charged to the step that was running."""
        if self.traced:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            self.live[self.stack[-1]] = max(self.live.get(self.stack[-1], 0.0), peak)
            tracemalloc.reset_peak()

    def largest(self, step: str) -> None:
        """With tracemalloc on: what holds the most memory (by source line) as ``step`` ends."""
        if self.traced:
            stats = tracemalloc.take_snapshot().statistics("lineno")
            self.top += [
                f"{s.size / 2**20:7.1f} MB {s.count:8d} blocks  {s.traceback[0]}"
                for s in stats[:15]
            ]
            self.top.insert(-15, f"largest holders as {step} ends:")

    def wrap(self, name: str, function: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            outer = len(self.stack) == 1
            self.charge()
            if name not in self.order:
                self.order.append(name)
            self.entry.setdefault(name, self.rss())
            self.stack.append(name)
            try:
                return function(*args, **kwargs)
            finally:
                self.charge()
                if name in ("store.save_snapshot", "compare", "record_findings"):
                    self.largest(name)
                self.stack.pop()
                self.exit[name] = self.rss()
                if outer:
                    self.stack[-1] = f"after {name}"
                    if self.stack[-1] not in self.order:
                        self.order.append(self.stack[-1])

        return wrapped

    def install(self, store: Any) -> None:
        import hubaudit.services.audit_run as audit_run

        for name in self.STEPS:
            if hasattr(audit_run, name):
                setattr(audit_run, name, self.wrap(name, getattr(audit_run, name)))
        for name in self.STORE_STEPS:
            setattr(store, name, self.wrap(f"store.{name}", getattr(store, name)))
        self.thread.start()

    def table(self) -> list[tuple[str, float, float, float, float]]:
        """(step, RSS at first entry, peak while it ran, RSS at its last exit, peak of live
        Python memory while it ran — with tracemalloc, else 0) in MB."""
        self.stop.set()
        self.charge()
        return [
            (
                n,
                self.entry.get(n, 0.0),
                self.peak.get(n, 0.0),
                self.exit.get(n, 0.0),
                self.live.get(n, 0.0),
            )
            for n in ["start", *self.order]
        ]


def audit_night(
    database: str, base_url: str, rate: int, phases: bool = False, traced: bool = False
) -> None:
    """The audit, in a fresh process: its wall, its reads' span, its CPU after the last read."""
    from hubaudit.services.audit_run import open_client, run_audit
    from hubaudit.store.engine import make_engine
    from hubaudit.store.repository import Store

    configure_logging("console", "warning")
    engine = make_engine(f"sqlite:///{database}")
    store = Store(engine)
    portal = portal_config(base_url, rate)
    client = open_client(portal, Secret(DEMO_TOKEN))
    if traced:
        tracemalloc.start()
    sampler = RssPhases(traced) if phases else None
    if sampler is not None:
        sampler.install(store)
    lock = threading.Lock()
    marks: dict[str, float] = {}
    request = client.transport.request

    def timed(*args: Any, **kwargs: Any) -> Any:
        with lock:
            marks.setdefault("first", time.perf_counter())
        try:
            return request(*args, **kwargs)
        finally:
            with lock:
                marks["last"] = time.perf_counter()
                marks["last_cpu"] = time.process_time()

    client.transport.request = timed  # type: ignore[method-assign]
    profile_to = os.environ.get("HUBAUDIT_BENCH_PROFILE")
    profiler = cProfile.Profile() if profile_to else None
    started, started_cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    result = run_audit(store, portal, client)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile_to))
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    ended_cpu = time.process_time()
    client.close()
    engine.dispose()
    hwm, rusage = peak_rss_mb()
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "read": marks["last"] - marks["first"],
                "after_read_cpu": ended_cpu - marks["last_cpu"],
                "after_read_wall": started + wall - marks["last"],
                "api_calls": client.api_calls,
                "changes": len(result.changes),
                "findings": len(result.findings),
                "rss": hwm,
                "rusage": rusage,
                "code": str(Path(sys.modules["hubaudit"].__file__ or "").parent),
                "phases": sampler.table() if sampler is not None else [],
                "largest": sampler.top if sampler is not None else [],
            }
        )
    )


def audit(
    database: Path,
    base_url: str,
    rate: int,
    src: str | None,
    phases: bool = False,
    traced: bool = False,
) -> dict[str, Any]:
    """:func:`audit_night` in a fresh process (with another checkout's code, given ``src``)."""
    flags = (["--phases"] if phases else []) + (["--tracemalloc"] if traced else [])
    return last_json_line(
        [__file__, "--audit-child", str(database), base_url, str(rate), *flags], src
    )


def run(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")  # fresh processes: their own peak RSS
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(*args, child))
    process.start()
    answer: dict[str, Any] = parent.recv()
    process.join()
    if process.exitcode:
        raise SystemExit(f"{target.__name__} failed ({process.exitcode})")
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--properties", type=int, default=20_000)
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.08)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument(
        "--compare-src", help="also audit with another checkout's code (OTHER/src), same portal"
    )
    parser.add_argument(
        "--phases",
        action="store_true",
        help="sample the audit's RSS every 20 ms and print its peak during each step",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="with --phases: trace Python allocations too (slow; for finding what holds memory)",
    )
    parser.add_argument("--audit-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.audit_child is not None:
        database_, base_url_, rate_ = args.audit_child
        audit_night(database_, base_url_, int(rate_), args.phases, args.tracemalloc)
        return
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        folder, database = Path(tmp) / "portal", Path(tmp) / "bench.db"
        folder.mkdir()
        emulator_end, ours = context.Pipe()
        emulator = context.Process(target=serve, args=(str(folder), vars(args), emulator_end))
        emulator.start()
        expected = ours.recv()
        base_url = expected["base_url"]
        night = run(baseline_night, str(folder), str(database), base_url, args.rate)
        other = Path(tmp) / "other.db"
        shutil.copyfile(database, other)
        # Each audit starts with the emulator's ten-second window empty, as a nightly audit
        # does: the baseline night's last calls would otherwise still count against its burst.
        time.sleep(10)
        results = {
            "this code": audit(database, base_url, args.rate, None, args.phases, args.tracemalloc)
        }
        if args.compare_src:
            time.sleep(10)  # the same start for the other code
            results[args.compare_src] = audit(
                other, base_url, args.rate, args.compare_src, args.phases, args.tracemalloc
            )
        ours.send("stop")
        limited = ours.recv()["limited"]
        emulator.join()
    paced, rate_per_s = expected["paced"], args.rate / 10
    bound = paced / rate_per_s
    burst_aware = burst_aware_bound(paced, args.rate, args.latency)
    print(
        f"portal: {expected['properties']} properties, {args.workflows} workflows, "
        f"{args.users} users ({night['items']} items); limit {args.rate}/10 s, latency "
        f"{args.latency * 1000:.0f} ms; {night['edited']} properties edited, a tenth of the "
        "workflows turned off"
    )
    print(
        f"baseline:  the baseline night's snapshot (read and store): {night['snapshot_wall']:.1f} s"
    )
    print(f"the emulator answered {limited} requests with 429 (rate limit) in all")
    for name, audited in results.items():
        report(name, audited, paced, bound, burst_aware)
    if len(results) == 2:
        ours_, theirs = results.values()
        print(
            f"this code spends {ours_['after_read_cpu']:.2f} s of CPU after the last read, "
            f"{args.compare_src} {theirs['after_read_cpu']:.2f} s "
            f"({theirs['after_read_cpu'] / ours_['after_read_cpu']:.1f}x); the whole audit's CPU "
            f"{ours_['cpu']:.1f} s and {theirs['cpu']:.1f} s; peak RSS {ours_['rss']:.0f} MB and "
            f"{theirs['rss']:.0f} MB"
        )


def report(
    name: str, audited: dict[str, Any], paced: int, bound: float, burst_aware: float
) -> None:
    print(
        f"audit ({name}): wall {audited['wall']:.1f} s (CPU {audited['cpu']:.1f} s), "
        f"{audited['api_calls']} API calls, {audited['changes']} changes, "
        f"{audited['findings']} findings; code in {audited['code']}"
    )
    print(
        f"    rate-limit bound {bound:.1f} s ({paced} paced calls), burst-aware "
        f"{burst_aware:.1f} s: ratio {audited['wall'] / bound:.2f} and "
        f"{audited['wall'] / burst_aware if burst_aware else float('inf'):.2f} (target <= 1.20)"
    )
    print(
        f"    read (first request to last answer) {audited['read']:.1f} s; after it "
        f"{audited['after_read_cpu']:.2f} s of CPU ({audited['after_read_wall']:.2f} s wall): "
        f"{audited['after_read_cpu'] / audited['read']:.0%} of the read (target <= 20%)"
    )
    print(
        f"    peak RSS of the audit process {audited['rss']:.0f} MB (VmHWM; getrusage "
        f"{audited['rusage']:.0f} MB)"
    )
    if audited["phases"]:
        print(
            "    RSS (MB) by step: at entry, peak while it ran, at exit"
            " (and with --tracemalloc, the peak of live Python memory while it ran)"
        )
        for step, entry, peak, left, live in audited["phases"]:
            print(f"      {step:<28} {entry:6.0f} {peak:6.0f} {left:6.0f} {live:6.0f}")
        for line in audited["largest"]:
            print(f"      {line}")


if __name__ == "__main__":
    main()
