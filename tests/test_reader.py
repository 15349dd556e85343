"""Reading a portal the way HubSpot really behaves, over real HTTP to the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubaudit.config import PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import DailyLimitReached
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.items import CoverageStatus
from hubaudit.services.audit_run import approve_baseline, open_client, run_audit, take_snapshot
from hubaudit.store.repository import Store

from .conftest import baseline_from_night1


def coverage(snapshot_coverage: tuple[object, ...]) -> dict[str, CoverageStatus]:
    return {c.scope: c.status for c in snapshot_coverage}  # type: ignore[attr-defined]


def test_every_kind_is_read(store: Store, portal: PortalConfig, client: HubSpotClient) -> None:
    snapshot = take_snapshot(store, portal, client)
    kinds = {key.split(":", 1)[0] for key in store.snapshot_items(snapshot.id)}
    assert kinds == {
        "property",
        "property_group",
        "pipeline",
        "workflow",
        "lifecycle_stage",
        "object_schema",
        "association_label",
        "user",
        "team",
        "role",
    }
    items = store.snapshot_items(snapshot.id)
    # custom objects found through the schemas are read like standard ones
    assert "property:p48151623_subscription:renewal_date" in items
    assert "property_group:p48151623_subscription:subscription_information" in items
    assert "association_label:2-3508482:0-2:USER_DEFINED:201" in items
    # sensitive and archived properties, each read with its own request
    assert "property:contacts:passport_number" in items
    assert "property:deals:legacy_forecast_bucket" in items
    # lifecycle stages are their own items; the lifecycle pipelines are not pipelines
    assert "lifecycle_stage:companies:customer" in items
    assert not [k for k in items if k.startswith("pipeline:contacts")]


def test_workflows_come_from_one_list_and_batch_reads(
    store: Store, portal: PortalConfig, client: HubSpotClient, emulator: PortalEmulator
) -> None:
    take_snapshot(store, portal, client)
    flow_calls = {path: n for path, n in emulator.calls.items() if "/automation/" in path}
    assert flow_calls == {"GET /automation/v4/flows": 1, "POST /automation/v4/flows/batch/read": 1}


def test_paging_follows_cursors_and_stops_a_loop(
    store: Store, portal: PortalConfig, client: HubSpotClient, emulator: PortalEmulator
) -> None:
    from hubaudit.hubspot import endpoints

    assert len(client.paged_results(endpoints.USERS, 10)) == 27  # 3 pages
    assert emulator.calls["GET /settings/users/v3"] == 3
    emulator.inject("/settings/users/v3", repeat_cursor=True)
    snapshot = take_snapshot(store, portal, client)
    user_part = next(c for c in snapshot.coverage if c.scope == "user")
    assert user_part.status is CoverageStatus.FAILED
    assert "PAGINATION_LOOP" in (user_part.reason or "")


def test_missing_sensitive_scopes_leave_the_rest_verified(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    from hubaudit.emulator.server import missing_scopes_body

    take = take_snapshot(store, portal, client)
    approve_baseline(store, "demo", take, "Council", "v1")
    # The token loses the sensitive-data scopes: those reads are refused, nothing else is.
    body = missing_scopes_body(["crm.objects.contacts.sensitive.read.v2"])
    original = emulator.handle

    def refuse_sensitive(
        method: str, target: str, authorization: str | None, raw_body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        if "dataSensitivity=" in target:
            import json

            return 403, {"Content-Type": "application/json"}, json.dumps(body).encode()
        return original(method, target, authorization, raw_body)

    emulator.handle = refuse_sensitive  # type: ignore[method-assign]
    result = run_audit(store, portal, client)
    contacts = next(c for c in result.snapshot.coverage if c.scope == "property:contacts")
    assert contacts.status is CoverageStatus.COMPLETE
    assert contacts.unverified == ("dataSensitivity=sensitive", "dataSensitivity=highly_sensitive")
    # the two sensitive properties were not seen, and are not reported as removed
    assert result.changes == ()
    assert result.not_verified == ()


def test_a_timeout_is_retried_then_the_part_fails_alone(
    store: Store, emulator: PortalEmulator
) -> None:
    config = PortalConfig(
        name="demo",
        base_url=emulator.base_url,
        token_env="T",
        rate_limit_per_10s=5000,
        timeout_seconds=0.3,
        max_retries=1,
    )
    emulator.inject("/crm/v3/pipelines/tickets", delay_seconds=1.0)
    client = open_client(config, Secret(DEMO_TOKEN))
    try:
        snapshot = take_snapshot(store, config, client)
    finally:
        client.close()
    parts = coverage(snapshot.coverage)
    assert parts["pipeline:tickets"] is CoverageStatus.FAILED
    tickets = next(c for c in snapshot.coverage if c.scope == "pipeline:tickets")
    assert "timed out" in (tickets.reason or "")
    assert parts["pipeline:deals"] is CoverageStatus.COMPLETE
    assert emulator.calls["GET /crm/v3/pipelines/tickets"] == 2


def test_a_429_storm_is_survived_with_every_item_read(
    store: Store, portal_dirs: dict[str, Path]
) -> None:
    # The portal allows 15 requests a second; the client believes it has 5000 per 10 s and
    # learns otherwise from HubSpot's 429s and headers.
    with PortalEmulator(portal_dirs["night1"], rate_limit_per_10s=15, window_seconds=1.0) as emu:
        config = PortalConfig(
            name="demo",
            base_url=emu.base_url,
            token_env="T",
            rate_limit_per_10s=5000,
            max_retries=20,
        )
        client = open_client(config, Secret(DEMO_TOKEN))
        try:
            snapshot = take_snapshot(store, config, client)
        finally:
            client.close()
        assert emu.requests_limited > 0
        assert emu.peak_in_window <= 15
    parts = coverage(snapshot.coverage)
    absent = ("leads", "appointments", "courses", "listings", "services", "orders")
    assert {s for scope, s in parts.items() if scope.rsplit(":", 1)[-1] not in absent} == {
        CoverageStatus.COMPLETE
    }
    assert snapshot.item_count == 476


def test_the_daily_limit_stops_the_run_and_stores_nothing(
    store: Store, portal_dirs: dict[str, Path]
) -> None:
    with PortalEmulator(portal_dirs["night1"], rate_limit_per_10s=None, daily_limit=40) as emu:
        config = PortalConfig(
            name="demo", base_url=emu.base_url, token_env="T", rate_limit_per_10s=5000
        )
        client = open_client(config, Secret(DEMO_TOKEN))
        try:
            with pytest.raises(DailyLimitReached, match="DAILY API limit"):
                take_snapshot(store, config, client)
        finally:
            client.close()
    assert store.latest_snapshot("demo") is None


def test_a_lone_surrogate_in_a_label_is_stored_not_a_crash(
    store: Store, portal: PortalConfig, client: HubSpotClient, portal_dirs: dict[str, Path]
) -> None:
    path = portal_dirs["night1"] / "properties" / "tickets.json"
    text = path.read_text().replace('"Ticket name"', '"Ticket \\ud83d name"', 1)
    path.write_text(text)
    snapshot = take_snapshot(store, portal, client)
    item = store.snapshot_items(snapshot.id)["property:tickets:subject"]
    assert store.load_payloads([item.raw_hash])[item.raw_hash]["label"] == "Ticket \ud83d name"


def test_the_emulator_never_serves_files_outside_the_portal(emulator: PortalEmulator) -> None:
    import httpx

    with httpx.Client(
        base_url=emulator.base_url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}
    ) as http:
        response = http.get("/crm/v3/properties/..%2F..%2Fnight2%2Fproperties%2Fdeals")
    assert response.status_code == 400


def test_pipeline_history_is_read_only_for_changed_pipelines(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    run_audit(store, portal, client)
    audits = {path for path in emulator.calls if path.endswith("/audit")}
    # the two changed pipelines, and the stages of default whose content changed (the deleted
    # stage of ticket pipeline 0 has no trail left to read; closedwon, only renumbered by the
    # inserted stage before it, did not change)
    assert audits == {
        "GET /crm/v3/pipelines/deals/default/audit",
        "GET /crm/v3/pipelines/tickets/0/audit",
        *(
            f"GET /crm/v3/pipelines/deals/default/stages/{stage}/audit"
            for stage in ("98765432", "closedlost", "qualifiedtobuy")
        ),
    }


def test_page_boundaries_elsewhere_are_not_drift(
    store: Store, portal_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same users and workflows read in pages of another size find nothing."""
    from hubaudit.hubspot.collectors import users, workflows

    with PortalEmulator(portal_dirs["night1"], rate_limit_per_10s=5000) as emulator:
        config = PortalConfig(
            name="demo", base_url=emulator.base_url, token_env="T", rate_limit_per_10s=5000
        )
        client = open_client(config, Secret(DEMO_TOKEN))
        try:
            approve_baseline(store, "demo", take_snapshot(store, config, client), "C", "v1")
            monkeypatch.setattr(users, "USERS_PAGE_SIZE", 7)
            monkeypatch.setattr(workflows, "LIST_PAGE_SIZE", 5)
            result = run_audit(store, config, client)
        finally:
            client.close()
    assert emulator.calls["GET /settings/users/v3"] == 1 + 4  # 27 users: 1 page, then 4
    assert result.changes == ()


def test_a_lifecycle_stage_removed_is_one_critical_change(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    import json

    baseline_from_night1(store, portal, client)
    night = portal_dirs["night1"]
    contacts = json.loads((night / "properties" / "contacts.json").read_text())
    stage = next(p for p in contacts if p["name"] == "lifecyclestage")
    stage["options"] = [o for o in stage["options"] if o["value"] != "other"]
    (night / "properties" / "contacts.json").write_text(json.dumps(contacts))
    pipelines = json.loads((night / "pipelines" / "contacts.json").read_text())
    pipelines[0]["stages"] = [s for s in pipelines[0]["stages"] if s["id"] != "other"]
    (night / "pipelines" / "contacts.json").write_text(json.dumps(pipelines))
    result = run_audit(store, portal, client)
    assert [(c.key, c.op.value, c.severity.value) for c in result.changes] == [
        ("lifecycle_stage:contacts:other", "removed", "critical")
    ]


def test_the_account_audit_log_attributes_what_nothing_else_can(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    import json

    baseline_from_night1(store, portal, client)
    # An Enterprise portal: the account activity log says who edited the deal workflow.
    (portal_dirs["night2"] / "audit_logs.json").write_text(
        json.dumps(
            [
                {
                    "id": "1",
                    "category": "WORKFLOW",
                    "subCategory": "DEAL",
                    "action": "UPDATE",
                    "targetObjectId": "1201003",
                    "occurredAt": "2099-01-01T08:00:00Z",
                    "actingUser": {"userId": 2305101, "userEmail": "bram.vries@northwind.example"},
                },
                {
                    "id": "2",
                    "category": "WORKFLOW",
                    "action": "UPDATE",
                    "targetObjectId": "999",
                    "occurredAt": "2099-01-01T09:00:00Z",
                    "actingUser": {"userId": 1},
                },
            ]
        )
    )
    emulator.load(portal_dirs["night2"])
    result = run_audit(store, portal, client)
    handoff = next(c for c in result.changes if c.key == "workflow:1201003").attribution
    assert (handoff.user_email, handoff.confidence) == ("bram.vries@northwind.example", "low")
    assert handoff.source == "account audit log (WORKFLOW UPDATE)"
    assert result.notes == ()


def test_the_real_legacy_workflow_record_names_its_editor(
    store: Store, tmp_path: Path, shared_hubspot: Path
) -> None:
    import json

    from hubaudit.hubspot.history import legacy_workflow_history
    from hubaudit.model.changes import Change, ChangeOp
    from hubaudit.model.items import Kind

    record = json.loads((shared_hubspot / "samples" / "workflows-v3-legacy.json").read_text())
    record["workflows"][0]["migrationStatus"] = {"flowId": 77, "workflowId": 5155841}
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "legacy_workflows.json").write_text(json.dumps(record["workflows"]))
    with PortalEmulator(tmp_path / "portal") as emulator:
        config = PortalConfig(name="real", base_url=emulator.base_url, token_env="T")
        client = open_client(config, Secret(DEMO_TOKEN))
        try:
            history = legacy_workflow_history(client)
            change = Change(
                Kind.WORKFLOW, "workflow:77", ChangeOp.MODIFIED, "name", ("name",), "a", "b"
            )
            (found,) = history(change)
        finally:
            client.close()
    assert (found.user_id, found.user_email) == ("215482", "testapi@hubspot.com")
    assert found.at is not None
