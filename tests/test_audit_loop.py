"""The whole loop over real HTTP to the emulator, on SQLite and on Postgres."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubaudit.config import PortalConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.emulator.server import missing_scopes_body
from hubaudit.errors import UsageError
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.changes import Classification
from hubaudit.model.defects import DefectStatus
from hubaudit.model.items import CoverageStatus
from hubaudit.services.audit_run import approve_baseline, run_audit, take_snapshot
from hubaudit.store.repository import Store

from .conftest import baseline_from_night1

# What fixtures/demo/night2 changes (DRIFT.txt), as (key, field) pairs: exactly these, no noise.
NIGHT2_CHANGES = {
    ("pipeline:deals:default", "stages.98765432"),  # one change: its siblings' renumbering is not
    ("pipeline:deals:default", "stages.closedlost.label"),
    ("pipeline:deals:default", "stages.qualifiedtobuy.metadata.probability"),
    ("pipeline:tickets:0", "stages.3"),
    ("property:companies:industry", "description"),
    ("property:contacts:customer_tier", "options.gold.label"),
    ("property:contacts:customer_tier", "options.platinum"),
    ("property:contacts:tiktok_handle", None),
    ("property:deals:competitor", None),
    ("property:deals:deal_source", "fieldType"),
    ("property:deals:deal_source", "type"),
    ("association_label:0-2:0-3:USER_DEFINED:106", None),
    ("association_label:0-3:0-1:USER_DEFINED:103", "userEnforcedMaxToObjectIds"),
    ("association_label:0-3:0-2:USER_DEFINED:105", None),
    ("lifecycle_stage:contacts:evangelist", "label"),  # once: not on the property or a pipeline
    ("property:contacts:lifecyclestage", "description"),
    ("object_schema:p48151623_subscription", "requiredProperties"),
    ("property_group:contacts:customer_success", "label"),
    ("team:61001", "userIds"),
    ("user:2305118", "superAdmin"),
    ("workflow:1201001", "isEnabled"),
    ("workflow:1201003", "actions.1.fields.value.staticValue"),
    *(
        ("property:deals:deal_source", f"options.{v}")
        for v in ("inbound", "outbound", "partner", "event", "upsell")
    ),
}
NIGHT2_ITEMS = {key for key, _field in NIGHT2_CHANGES}
"""One defect per item: the deal_source retype's 7 field changes are one defect."""


def test_night2_reports_exactly_the_real_changes(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    quiet = run_audit(store, portal, client)
    assert quiet.changes == ()
    assert quiet.not_verified == ()

    emulator.load(portal_dirs["night2"])
    result = run_audit(store, portal, client)
    assert {(c.key, c.field) for c in result.changes} == NIGHT2_CHANGES
    by_place = {(c.key, c.field): c for c in result.changes}
    removed = by_place[("property:deals:competitor", None)]
    assert (removed.op.value, removed.severity.value, removed.after) == ("removed", "high", None)
    assert removed.before["label"] == "Main competitor"
    assert by_place[("property:deals:deal_source", "type")].severity.value == "critical"
    assert by_place[("pipeline:tickets:0", "stages.3")].severity.value == "critical"
    probability = by_place[("pipeline:deals:default", "stages.qualifiedtobuy.metadata.probability")]
    assert (probability.before, probability.after) == ("0.4", "0.3")  # kept as HubSpot sends it
    assert by_place[("property:contacts:tiktok_handle", None)].op.value == "added"
    assert by_place[("user:2305118", "superAdmin")].severity.value == "critical"
    assert by_place[("workflow:1201001", "isEnabled")].severity.value == "high"
    stage = by_place[("lifecycle_stage:contacts:evangelist", "label")]
    assert (stage.before, stage.after) == ("Evangelist", "Advocate")
    # who did it, where HubSpot says: the property's last editor, joined to the users
    tier = by_place[("property:contacts:customer_tier", "options.gold.label")].attribution
    assert (tier.user_id, tier.user_email) == ("2304117", "it.admin@northwind.example")
    assert tier.at is not None and tier.at.date().isoformat() == "2026-11-22"
    new_prop = by_place[("property:contacts:tiktok_handle", None)].attribution
    assert new_prop.source == "createdUserId of the item"
    assert removed.attribution.source == "unknown"  # a deleted item has no record left
    # a contact workflow: the legacy v3 API names its last editor; a deal workflow has none
    nurture = by_place[("workflow:1201001", "isEnabled")].attribution
    assert (nurture.user_email, nurture.source) == (
        "it.admin@northwind.example",
        "legacy workflows API (updateSource.updatedByUser)",
    )
    assert by_place[
        ("workflow:1201003", "actions.1.fields.value.staticValue")
    ].attribution.source == ("unknown")
    # the demo portal is not on Enterprise: the account audit log is a note, not an error
    assert [n.split(":")[0] for n in result.notes] == [
        "the account audit log was not read (Enterprise only)"
    ]
    # a change inside a stage: the newest entry of the pipeline's or the stage's trail
    assert (probability.attribution.user_id, probability.attribution.source) == (
        "2305105",
        "stage audit history",
    )
    # a pipeline's change: the latest entry of its audit history, read for changed pipelines only
    closedlost = by_place[("pipeline:deals:default", "stages.closedlost.label")].attribution
    assert (closedlost.user_email, closedlost.source) == (
        "it.admin@northwind.example",
        "pipeline audit history",
    )
    assert all(c.classification is Classification.DEFECT for c in result.changes)
    assert len({c.defect_id for c in result.changes}) == len(NIGHT2_ITEMS) == 18
    assert len(result.defects.opened) == len(NIGHT2_ITEMS)
    # one defect per item: it lists the item's field changes, and is as bad as the worst
    by_key = {d.key: d for d in result.present_defects}
    assert set(by_key) == NIGHT2_ITEMS
    retype = by_key["property:deals:deal_source"]
    assert {c.field for c in retype.changes} == {
        field for key, field in NIGHT2_CHANGES if key == "property:deals:deal_source"
    }
    assert retype.severity.value == "critical"
    assert {c.defect_id for c in result.changes if c.key == retype.key} == {retype.id}
    assert "critical" in {c.severity.value for c in retype.changes}
    assert retype.name == "Deal source"
    retype_type = next(c for c in retype.changes if c.field == "type")
    assert (retype_type.before, retype_type.after) == ("enumeration", "string")
    assert by_key["property:deals:competitor"].display_name.startswith(
        "Main competitor"
    )  # baseline


def test_the_same_drift_on_two_nights_is_one_defect(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    first = run_audit(store, portal, client)
    second = run_audit(store, portal, client)
    assert {c.defect_id for c in first.changes} == {c.defect_id for c in second.changes}
    assert second.defects.opened == ()
    assert len(second.defects.seen_again) == len(NIGHT2_ITEMS)
    defects = store.defects("demo")
    assert len(defects) == len(NIGHT2_ITEMS)
    assert {d.occurrences for d in defects} == {2}
    assert all(d.last_seen_at >= d.first_seen_at for d in defects)


def test_a_reverted_change_resolves_its_defect_and_a_new_one_reopens(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    run_audit(store, portal, client)

    emulator.load(portal_dirs["night1"])  # someone put everything back
    reverted = run_audit(store, portal, client)
    assert reverted.changes == ()
    assert len(reverted.defects.resolved) == len(NIGHT2_ITEMS)
    assert {(d.status, d.resolution) for d in store.defects("demo")} == {
        (DefectStatus.RESOLVED, "reverted")
    }

    emulator.load(portal_dirs["night2"])  # and changed it all again
    again = run_audit(store, portal, client)
    assert len(again.defects.reopened) == len(NIGHT2_ITEMS)
    assert {d.status for d in store.defects("demo")} == {DefectStatus.OPEN}


def test_a_failed_read_is_not_a_deletion(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    run_audit(store, portal, client)
    open_deal_defects = {d.id for d in store.defects("demo") if d.key.startswith("property:deals:")}
    assert open_deal_defects

    emulator.inject(
        "/crm/v3/properties/deals", 403, body=missing_scopes_body(["crm.schemas.deals.read"])
    )
    result = run_audit(store, portal, client)
    # the fault covers every path under /crm/v3/properties/deals, groups included
    assert [(p.scope, p.status) for p in result.not_verified] == [
        ("property:deals", CoverageStatus.FAILED),
        ("property_group:deals", CoverageStatus.FAILED),
    ]
    reason = result.not_verified[0].reason or ""
    assert "MISSING_SCOPES" in reason and "crm.schemas.deals.read" in reason
    assert not [c for c in result.changes if c.key.startswith("property:deals:")]
    # Other parts were still compared, and the deal defects were neither resolved nor touched.
    assert ("property:contacts:tiktok_handle", None) in {(c.key, c.field) for c in result.changes}
    still = {d.id: d for d in store.defects("demo")}
    assert all(still[i].status is DefectStatus.OPEN for i in open_deal_defects)
    assert all(still[i].occurrences == 1 for i in open_deal_defects)


def test_a_baseline_needs_a_complete_snapshot(
    store: Store, portal: PortalConfig, client: HubSpotClient, emulator: PortalEmulator
) -> None:
    emulator.inject("/crm/v3/pipelines/tickets", 403, body=missing_scopes_body(["tickets"]))
    snapshot = take_snapshot(store, portal, client)
    part = next(c for c in snapshot.coverage if c.scope == "pipeline:tickets")
    assert part.status is CoverageStatus.FAILED
    with pytest.raises(UsageError, match="pipeline:tickets"):
        approve_baseline(store, "demo", snapshot, "Council", "note")
    assert store.latest_baseline("demo") is None


def test_audit_without_a_baseline_is_refused_and_stores_nothing(
    store: Store, portal: PortalConfig, client: HubSpotClient
) -> None:
    with pytest.raises(UsageError, match="no approved baseline"):
        run_audit(store, portal, client)
    assert client.api_calls == 0


def test_date_versioned_paths_read_the_same_portal(
    store: Store, emulator: PortalEmulator, client: HubSpotClient, portal: PortalConfig
) -> None:
    from dataclasses import replace

    from hubaudit.config import Secret
    from hubaudit.emulator import DEMO_TOKEN
    from hubaudit.services.audit_run import open_client

    through_sdk = take_snapshot(store, portal, client)
    dated_portal = replace(portal, api_versions={"properties": "2026-03", "pipelines": "2026-03"})
    dated_client = open_client(dated_portal, Secret(DEMO_TOKEN))
    try:
        dated = take_snapshot(store, dated_portal, dated_client)
    finally:
        dated_client.close()
    assert store.snapshot_items(dated.id) == store.snapshot_items(through_sdk.id)


def test_raw_json_is_stored_losslessly(
    store: Store, client: HubSpotClient, portal: PortalConfig, portal_dirs: dict[str, Path]
) -> None:
    snapshot = take_snapshot(store, portal, client)
    items = store.snapshot_items(snapshot.id)
    served = json.loads((portal_dirs["night1"] / "properties" / "deals.json").read_text())
    stored = store.load_payloads(items[f"property:deals:{p['name']}"].raw_hash for p in served)
    assert sorted(stored.values(), key=lambda p: p["name"]) == sorted(
        served, key=lambda p: p["name"]
    )


def test_an_object_type_the_portal_lacks_is_unsupported_not_failed(
    store: Store, emulator: PortalEmulator
) -> None:
    from hubaudit.config import Secret
    from hubaudit.emulator import DEMO_TOKEN
    from hubaudit.services.audit_run import open_client

    config = PortalConfig(
        name="demo",
        base_url=emulator.base_url,
        token_env="T",
        rate_limit_per_10s=5000,
        property_object_types=("contacts", "widgets"),
        association_object_types=(),
    )
    client = open_client(config, Secret(DEMO_TOKEN))
    try:
        snapshot = take_snapshot(store, config, client)
        status = {c.scope: c.status for c in snapshot.coverage}
        assert status["property:contacts"] is CoverageStatus.COMPLETE
        assert status["property:widgets"] is CoverageStatus.UNSUPPORTED
        assert status["property_group:widgets"] is CoverageStatus.UNSUPPORTED
        assert status["lifecycle_stage:contacts"] is CoverageStatus.COMPLETE
        # An unsupported part does not stop a baseline, and is not governed by it.
        baseline = approve_baseline(store, "demo", snapshot, "Council", "note")
        assert "property:widgets" not in baseline.scopes
        assert run_audit(store, config, client).not_verified == ()
    finally:
        client.close()
