"""Reading all of a portal, over HTTP to the emulator: every pipeline without configuration,
association limits in one call, custom object schemas without ``objectTypeId``, and the
overlapping property reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubaudit.config import PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.emulator.server import error_body, missing_scopes_body
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.hubspot.collectors.associations import AssociationLimits
from hubaudit.model.items import CoverageStatus, Kind, KindCoverage
from hubaudit.report import render
from hubaudit.services.audit_run import (
    approve_baseline,
    check_portal,
    open_client,
    run_audit,
    take_snapshot,
)
from hubaudit.store.repository import Store

from .conftest import FAST_LIMIT, edit_json

CUSTOM = "p48151623_implementation_project"
LIMITS_ALL = "GET /crm/associations/v4/definitions/configurations/all"
NOT_IN_THE_DEMO = ("appointments", "courses", "listings", "services", "orders")


def stage(stage_id: str, label: str, order: int, **metadata: str) -> dict[str, Any]:
    return {
        "id": stage_id,
        "label": label,
        "displayOrder": order,
        "metadata": metadata,
        "archived": False,
        "createdAt": "2025-04-19T19:39:36.648Z",
        "updatedAt": "2026-09-14T23:10:42.812Z",
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


def pipeline(pipeline_id: str, label: str, stages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": pipeline_id,
        "label": label,
        "displayOrder": 0,
        "archived": False,
        "createdAt": "2025-04-19T19:39:36.648Z",
        "updatedAt": "2026-09-14T23:10:42.812Z",
        "stages": stages,
    }


LEADS = [
    pipeline(
        "lead-pipeline-id",
        "Lead pipeline",
        [
            stage("new-stage-id", "New", 0, isClosed="false"),
            stage("attempting-stage-id", "Attempting", 1, isClosed="false"),
            stage("qualified-stage-id", "Qualified", 2, isClosed="true"),
        ],
    )
]
ONBOARDING = [
    pipeline(
        "88140231",
        "Onboarding",
        [stage("88140232", "Kick-off", 0), stage("88140233", "Live", 1)],
    )
]


@pytest.fixture
def default_portal(emulator: PortalEmulator) -> PortalConfig:
    """The demo portal with nothing configured about what to read."""
    return PortalConfig(
        name="demo", base_url=emulator.base_url, token_env="T", rate_limit_per_10s=FAST_LIMIT
    )


@pytest.fixture
def reader(default_portal: PortalConfig) -> Iterator[HubSpotClient]:
    client = open_client(default_portal, Secret(DEMO_TOKEN))
    yield client
    client.close()


def statuses(coverage: Any) -> dict[str, CoverageStatus]:
    return {c.scope: c.status for c in coverage}


def part(coverage: tuple[KindCoverage, ...], scope: str) -> KindCoverage:
    return next(c for c in coverage if c.scope == scope)


def test_task_leads_and_custom_object_pipelines_are_read_and_audited(
    store: Store,
    shared_hubspot: Path,
    portal_dirs: dict[str, Path],
    default_portal: PortalConfig,
    reader: HubSpotClient,
) -> None:
    night = portal_dirs["night1"]
    tasks = json.loads((shared_hubspot / "samples" / "pipelines-tasks.json").read_text())
    (night / "pipelines" / "tasks.json").write_text(json.dumps(tasks["results"]))
    (night / "pipelines" / "leads.json").write_text(json.dumps(LEADS))
    (night / "pipelines" / f"{CUSTOM}.json").write_text(json.dumps(ONBOARDING))

    snapshot = take_snapshot(store, default_portal, reader)
    status = statuses(snapshot.coverage)
    for read in ("deals", "tickets", "tasks", "leads", CUSTOM, "p48151623_subscription"):
        assert status[f"pipeline:{read}"] is CoverageStatus.COMPLETE, read
    for lacking in NOT_IN_THE_DEMO:
        assert status[f"pipeline:{lacking}"] is CoverageStatus.UNSUPPORTED, lacking
    task_pipeline = tasks["results"][0]["id"]
    items = store.snapshot_items(snapshot.id)
    for key in (
        f"pipeline:tasks:{task_pipeline}",
        "pipeline:leads:lead-pipeline-id",
        f"pipeline:{CUSTOM}:88140231",
    ):
        assert key in items
    baseline = approve_baseline(store, "demo", snapshot, "Council", "every pipeline")
    assert {"pipeline:tasks", "pipeline:leads", f"pipeline:{CUSTOM}"} <= set(baseline.scopes)

    def relabel(pipelines: list[dict[str, Any]], stage_id: str, label: str) -> None:
        next(s for p in pipelines for s in p["stages"] if s["id"] == stage_id)["label"] = label

    deferred = tasks["results"][0]["stages"][4]["id"]
    edit_json(night, "pipelines/tasks.json", lambda d: relabel(d, deferred, "On hold"))
    edit_json(night, "pipelines/leads.json", lambda d: relabel(d, "new-stage-id", "Fresh"))
    edit_json(night, f"pipelines/{CUSTOM}.json", lambda d: relabel(d, "88140233", "Launched"))
    result = run_audit(store, default_portal, reader)

    assert {(c.key, c.field) for c in result.changes} == {
        (f"pipeline:tasks:{task_pipeline}", f"stages.{deferred}.label"),
        ("pipeline:leads:lead-pipeline-id", "stages.new-stage-id.label"),
        (f"pipeline:{CUSTOM}:88140231", "stages.88140233.label"),
    }
    assert len(result.defects.opened) == 3
    assert result.not_verified == ()
    # the report's coverage names every pipeline part, read or not in the subscription
    document = json.loads(render(result, "json"))
    parts = document["snapshot"]["coverage"]["pipeline"]["parts"]
    assert parts["pipeline:tasks"]["status"] == "complete"
    assert parts["pipeline:services"]["status"] == "unsupported"
    assert "pipeline 6/11 (5 unsupported)" in render(result, "text")


def test_a_refused_scope_fails_a_pipeline_part_and_a_tier_without_the_type_does_not(
    emulator: PortalEmulator, default_portal: PortalConfig, reader: HubSpotClient
) -> None:
    emulator.inject(
        "/crm/v3/pipelines/tasks", 403, body=missing_scopes_body(["crm.objects.tasks.read"])
    )
    emulator.inject(
        "/crm/v3/pipelines/leads",
        403,
        body=error_body("Leads are not available on this portal's tier", "FEATURE_NOT_ENABLED"),
    )
    status = statuses(check_portal(default_portal, reader))
    assert status["pipeline:tasks"] is CoverageStatus.FAILED
    assert status["pipeline:leads"] is CoverageStatus.UNSUPPORTED
    assert status["pipeline:services"] is CoverageStatus.UNSUPPORTED  # HubSpot's 400
    assert emulator.calls["GET /crm/v3/pipelines/services"] == 1


def test_association_limits_are_read_in_one_call_with_the_keys_they_had(
    store: Store,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    default_portal: PortalConfig,
    reader: HubSpotClient,
) -> None:
    snapshot = take_snapshot(store, default_portal, reader)
    assert emulator.calls[LIMITS_ALL] == 1
    assert not [c for c in emulator.calls if "/definitions/configurations/" in c and "all" not in c]
    labels = [c for c in emulator.calls if c.endswith("/labels")]
    assert len(labels) == 36  # six object types (four standard, two custom), every ordered pair
    items = store.snapshot_items(snapshot.id)
    associations = json.loads((portal_dirs["night1"] / "associations.json").read_text())
    for association in associations:
        key = "association_label:{fromObjectTypeId}:{toObjectTypeId}:{category}:{typeId}"
        assert key.format(**association) in items
    limited = items["association_label:0-3:0-1:USER_DEFINED:103"]
    # the canonical form the per-pair reads gave: baselines approved before see no drift
    assert store.load_payloads([limited.canonical_hash])[limited.canonical_hash] == {
        "category": "USER_DEFINED",
        "typeId": 103,
        "label": "Decision maker",
        "userEnforcedMaxToObjectIds": 3,
    }
    unlimited = items["association_label:0-1:0-2:HUBSPOT_DEFINED:1"]
    payload = store.load_payloads([unlimited.canonical_hash])[unlimited.canonical_hash]
    assert payload.get("userEnforcedMaxToObjectIds") is None


def test_refused_limits_fail_every_label_part_after_one_call(
    emulator: PortalEmulator, default_portal: PortalConfig, reader: HubSpotClient
) -> None:
    emulator.inject(
        "/crm/associations/v4/definitions/configurations/all",
        403,
        body=missing_scopes_body(["crm.objects.contacts.read"]),
    )
    coverage = check_portal(default_portal, reader)
    labels = [c for c in coverage if c.kind is Kind.ASSOCIATION_LABEL]
    assert len(labels) == 36
    assert {c.status for c in labels} == {CoverageStatus.FAILED}
    assert all((c.reason or "").startswith("MISSING_SCOPES: association limits") for c in labels)
    assert {c.scopes for c in labels} == {("crm.objects.contacts.read",)}
    assert emulator.calls[LIMITS_ALL] == 1
    assert not [c for c in emulator.calls if c.endswith("/labels")]  # nothing read in vain


def test_limits_that_contradict_each_other_fail_their_pair() -> None:
    limits = AssociationLimits(
        [
            {"category": "USER_DEFINED", "typeId": 7, "userEnforcedMaxToObjectIds": 2},
            {"category": "USER_DEFINED", "typeId": 7, "userEnforcedMaxToObjectIds": 5},
            {"category": "USER_DEFINED", "typeId": 8, "userEnforcedMaxToObjectIds": 1},
            {
                "category": "USER_DEFINED",
                "typeId": 9,
                "fromObjectTypeId": "0-1",
                "toObjectTypeId": "0-2",
                "userEnforcedMaxToObjectIds": 4,
            },
        ]
    )
    assert limits.limit("0-1", "0-2", "USER_DEFINED", 8) == 1
    assert limits.limit("0-1", "0-2", "USER_DEFINED", 9) == 4
    assert limits.limit("0-2", "0-1", "USER_DEFINED", 9) is None  # named for another pair
    assert limits.limit("0-1", "0-2", "HUBSPOT_DEFINED", 1) is None
    with pytest.raises(KindUnreadable, match="2 different limits"):
        limits.limit("0-1", "0-2", "USER_DEFINED", 7)


def _no_none_anywhere(emulator: PortalEmulator, keys: Any) -> None:
    assert not [c for c in emulator.calls if "None" in c]
    assert not [k for k in keys if "None" in k]


def test_a_schema_without_object_type_id_gets_it_from_its_id(
    store: Store,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    default_portal: PortalConfig,
    reader: HubSpotClient,
) -> None:
    edit_json(portal_dirs["night1"], "schemas.json", lambda d: d[0].pop("objectTypeId"))
    snapshot = take_snapshot(store, default_portal, reader)
    status = statuses(snapshot.coverage)
    assert status["association_label:2-3508482:0-2"] is CoverageStatus.COMPLETE
    items = store.snapshot_items(snapshot.id)
    assert "association_label:2-3508482:0-2:USER_DEFINED:201" in items
    _no_none_anywhere(emulator, items)


def test_a_schema_with_no_type_id_to_derive_fails_its_association_part_alone(
    store: Store,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    default_portal: PortalConfig,
    reader: HubSpotClient,
) -> None:
    def anonymous(schemas: list[dict[str, Any]]) -> None:
        schemas[0].pop("objectTypeId")
        schemas[0]["id"] = "subscription-schema"

    edit_json(portal_dirs["night1"], "schemas.json", anonymous)
    snapshot = take_snapshot(store, default_portal, reader)
    failed = [c for c in snapshot.coverage if c.status is CoverageStatus.FAILED]
    assert [c.scope for c in failed] == ["association_label:p48151623_subscription"]
    assert "gives no objectTypeId" in (failed[0].reason or "")
    status = statuses(snapshot.coverage)
    assert status["object_schema"] is CoverageStatus.COMPLETE
    assert status["property:p48151623_subscription"] is CoverageStatus.COMPLETE
    assert status["association_label:2-3508483:0-1"] is CoverageStatus.COMPLETE
    _no_none_anywhere(emulator, store.snapshot_items(snapshot.id))


def test_overlapping_property_reads_merge_and_a_contradiction_fails_one_property(
    store: Store,
    portal_dirs: dict[str, Path],
    default_portal: PortalConfig,
    reader: HubSpotClient,
) -> None:
    night = portal_dirs["night1"]
    approve_baseline(
        store, "demo", take_snapshot(store, default_portal, reader), "Council", "before"
    )

    def overlap(properties: list[dict[str, Any]]) -> None:
        by_name = {p["name"]: p for p in properties}
        properties.append(dict(by_name["dealname"]))  # the same, twice
        properties.append({**by_name["amount"], "archived": True, "label": "Old amount"})
        properties.append(
            {**by_name["legacy_forecast_bucket"], "label": "Other", "dataSensitivity": "sensitive"}
        )
        by_name["closedate"]["label"] = "Close date (UTC)"  # a real change beside them

    edit_json(night, "properties/deals.json", overlap)
    result = run_audit(store, default_portal, reader)

    assert {(c.key, c.field) for c in result.changes} == {("property:deals:closedate", "label")}
    deals = part(result.snapshot.coverage, "property:deals")
    assert deals.status is CoverageStatus.COMPLETE
    assert "name=legacy_forecast_bucket" in deals.unverified
    assert "the live one kept: amount" in (deals.reason or "")
    assert "not verified: legacy_forecast_bucket" in (deals.reason or "")
    items = store.snapshot_items(result.snapshot.id)
    assert "property:deals:legacy_forecast_bucket" not in items
    amount = items["property:deals:amount"]
    assert store.load_payloads([amount.raw_hash])[amount.raw_hash].get("archived") is not True


def test_a_contradicted_lifecyclestage_leaves_its_stages_unread_not_removed(
    portal_dirs: dict[str, Path], default_portal: PortalConfig, reader: HubSpotClient
) -> None:
    def twice(properties: list[dict[str, Any]]) -> None:
        stage = next(p for p in properties if p["name"] == "lifecyclestage")
        properties.append({**stage, "label": "Stage", "dataSensitivity": "sensitive"})

    edit_json(portal_dirs["night1"], "properties/contacts.json", twice)
    coverage = tuple(check_portal(default_portal, reader))
    contacts = part(coverage, "property:contacts")
    assert contacts.status is CoverageStatus.COMPLETE
    assert contacts.unverified == ("name=lifecyclestage",)
    stages = part(coverage, "lifecycle_stage:contacts")
    assert stages.status is CoverageStatus.FAILED
    assert "lifecyclestage property could not be read" in (stages.reason or "")
    assert part(coverage, "lifecycle_stage:companies").status is CoverageStatus.COMPLETE
