"""Shared fixtures: real databases (SQLite files and the local Postgres), the real emulator.

Every test that takes ``database_url`` runs twice: on a fresh SQLite file and on a fresh schema
of the local PostgreSQL server. Without a reachable Postgres the second run skips, except in CI
(``CI=true``), where it fails: CI must never go green on SQLite alone.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
from hypothesis import HealthCheck, settings

from hubaudit.config import PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.logs import configure_logging
from hubaudit.secrets import KNOWN_SECRETS
from hubaudit.services.audit_run import open_client
from hubaudit.store.engine import make_engine, upgrade
from hubaudit.store.repository import Store

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "fixtures" / "demo"
SHARED_HUBSPOT = REPO.parent / "shared" / "hubspot"
POSTGRES_URL = os.environ.get(
    "HUBAUDIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
# Tests that are not about pacing run the emulator and the client at a high limit, so that each
# snapshot takes milliseconds; pacing has tests and a benchmark of its own.
FAST_LIMIT = 5000

# Hypothesis: in CI the same examples on every run (a red CI is reproducible, never a roll of
# the dice) and no example database; on a developer's machine fresh random examples each run and
# a database that replays the last failure first. A test's own @settings (its max_examples)
# still wins; HYPOTHESIS_PROFILE picks a profile by name.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev"))


def _postgres_admin() -> sa.Engine:
    engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        message = f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}"
        if IN_CI:
            pytest.fail(message + " (CI=true: the Postgres run must not skip)")
        pytest.skip(message)
    return engine


@pytest.fixture(autouse=True)
def _quiet_default_logging() -> Iterator[None]:
    """Each test starts and ends with warnings-only logs, whatever a CLI call set up, and
    knowing no secret: what a test sees scrubbed, the code it ran remembered."""
    configure_logging("console", "warning")
    KNOWN_SECRETS.forget_all()
    yield
    structlog.reset_defaults()
    configure_logging("console", "warning")
    KNOWN_SECRETS.forget_all()


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh schema on the Postgres server, dropped afterwards."""
    admin = _postgres_admin()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'create schema "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'drop schema "{schema}" cascade'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hubaudit.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: sa.Engine) -> Store:
    upgrade(engine)
    return Store(engine)


@pytest.fixture
def portal_dirs(tmp_path: Path) -> dict[str, Path]:
    """Private copies of the demo portal's nights, free to edit in a test."""
    copies = {}
    for night in ("night1", "night2"):
        copies[night] = tmp_path / "portal" / night
        shutil.copytree(DEMO / night, copies[night])
    return copies


@pytest.fixture
def emulator(portal_dirs: dict[str, Path]) -> Iterator[PortalEmulator]:
    with PortalEmulator(
        portal_dirs["night1"], token=DEMO_TOKEN, rate_limit_per_10s=FAST_LIMIT
    ) as running:
        yield running


def require_shared_hubspot() -> Path:
    """HubSpot's own specs and samples, beside the checkout. Missing in CI is a failure."""
    if not (SHARED_HUBSPOT / "samples").is_dir():
        message = f"{SHARED_HUBSPOT} is missing"
        if IN_CI:
            pytest.fail(message + " (CI=true: tests on HubSpot's real samples must run)")
        pytest.skip(message)
    return SHARED_HUBSPOT


@pytest.fixture
def shared_hubspot() -> Path:
    """HubSpot's own specs and samples, beside the checkout. Missing in CI is a failure."""
    return require_shared_hubspot()


@pytest.fixture
def portal(emulator: PortalEmulator) -> PortalConfig:
    return PortalConfig(
        name="demo",
        base_url=emulator.base_url,
        token_env="HUBAUDIT_DEMO_TOKEN",
        rate_limit_per_10s=FAST_LIMIT,
    )


@pytest.fixture
def client(portal: PortalConfig) -> Iterator[HubSpotClient]:
    opened = open_client(portal, Secret(DEMO_TOKEN))
    yield opened
    opened.close()


def edit_json(folder: Path, name: str, change: Callable[[Any], object]) -> None:
    """Change one JSON file of a portal folder in place (the emulator reads it per request)."""
    path = folder / name
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def baseline_from_night1(store: Store, portal: PortalConfig, client: HubSpotClient) -> None:
    """Snapshot the portal as it is and approve that as baseline v1."""
    from hubaudit.services.audit_run import approve_baseline, take_snapshot

    snapshot = take_snapshot(store, portal, client)
    approve_baseline(store, portal.name, snapshot, "Council", "Q4 architecture")


@pytest.fixture
def web_world(
    tmp_path: Path,
    database_url: str,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """The web app served over loopback on a database that lived two nights, one user of each
    role (``tests/web_support.py``)."""
    from .web_support import served_world

    with served_world(tmp_path, database_url, emulator, portal_dirs, monkeypatch) as world:
        yield world
