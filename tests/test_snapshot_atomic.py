"""A snapshot is visible only once complete: a crash or a kill half-way leaves nothing usable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubaudit.analysis.canonical import make_item
from hubaudit.model.items import ConfigItem, CoverageStatus, Kind, KindCoverage
from hubaudit.store.repository import Store


def items(count: int, label: str = "v1") -> list[ConfigItem]:
    return [
        make_item(
            Kind.PROPERTY,
            f"property:contacts:p{i}",
            {"name": f"p{i}", "label": label},
            {"name": f"p{i}", "label": label},
        )
        for i in range(count)
    ]


COVERAGE = [KindCoverage(Kind.PROPERTY, "property:contacts", CoverageStatus.COMPLETE, 3000)]


def test_an_error_half_way_leaves_no_snapshot(store: Store) -> None:
    first = store.save_snapshot("demo", datetime.now(UTC), COVERAGE, items(10))

    def failing() -> list[ConfigItem]:
        yield from items(2500, "v2")
        raise RuntimeError("the collector died")

    with pytest.raises(RuntimeError):
        store.save_snapshot("demo", datetime.now(UTC), COVERAGE, failing())
    latest = store.latest_snapshot("demo")
    assert latest is not None and latest.id == first.id


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from hubaudit.model import CoverageStatus, Kind, KindCoverage
    from hubaudit.analysis.canonical import make_item
    from hubaudit.store.engine import make_engine
    from hubaudit.store.repository import Store

    def slow_items():
        for i in range(100_000):
            if i == 2500:
                print("half-way", flush=True)
                time.sleep(600)
            yield make_item(Kind.PROPERTY, f"property:contacts:k{i}", {"n": i}, {"n": i})

    store = Store(make_engine(sys.argv[1]))
    coverage = [KindCoverage(Kind.PROPERTY, "property:contacts", CoverageStatus.COMPLETE, 0)]
    store.save_snapshot("demo", datetime.now(UTC), coverage, slow_items())
    """
)


def test_a_killed_writer_leaves_no_snapshot_a_later_audit_would_use(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    first = store.save_snapshot("demo", datetime.now(UTC), COVERAGE, items(10))
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER, encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, str(script), database_url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ) as writer:
        try:
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == "half-way"
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=30)
    latest = store.latest_snapshot("demo")
    assert latest is not None and latest.id == first.id
    assert len(store.snapshot_items(first.id)) == 10
    # And the database still takes the next snapshot.
    after = store.save_snapshot("demo", datetime.now(UTC), COVERAGE, items(10, "v3"))
    assert store.latest_snapshot("demo") == after


def test_identical_payloads_are_stored_once(store: Store) -> None:
    from sqlalchemy import func, select

    from hubaudit.store.tables import PayloadRow

    for _night in range(5):
        store.save_snapshot("demo", datetime.now(UTC), COVERAGE, items(50))
    with store.engine.connect() as connection:
        payloads = connection.scalar(select(func.count()).select_from(PayloadRow))
    # 50 canonical payloads; the raw JSON here equals the canonical one, so it shares the row
    assert payloads == 50
