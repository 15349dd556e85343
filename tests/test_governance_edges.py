"""Governance edge cases found in review: accepted defects that come back, released change
requests, imports for unknown portals, overlong names and far dates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hubaudit.config import PortalConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.governance.change_requests import parse_planned_change
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.changes import Change, Classification
from hubaudit.model.defects import DefectStatus
from hubaudit.services.actor import Actor
from hubaudit.services.audit_run import run_audit, take_snapshot
from hubaudit.services.baselines import decide_baseline, propose_from_snapshot, release_requests
from hubaudit.services.triage import accept_defects, waive_defects
from hubaudit.store.council import CouncilStore
from hubaudit.store.repository import Store

from .test_governance_month import NOV, TEAM_EDITOR, Calendar, edit, relabel


def where(result: AuditResult) -> dict[tuple[str, str | None], Change]:
    return {(c.key, c.field): c for c in result.changes}


def set_field(name: str, field: str, value: Any):  # type: ignore[no-untyped-def]
    def change(properties: list[dict[str, Any]]) -> None:
        for prop in properties:
            if prop["name"] == name:
                prop[field] = value
                prop["updatedUserId"] = TEAM_EDITOR  # a user's edit, not HubSpot's

    return change


class World:
    def __init__(
        self,
        store: Store,
        portal: PortalConfig,
        client: HubSpotClient,
        emulator: PortalEmulator,
        live: Path,
    ) -> None:
        self.store, self.portal, self.client, self.emulator, self.live = (
            store,
            portal,
            client,
            emulator,
            live,
        )
        self.clock = Calendar()
        self.gov = CouncilStore(store)

    def approve_v1(self) -> None:
        self.clock.day(1)
        first = take_snapshot(self.store, self.portal, self.client, clock=self.clock)
        propose_from_snapshot(self.store, "demo", first, Actor("Rita"), "v1", self.clock)
        decide_baseline(self.store, "demo", None, True, Actor("Council"), "ok", self.clock)

    def audit(self, day: int, hour: int = 2) -> AuditResult:
        self.clock.day(day, hour)
        self.emulator.load(self.live)
        return run_audit(self.store, self.portal, self.client, clock=self.clock)

    def edit(self, obj: str, fn) -> None:  # type: ignore[no-untyped-def]
        edit(self.live, obj, fn)


@pytest.fixture
def world(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> World:
    w = World(store, portal, client, emulator, portal_dirs["night1"])
    w.approve_v1()
    return w


from .test_cli import config_path, run  # noqa: E402,F401

# --- defects accepted, reopened, accepted again ----------------------------------------------


def test_a_new_drift_after_an_accepted_defect_is_a_new_defect_and_can_be_accepted(
    world: World,
) -> None:
    w = world
    w.edit("deals", relabel("amount", "Deal amount"))
    defect = where(w.audit(2))[("property:deals:amount", "label")].defect_id
    assert defect is not None
    w.clock.day(2, 9)
    accept_defects(w.store, "demo", [defect], Actor("Rita"), "finance wants it", w.clock)
    decide_baseline(w.store, "demo", 2, True, Actor("Council"), "ok", w.clock)
    assert w.audit(3).changes == ()
    # the portal goes back to the v1 label: drift against v2 with another content: the accepted
    # defect stays what it was (accepted into v2), the new drift is a new defect
    w.edit("deals", relabel("amount", "Amount"))
    again = where(w.audit(4))[("property:deals:amount", "label")]
    assert again.defect_id is not None and again.defect_id != defect
    assert w.store.defect("demo", defect).status is DefectStatus.ACCEPTED
    assert w.store.defect("demo", again.defect_id).status is DefectStatus.OPEN
    w.clock.day(4, 9)
    draft = accept_defects(
        w.store, "demo", [again.defect_id], Actor("Rita"), "back to Amount", w.clock
    )
    assert draft.version == 3


def test_an_accepted_defect_stays_accepted_when_the_item_drifts_again(world: World) -> None:
    w = world
    w.edit("deals", relabel("amount", "Deal amount"))
    defect = where(w.audit(2))[("property:deals:amount", "label")].defect_id
    assert defect is not None
    w.clock.day(2, 9)
    accept_defects(w.store, "demo", [defect], Actor("Rita"), "finance wants it", w.clock)
    decide_baseline(w.store, "demo", 2, True, Actor("Council"), "ok", w.clock)
    w.audit(3)
    w.edit("deals", relabel("amount", "Amount"))
    fresh = where(w.audit(4))[("property:deals:amount", "label")].defect_id
    accepted = w.store.defect("demo", defect)
    assert (accepted.status, accepted.accepted_version) == (DefectStatus.ACCEPTED, 2)
    assert fresh is not None and fresh != defect
    new = w.store.defect("demo", fresh)
    assert (new.status, new.accepted_version) == (DefectStatus.OPEN, None)


# --- released change requests ------------------------------------------------------------


def _approved_cr(w: World, changes: list[str]) -> int:
    request = w.gov.create_request(
        "demo",
        title="t",
        by="Rita",
        at=w.clock(),
        valid_from=NOV,
        valid_until=NOV.replace(day=28),
        changes=[parse_planned_change(c) for c in changes],
        note="",
    )
    w.gov.decide_request("demo", request.id, True, "Council", "ok", w.clock())
    return request.id


def test_a_released_cr_plans_nothing_once_its_release_is_approved(world: World) -> None:
    w = world
    cr = _approved_cr(w, ["modify property:deals:amount"])
    w.edit("deals", relabel("amount", "Deal amount"))
    assert where(w.audit(2))[("property:deals:amount", "label")].classification is (
        Classification.PLANNED
    )
    w.clock.day(2, 9)
    release_requests(w.store, "demo", [cr], Actor("Rita"), None, w.clock)
    decide_baseline(w.store, "demo", 2, True, Actor("Council"), "released", w.clock)
    # after the release, someone changes the type: critical, never approved by anyone
    w.edit("deals", set_field("amount", "type", "string"))
    change = where(w.audit(3))[("property:deals:amount", "type")]
    assert change.classification is Classification.DEFECT


def test_a_released_cr_does_not_show_as_not_started(world: World) -> None:
    from hubaudit.services.change_requests import request_progress

    w = world
    cr = _approved_cr(w, ["modify property:deals:amount"])
    w.edit("deals", relabel("amount", "Deal amount"))
    w.audit(2)
    w.clock.day(2, 9)
    release_requests(w.store, "demo", [cr], Actor("Rita"), None, w.clock)
    decide_baseline(w.store, "demo", 2, True, Actor("Council"), "released", w.clock)
    w.audit(3)
    [progress] = request_progress(w.store, "demo", w.gov.requests("demo", [cr]))
    assert progress.summary == "implemented"


# --- command line --------------------------------------------------------------------------


def test_import_of_files_for_a_portal_not_in_the_config_is_refused(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert run("--config", config, "baseline", "approve", "--portal", "demo",
               "--from-snapshot", "latest", "--by", "Ada", "--note", "v1")[0] == 0  # fmt: skip
    out_dir = tmp_path / "tree"
    assert run("--config", config, "baseline", "export", "--portal", "demo",
               "--out", str(out_dir))[0] == 0  # fmt: skip
    manifest = out_dir / "baseline.yaml"
    manifest.write_text(manifest.read_text().replace("demo", "ghost"))
    code, out = run("--config", config, "baseline", "import", str(out_dir), "--by", "Rita")
    assert code == 1, out
    assert "ghost" in capsys.readouterr().err


def test_an_overlong_by_is_a_one_line_error(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    code, _ = run(
        "--config", config, "cr", "create", "--portal", "demo", "--title", "t",
        "--change", "modify property:deals:amount", "--from", "2026-01-01",
        "--until", "2099-01-01", "--by", "R" * 300,
    )  # fmt: skip
    assert code == 1
    assert "--by" in capsys.readouterr().err


def test_a_window_or_waiver_through_9999_12_31_is_a_date(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    code, _ = run(
        "--config", config, "cr", "create", "--portal", "demo", "--title", "t",
        "--change", "modify property:deals:amount", "--from", "2026-01-01",
        "--until", "garbage", "--by", "R",
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "'garbage' is not a date" in err, err
    code, _ = run(
        "--config", config, "cr", "create", "--portal", "demo", "--title", "t",
        "--change", "modify property:deals:amount", "--from", "2026-01-01",
        "--until", "9999-12-31", "--by", "R",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err


def test_a_waiver_covers_the_value_it_waived_not_the_next_one(world: World) -> None:
    w = world
    w.edit("deals", relabel("amount", "Deal amount"))
    defect = where(w.audit(2))[("property:deals:amount", "label")].defect_id
    assert defect is not None
    w.clock.day(2, 9)
    waive_defects(
        w.store,
        "demo",
        [defect],
        Actor("Rita"),
        "during the migration",
        NOV.replace(day=20),
        w.clock,
    )
    assert where(w.audit(3))[("property:deals:amount", "label")].classification is (
        Classification.WAIVED
    )
    w.edit("deals", relabel("amount", "Amount (EUR)"))
    change = where(w.audit(4))[("property:deals:amount", "label")]
    assert (change.classification, change.defect_id) == (Classification.DEFECT, defect)
    reopened = w.store.defect("demo", defect)
    assert reopened.status is DefectStatus.OPEN
    assert reopened.waiver is not None and reopened.waiver.end_reason == "drift changed"
