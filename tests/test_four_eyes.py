"""Four eyes, in the services (so on the CLI and the web alike), on SQLite and Postgres: whoever
proposed or amended a baseline version, or created a change request, does not approve it, unless
``[governance] single_approver`` is on, and then the governance log says so."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubaudit.cli import main
from hubaudit.config import PortalConfig
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import NotAllowed
from hubaudit.governance.change_requests import parse_planned_change
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.baselines import BaselineStatus
from hubaudit.services import baselines, change_requests, triage
from hubaudit.services.actor import Actor, Channel
from hubaudit.services.audit_run import run_audit
from hubaudit.services.log import governance_log
from hubaudit.store.repository import Store

from .conftest import baseline_from_night1

RITA, ADA, CARL = Actor("Rita"), Actor("Ada", Channel.WEB), Actor("carl")


@pytest.fixture
def drifted(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> list[int]:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    run_audit(store, portal, client)
    return [d.id for d in triage.list_defects(store, "demo")]


def test_the_proposer_and_every_amender_cannot_approve(store: Store, drifted: list[int]) -> None:
    triage.accept_defects(store, "demo", drifted[:1], RITA, "keep")
    triage.accept_defects(store, "demo", drifted[1:2], ADA, "keep this too")
    assert baselines.baseline_proposers(store, "demo", 2) == {"Rita", "Ada"}
    for who in (RITA, Actor("rita"), ADA):  # names compare without case
        with pytest.raises(NotAllowed, match="four eyes"):
            baselines.decide_baseline(store, "demo", 2, True, who, "mine")
    # rejecting one's own proposal is fine; nothing was approved meanwhile
    assert baselines.baseline_versions(store, "demo")[-1].baseline.status is (
        BaselineStatus.PROPOSED
    )
    decision = baselines.decide_baseline(store, "demo", 2, True, Actor("Carl"), "agreed")
    assert decision.baseline.approved_by == "Carl" and set(decision.defects) == set(drifted[:2])
    entry = governance_log(store, "demo")[-1]
    assert (entry.actor, entry.action) == ("Carl", "baseline.approved")
    assert "single_approver" not in entry.detail


def test_a_single_approver_team_may_approve_its_own_and_the_log_says_so(
    store: Store, drifted: list[int]
) -> None:
    triage.accept_defects(store, "demo", drifted[:1], RITA, "keep")
    baselines.decide_baseline(store, "demo", 2, True, RITA, "alone", single_approver=True)
    entry = governance_log(store, "demo")[-1]
    assert (entry.actor, entry.action, entry.detail["single_approver"]) == (
        "Rita",
        "baseline.approved",
        True,
    )


def test_the_requester_of_a_change_request_cannot_approve_it(
    store: Store, drifted: list[int]
) -> None:
    draft = change_requests.RequestDraft(
        "TikTok",
        (parse_planned_change("add property:contacts:tiktok_handle type=string"),),
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2099, 12, 31, tzinfo=UTC),
    )
    request = change_requests.create_request(store, "demo", draft, RITA)
    with pytest.raises(NotAllowed, match="CR-1"):
        change_requests.decide_request(store, "demo", request.id, True, RITA, "go")
    rejected = change_requests.decide_request(store, "demo", request.id, False, RITA, "withdrawn")
    assert rejected.decided_by == "Rita"
    second = change_requests.create_request(store, "demo", draft, RITA)
    approved = change_requests.decide_request(store, "demo", second.id, True, CARL, "go")
    assert approved.decided_by == "carl"
    alone = change_requests.create_request(store, "demo", draft, RITA)
    change_requests.decide_request(store, "demo", alone.id, True, RITA, "ok", single_approver=True)
    assert governance_log(store, "demo")[-1].detail["single_approver"] is True


def test_the_cli_records_its_actor_as_given_under_the_same_rule(
    tmp_path: Path,
    database_url: str,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HUBAUDIT_FOUR_EYES_TOKEN", DEMO_TOKEN)
    monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)
    config = tmp_path / "hubaudit.toml"

    def write(single: bool) -> None:
        config.write_text(
            f'[database]\nurl = "{database_url}"\n\n[governance]\n'
            f"single_approver = {'true' if single else 'false'}\n\n"
            f'[[portals]]\nname = "demo"\nbase_url = "{emulator.base_url}"\n'
            'token_env = "HUBAUDIT_FOUR_EYES_TOKEN"\nrate_limit_per_10s = 5000\n',
            encoding="utf-8",
        )

    def run(*args: str) -> int:
        return main(["--config", str(config), *args], out=io.StringIO())

    write(single=False)
    assert run("db", "upgrade") == 0
    assert run("snapshot") == 0
    # a portal's first version: the one who proposes it approves it, and the log says so
    assert (
        run("baseline", "approve", "--from-snapshot", "latest", "--by", "Ada", "--note", "v1") == 0
    )
    assert (
        run("baseline", "propose", "--from-snapshot", "latest", "--by", "Ada", "--note", "v2") == 0
    )
    capsys.readouterr()
    assert run("baseline", "approve", "2", "--by", "ada", "--note", "mine") == 1
    assert "four eyes" in capsys.readouterr().err
    assert (
        run("baseline", "approve", "--from-snapshot", "latest", "--by", "Ada", "--note", "x") == 1
    )
    write(single=True)
    assert run("baseline", "approve", "2", "--by", "Ada", "--note", "alone") == 0
    write(single=False)
    assert run("baseline", "approve", "--from-snapshot", "latest", "--by", "Ada",
               "--note", "v3") == 1  # fmt: skip
    entries = governance_log_of(database_url)
    # the refused one-step approvals left nothing behind
    assert [(e.actor, e.action, bool(e.detail.get("single_approver"))) for e in entries] == [
        ("Ada", "baseline.proposed", False),
        ("Ada", "baseline.approved", True),
        ("Ada", "baseline.proposed", False),
        ("Ada", "baseline.approved", True),
    ]
    assert "four eyes" in capsys.readouterr().err


def governance_log_of(url: str) -> list[object]:
    from hubaudit.store.engine import make_engine

    store = Store(make_engine(url))
    try:
        return list(governance_log(store, "demo"))
    finally:
        store.engine.dispose()
