"""The same decisions through the CLI and through the web app leave the same database state
(every row the decisions write, moments aside), on SQLite and Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hubaudit.emulator import PortalEmulator
from hubaudit.services.triage import list_findings

from .conftest import postgres_schema
from .test_governance_services import decided_state
from .test_web import DEFECTS, act, open_ids
from .web_support import live_two_nights, ok, served_world, write_config


@contextmanager
def second_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    with postgres_schema() as url:
        yield url


def test_decisions_through_the_web_leave_the_state_the_cli_leaves(
    tmp_path: Path,
    database_url: str,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        served_world(tmp_path, database_url, emulator, portal_dirs, monkeypatch) as world,
        second_database(database_url, tmp_path) as cli_url,
    ):
        cli = str(write_config(tmp_path / "cli.toml", cli_url, emulator))
        live_two_nights(Path(cli), emulator, portal_dirs)
        first, second, third = (str(i) for i in open_ids(world)[:3])
        finding = str(list_findings(world.store, "demo")[0].id)

        # the command line, on one database, names the same people the web signs in
        ok("--config", cli, "defects", "ack", first, "--by", "rita", "--note", "looking")
        ok("--config", cli, "defects", "waive", second, "--reason", "Q1", "--until",
           "2099-01-31", "--by", "rita")  # fmt: skip
        ok("--config", cli, "defects", "resolve", first, "--by", "rita", "--note", "put back")
        ok("--config", cli, "defects", "accept", third, "--by", "rita", "--note", "keep it")
        ok("--config", cli, "findings", "waive", finding, "--reason", "Q2", "--until",
           "2099-06-30", "--by", "rita")  # fmt: skip
        ok("--config", cli, "cr", "create", "--title", "TikTok", "--change",
           "add property:contacts:tiktok_handle type=string", "--from", "2020-01-01",
           "--until", "2099-12-31", "--by", "rita", "--note", "marketing")  # fmt: skip
        ok("--config", cli, "cr", "approve", "CR-1", "--by", "carl", "--note", "go")
        ok("--config", cli, "baseline", "release", "CR-1", "--by", "rita")
        ok("--config", cli, "baseline", "approve", "2", "--by", "carl", "--note", "v2")
        ok("--config", cli, "baseline", "propose", "--from-snapshot", "latest", "--by", "rita",
           "--note", "night 2 as it is")  # fmt: skip
        ok("--config", cli, "baseline", "reject", "3", "--by", "carl", "--note", "not yet")

        # the web app, on the other, signed in
        rita, carl = world.sign_in("rita"), world.sign_in("carl")
        page = f"/portals/demo/defects/{first}"
        for form in (
            {"ids": first, "action": "acknowledge", "note": "looking"},
            {"ids": second, "action": "waive", "reason": "Q1", "until": "2099-01-31"},
            {"ids": first, "action": "resolve", "note": "put back"},
            {"ids": third, "action": "accept", "note": "keep it"},
        ):
            assert act(rita, page, DEFECTS, **form).status_code == 303, form
        assert act(rita, "/portals/demo/findings", ids=finding, reason="Q2",
                   until="2099-06-30").status_code == 303  # fmt: skip
        made = act(rita, "/portals/demo/crs/new", "/portals/demo/crs", title="TikTok",
                   changes="add property:contacts:tiktok_handle type=string",
                   note="marketing", **{"from": "2020-01-01", "until": "2099-12-31"})  # fmt: skip
        assert made.status_code == 303
        request = made.headers["location"].split("?")[0]
        assert act(carl, request, decision="approve", note="go").status_code == 303
        released = act(rita, request, "/portals/demo/baselines/release", ids="1")
        assert released.status_code == 303
        approved = act(carl, "/portals/demo/baselines/2", decision="approve", note="v2")
        assert approved.status_code == 303
        proposed = act(rita, "/portals/demo/baselines", note="night 2 as it is")
        assert proposed.headers["location"] == "/portals/demo/baselines/3?done=proposed"
        rejected = act(carl, "/portals/demo/baselines/3", decision="reject", note="not yet")
        assert rejected.headers["location"] == "/portals/demo/baselines/3?done=rejected"

        expected, actual = decided_state(cli_url), decided_state(database_url)
    assert expected["governance_log"] and expected["waivers"] and expected["change_requests"]
    assert expected["findings"]
    logged = expected["governance_log"]
    assert any("crs.released" in row for row in logged)
    assert any("baseline.rejected" in row for row in logged)
    assert actual == expected
