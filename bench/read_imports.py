"""Benchmark: where a read command's CPU goes, stage by stage, in one process.

    .venv/bin/python bench/read_imports.py [--runs 5] [--cache DIR] [COMMAND ...]

Runs, ``--runs`` times in a fresh interpreter each, one read command (default ``history
pipeline:deals:default``) on the year-old database ``bench/read_commands.py`` builds (it must
have been built: same ``--cache``), timing with ``time.process_time`` each stage of its start:
click and SQLAlchemy (the floor), the CLI, the config (pydantic and the schema), the store's
read side, the renderers, the services; then the command itself (engine, queries, rendering).
Prints each stage's median CPU. Nothing is asserted: the figures are for the README ("Speed of
the read commands").
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

COMMON_STAGES = (
    ("click + sqlalchemy (the floor)", ("click", "sqlalchemy")),
    ("the CLI (hubaudit.cli.app)", ("hubaudit.cli.app",)),
    ("the config package (hubaudit.config)", ("hubaudit.config",)),
    ("the SQLite dialect", ("sqlalchemy.dialects.sqlite",)),
    ("the store's read side (schema, reads, payloads)", ("hubaudit.store.reads",)),
)
# what each command goes on to import: its renderer, then its service
COMMAND_STAGES = {
    "history": (("hubaudit.report.history",), ("hubaudit.services.history",)),
    "show": (("hubaudit.report.history",), ("hubaudit.services.history",)),
    "diff": (("hubaudit.report.history",), ("hubaudit.services.history",)),
    "impact": (("hubaudit.report.history",), ("hubaudit.services.history",)),
    "report": (("hubaudit.report.text",), ("hubaudit.services.reports",)),
    "defects": (("hubaudit.report.json_report",), ("hubaudit.services.triage",)),
}


def stages(command: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    renderer, service = COMMAND_STAGES.get(command[0], ((), ()))
    return [*COMMON_STAGES, ("its renderer", renderer), ("its service", service)]


CHILD = """
import contextlib, importlib, io, json, sys, time
stages = json.loads(sys.argv[1])
started = time.process_time()
spent = {}
for name, modules in stages:
    t = time.process_time()
    for module in modules:
        importlib.import_module(module)
    spent[name] = time.process_time() - t
from hubaudit.cli import main
t = time.process_time()
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[2:])
spent["the command (engine, queries, rendering)"] = time.process_time() - t
spent["total"] = time.process_time() - started
print(json.dumps({"code": code, "spent": spent}))
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs (default 5)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "hubaudit-bench" / "read-commands",
        help="where bench/read_commands.py built the database",
    )
    parser.add_argument("command", nargs="*", help="the read command (default: history …)")
    args = parser.parse_args(argv)
    config = args.cache / "hubaudit.toml"
    if not config.exists():
        raise SystemExit(f"no database in {args.cache}: run bench/read_commands.py first")
    command = args.command or ["history", "pipeline:deals:default"]
    runs: list[dict[str, float]] = []
    for _ in range(args.runs):
        plan = json.dumps(stages(command))
        done = subprocess.run(
            [sys.executable, "-c", CHILD, plan, "--config", str(config), *command],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"the command failed: {done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if result["code"] not in (0, 2):
            raise SystemExit(f"the command exited {result['code']}")
        runs.append(result["spent"])
    print(f"median CPU of {args.runs} runs: hubaudit {' '.join(command)}")
    for name in runs[0]:
        print(f"{name:<52} {statistics.median(r[name] for r in runs) * 1000:>7.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
