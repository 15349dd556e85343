"""Rate-limit headers that ask for too much are held to the caps, over real HTTP, and the run
record counts them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubaudit.emulator import DEMO_TOKEN, PortalEmulator

from .conftest import FAST_LIMIT
from .test_cli import TOKEN_ENV, run


def test_an_hour_long_window_in_every_answer_is_held_and_counted_on_the_run(
    database_url: str,
    tmp_path: Path,
    portal_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)
    # Every answer says: 5000 requests per hour. Believed, that is 14 per ten seconds and a
    # read of ~190 requests takes over two minutes; held to HubSpot's longest burst window
    # (ten seconds), it is 5000 per ten seconds, as configured.
    with PortalEmulator(
        portal_dirs["night1"], rate_limit_per_10s=FAST_LIMIT, window_seconds=3600
    ) as emulator:
        config = tmp_path / "hubaudit.toml"
        config.write_text(
            f'[database]\nurl = "{database_url}"\n\n[logging]\nformat = "json"\n\n'
            f'[[portals]]\nname = "demo"\nbase_url = "{emulator.base_url}"\n'
            f'token_env = "{TOKEN_ENV}"\nrate_limit_per_10s = {FAST_LIMIT}\n',
            encoding="utf-8",
        )
        assert run("--config", str(config), "db", "upgrade")[0] == 0
        assert run("--config", str(config), "snapshot", "--portal", "demo")[0] == 0
        approve = ("baseline", "approve", "--portal", "demo", "--from-snapshot", "latest")
        assert run("--config", str(config), *approve, "--by", "Ada", "--note", "Q4")[0] == 0
        assert run("--config", str(config), "audit", "--portal", "demo")[0] == 0
        [record] = json.loads(run("--config", str(config), "runs", "--json")[1])
        listed = run("--config", str(config), "runs")[1]
    # every answer that carried the header (association schemas are exempt from the limit)
    assert 100 < record["rate_limit_capped"] <= record["api_calls"]
    assert f"{record['rate_limit_capped']} rate-limit headers capped" in listed
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    capped = [e for e in logged if e["event"] == "hubspot.rate_limit_capped"]
    assert len(capped) == 2  # a warning once per read (snapshot, audit), not once per answer
    assert capped[0]["header"] == "X-HubSpot-RateLimit-Max"
    assert capped[0]["used"] == FAST_LIMIT
