"""The web app over loopback (uvicorn in a thread, httpx): sign-in, sessions, roles checked on
the server, CSRF, the council's decisions under the signed-in person, four eyes, escaping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hubaudit.emulator import PortalEmulator
from hubaudit.services.triage import DefectQuery, list_defects

from .web_support import World, csrf_of, served_world


@pytest.fixture
def world(
    tmp_path: Path,
    database_url: str,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    with served_world(tmp_path, database_url, emulator, portal_dirs, monkeypatch) as served:
        yield served


def open_defects(world: World) -> list[int]:
    return [d.id for d in list_defects(world.store, "demo", DefectQuery())]


def test_smoke(world: World) -> None:
    rita = world.sign_in("rita")
    page = rita.get("/portals/demo/defects")
    assert page.status_code == 200, page.text
    print(page.text[:3000])
    ids = open_defects(world)
    detail = rita.get(f"/portals/demo/defects/{ids[0]}")
    assert detail.status_code == 200, detail.text
    csrf = csrf_of(detail.text)
    r = rita.post("/portals/demo/defects", data={"csrf": csrf, "ids": str(ids[0]), "action": "waive", "reason": "Q1", "until": "2099-01-31"})
    assert r.status_code == 303, r.text
    r = rita.post("/portals/demo/defects", data={"csrf": csrf, "ids": str(ids[1]), "action": "accept", "note": "keep"})
    assert r.status_code == 303, r.text
    b = rita.get("/portals/demo/baselines/2")
    assert b.status_code == 200, b.text
    print(b.text[:4000])
    for path in ("/", "/portals/demo/baselines", "/portals/demo/crs", "/portals/demo/crs/new", "/portals/demo/log", "/portals/demo/log.csv", "/portals/demo/runs"):
        r = rita.get(path)
        assert r.status_code == 200, (path, r.text)
