"""A portal's world for the web app's tests: a database (SQLite or Postgres) that lived two
nights of the demo portal (v1 approved from night 1, night 2 audited: defects open), one user
of each role, and the app served over loopback by uvicorn in a thread."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hubaudit.cli import main
from hubaudit.config import Config, load_config
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.model.users import Role
from hubaudit.services.users import add_user
from hubaudit.store.engine import make_engine
from hubaudit.store.repository import Store

from .conftest import edit_json

TOKEN_ENV = "HUBAUDIT_WEB_TEST_TOKEN"
SECRET_ENV = "HUBAUDIT_WEB_TEST_SECRET"
SECRET = "s3cret-for-the-web-tests-only-0123456789"
PASSWORD = "correct horse battery"
SCRIPT_LABEL = '<script>alert("owned")</script> Renewal type'
"""Night 2's label of ``property:deals:renewal_type``: a portal user's string holding markup."""
PEOPLE = {"rita": Role.REVOPS, "carl": Role.COUNCIL, "vera": Role.VIEWER, "ada": Role.ADMIN}


def ok(*args: str) -> str:
    out = io.StringIO()
    code = main(list(args), out=out)
    assert code in (0, 2), (args, out.getvalue())
    return out.getvalue()


def write_config(path: Path, database_url: str, emulator: PortalEmulator, extra: str = "") -> Path:
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n[logging]\nlevel = "warning"\n\n'
        f'[web]\nsecret_key_env = "{SECRET_ENV}"\n{extra}\n'
        f'[[portals]]\nname = "demo"\nbase_url = "{emulator.base_url}"\n'
        f'token_env = "{TOKEN_ENV}"\nrate_limit_per_10s = 5000\n',
        encoding="utf-8",
    )
    return path


def live_two_nights(config: Path, emulator: PortalEmulator, portal_dirs: dict[str, Path]) -> None:
    """v1 approved from night 1 (by Ada), then night 2 audited: defects open, one of them a
    label holding a script."""

    def relabel(properties: list[dict[str, object]]) -> None:
        for prop in properties:
            if prop["name"] == "renewal_type":
                prop["label"] = SCRIPT_LABEL

    edit_json(portal_dirs["night2"], "properties/deals.json", relabel)
    emulator.load(portal_dirs["night1"])
    ok("--config", str(config), "db", "upgrade")
    ok("--config", str(config), "snapshot", "--portal", "demo")
    ok("--config", str(config), "baseline", "approve", "--from-snapshot", "latest",
       "--by", "Ada", "--note", "v1")  # fmt: skip
    emulator.load(portal_dirs["night2"])
    ok("--config", str(config), "audit", "--portal", "demo")


@dataclass
class World:
    config: Config
    store: Store
    url: str = ""
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, **kwargs: Any) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30, **kwargs)
        self.clients.append(client)
        return client

    def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Client:
        client = self.client()
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login", data={"username": username, "password": password, "csrf": token}
        )
        assert response.status_code == 303, response.text
        return client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


@contextmanager
def served_world(
    tmp_path: Path,
    database_url: str,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    extra_config: str = "",
) -> Iterator[World]:
    from hubaudit.web.server import BackgroundServer, build_app

    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)
    path = write_config(tmp_path / "hubaudit.toml", database_url, emulator, extra_config)
    live_two_nights(path, emulator, portal_dirs)
    config = load_config(path)
    store = Store(make_engine(database_url))
    try:
        for name, role in PEOPLE.items():
            add_user(store, name, role, PASSWORD, name.capitalize())
        world = World(config, store)
        with BackgroundServer(build_app(config, store, SECRET)) as server:
            world.url = server.url
            try:
                yield world
            finally:
                for client in world.clients:
                    client.close()
    finally:
        store.engine.dispose()
