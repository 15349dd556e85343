"""Real responses from real portals (../shared/hubspot/samples), read through the emulator over
HTTP: nothing lost (raw JSON in = raw JSON stored) and no noise from reordering."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from hubaudit.config import PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.services.audit_run import approve_baseline, open_client, run_audit, take_snapshot
from hubaudit.store.repository import Store

from .conftest import FAST_LIMIT, edit_json

PROPERTY_SAMPLES = (
    "contacts",
    "companies",
    "deals",
    "calls",
    "emails",
    "meetings",
    "notes",
    "tasks",
)


def write_portal(shared: Path, target: Path, shuffle: random.Random | None = None) -> None:
    for object_type in PROPERTY_SAMPLES:
        results = json.loads((shared / "samples" / f"properties-{object_type}.json").read_text())[
            "results"
        ]
        if shuffle is not None:
            shuffle.shuffle(results)
            for prop in results:
                shuffle.shuffle(prop["options"])
        (target / "properties").mkdir(parents=True, exist_ok=True)
        (target / "properties" / f"{object_type}.json").write_text(json.dumps(results))
    pipelines = json.loads((shared / "samples" / "pipelines-tasks.json").read_text())["results"]
    if shuffle is not None:
        shuffle.shuffle(pipelines)
        for pipeline in pipelines:
            shuffle.shuffle(pipeline["stages"])
    (target / "pipelines").mkdir(parents=True, exist_ok=True)
    (target / "pipelines" / "tasks.json").write_text(json.dumps(pipelines))


def samples_portal(base_url: str) -> PortalConfig:
    """A portal that reads just what the samples hold."""
    return PortalConfig(
        name="real",
        base_url=base_url,
        token_env="T",
        rate_limit_per_10s=FAST_LIMIT,
        property_object_types=PROPERTY_SAMPLES,
        pipeline_object_types=("tasks",),
        association_object_types=(),
        include_custom_objects=False,
    )


def sample_results(shared: Path, name: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads((shared / "samples" / name).read_text())["results"]
    return results


def test_real_samples_are_stored_losslessly_and_reordering_is_not_drift(
    shared_hubspot: Path, store: Store, tmp_path: Path
) -> None:
    write_portal(shared_hubspot, tmp_path / "as-sent")
    write_portal(shared_hubspot, tmp_path / "reordered", random.Random(5))
    with PortalEmulator(tmp_path / "as-sent", rate_limit_per_10s=FAST_LIMIT) as emulator:
        portal = samples_portal(emulator.base_url)
        client = open_client(portal, Secret(DEMO_TOKEN))
        try:
            snapshot = take_snapshot(store, portal, client)
            items = store.snapshot_items(snapshot.id)
            for object_type in PROPERTY_SAMPLES:
                served = sample_results(shared_hubspot, f"properties-{object_type}.json")
                keys = [f"property:{object_type}:{p['name']}" for p in served]
                stored = store.load_payloads(items[k].raw_hash for k in keys)
                assert [stored[items[k].raw_hash] for k in keys] == served, object_type
            tasks = sample_results(shared_hubspot, "pipelines-tasks.json")
            stored = store.load_payloads(items[f"pipeline:tasks:{p['id']}"].raw_hash for p in tasks)
            assert sorted(stored.values(), key=lambda p: p["id"]) == sorted(
                tasks, key=lambda p: p["id"]
            )

            approve_baseline(store, "real", snapshot, "Council", "real portal")
            emulator.load(tmp_path / "reordered")
            result = run_audit(store, portal, client)
        finally:
            client.close()
    assert result.changes == ()
    assert result.not_verified == ()
    assert snapshot.item_count == len(items) > 1000


def test_real_quirks_are_kept_as_sent(shared_hubspot: Path) -> None:
    from hubaudit.hubspot.collectors.pipelines import canonical_pipeline
    from hubaudit.hubspot.collectors.properties import canonical_property

    deals = {p["name"]: p for p in sample_results(shared_hubspot, "properties-deals.json")}
    dealstage = canonical_property(deals["dealstage"])
    assert dealstage["externalOptions"] is True and dealstage["options"] == {}
    field_types = {canonical_property(p)["fieldType"] for p in deals.values()}
    assert "calculation_read_time" in field_types  # read-only values outside the create enum
    pipeline = canonical_pipeline(sample_results(shared_hubspot, "pipelines-tasks.json")[0])
    metadata = next(iter(pipeline["stages"].values()))["metadata"]
    assert all(isinstance(value, str) for value in metadata.values())


CONTRACT = [
    # (spec file, path in the spec, method, path asked of the emulator, JSON body)
    (
        "crm-properties-v3.json",
        "/crm/v3/properties/{objectType}",
        "get",
        "/crm/v3/properties/contacts?archived=false",
        None,
    ),
    (
        "crm-properties-v3.json",
        "/crm/v3/properties/{objectType}",
        "get",
        "/crm/v3/properties/deals?archived=true",
        None,
    ),
    (
        "crm-properties-v3.json",
        "/crm/v3/properties/{objectType}",
        "get",
        "/crm/v3/properties/contacts?dataSensitivity=highly_sensitive",
        None,
    ),
    (
        "crm-properties-2026-03.json",
        "/crm/properties/2026-03/{objectType}",
        "get",
        "/crm/properties/2026-03/p48151623_subscription",
        None,
    ),
    (
        "crm-properties-v3.json",
        "/crm/v3/properties/{objectType}/groups",
        "get",
        "/crm/v3/properties/contacts/groups",
        None,
    ),
    (
        "crm-pipelines-v3.json",
        "/crm/v3/pipelines/{objectType}",
        "get",
        "/crm/v3/pipelines/deals",
        None,
    ),
    (
        "crm-pipelines-2026-03.json",
        "/crm/pipelines/2026-03/{objectType}",
        "get",
        "/crm/pipelines/2026-03/tickets",
        None,
    ),
    (
        "crm-pipelines-v3.json",
        "/crm/v3/pipelines/{objectType}/{pipelineId}",
        "get",
        "/crm/v3/pipelines/contacts/contacts-lifecycle-pipeline",
        None,
    ),
    (
        "crm-pipelines-v3.json",
        "/crm/v3/pipelines/{objectType}/{pipelineId}/audit",
        "get",
        "/crm/v3/pipelines/deals/default/audit",
        None,
    ),
    (
        "crm-schemas-v3.json",
        "/crm-object-schemas/v3/schemas",
        "get",
        "/crm-object-schemas/v3/schemas",
        None,
    ),
    (
        "crm-associations-schema-v4.json",
        "/crm/associations/v4/{fromObjectType}/{toObjectType}/labels",
        "get",
        "/crm/associations/v4/0-1/0-2/labels",
        None,
    ),
    (
        "crm-associations-schema-v4.json",
        "/crm/associations/v4/definitions/configurations/{fromObjectType}/{toObjectType}",
        "get",
        "/crm/associations/v4/definitions/configurations/0-3/0-1",
        None,
    ),
    (
        "crm-associations-schema-v4.json",
        "/crm/associations/v4/definitions/configurations/all",
        "get",
        "/crm/associations/v4/definitions/configurations/all",
        None,
    ),
    ("settings-users-v3.json", "/settings/users/v3", "get", "/settings/users/v3?limit=10", None),
    ("settings-users-v3.json", "/settings/v3/users/teams", "get", "/settings/v3/users/teams", None),
    ("settings-users-v3.json", "/settings/v3/users/roles", "get", "/settings/v3/users/roles", None),
    (
        "automation-flows-v4.json",
        "/automation/v4/flows",
        "get",
        "/automation/v4/flows?limit=5",
        None,
    ),
    (
        "automation-flows-v4.json",
        "/automation/v4/flows/batch/read",
        "post",
        "/automation/v4/flows/batch/read",
        {
            "inputs": [
                {"type": "FLOW_ID", "flowId": "1201001"},
                {"type": "FLOW_ID", "flowId": "1201004"},
            ]
        },
    ),
    (  # list-based enrollment, list and static branches: what the dependency graph reads
        "automation-flows-v4.json",
        "/automation/v4/flows/batch/read",
        "post",
        "/automation/v4/flows/batch/read",
        {"inputs": [{"type": "FLOW_ID", "flowId": f"12010{n}"} for n in (24, 25, 26, 27)]},
    ),
    ("account-info-v3.json", "/account-info/v3/details", "get", "/account-info/v3/details", None),
]


@pytest.mark.parametrize(("spec", "spec_path", "method", "path", "body"), CONTRACT)
def test_emulator_responses_match_hubspots_openapi_schemas(
    shared_hubspot: Path,
    emulator: PortalEmulator,
    spec: str,
    spec_path: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    """Every endpoint the emulator serves answers in the shape HubSpot's published spec gives."""
    import httpx
    import jsonschema

    document = json.loads((shared_hubspot / "openapi" / spec).read_text())
    if spec == "automation-flows-v4.json":
        # The one relaxation: the generated spec types every action field as an object, while
        # HubSpot's own examples and real flows send strings ("property_name": "dealstage").
        action = document["components"]["schemas"]["ApiSingleConnectionAction"]
        action["properties"]["fields"]["additionalProperties"] = {}
    operation = document["paths"][spec_path][method]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    with httpx.Client(
        base_url=emulator.base_url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}
    ) as http:
        response = http.request(method.upper(), path, json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer.get("results", [answer]), "an empty list would prove nothing"
    # The schema's $refs point into the spec's components: validate against the whole document.
    jsonschema.validate(answer, {**document, **schema})


def test_a_real_custom_object_schema_is_read_losslessly(
    shared_hubspot: Path, store: Store, tmp_path: Path
) -> None:
    sample = json.loads((shared_hubspot / "samples" / "schema-custom-object.json").read_text())
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "schemas.json").write_text(json.dumps([sample]))
    with PortalEmulator(tmp_path / "portal") as emulator:
        portal = PortalConfig(
            name="real",
            base_url=emulator.base_url,
            token_env="T",
            property_object_types=(),
            pipeline_object_types=(),
            association_object_types=(),
        )
        client = open_client(portal, Secret(DEMO_TOKEN))
        try:
            snapshot = take_snapshot(store, portal, client)
        finally:
            client.close()
    key = f"object_schema:{sample['fullyQualifiedName']}"
    item = store.snapshot_items(snapshot.id)[key]
    payloads = store.load_payloads([item.raw_hash, item.canonical_hash])
    assert payloads[item.raw_hash] == sample  # metaType, restorable, cardinality: all kept
    canonical = payloads[item.canonical_hash]
    assert "properties" not in canonical and "associations" not in canonical  # items of their own
    assert canonical["requiredProperties"] == sorted(sample["requiredProperties"])
    # its properties are read as the custom object's own part
    assert f"property:{sample['fullyQualifiedName']}" in {c.scope for c in snapshot.coverage}


def _by(items: list[dict[str, Any]], field: str, value: str) -> dict[str, Any]:
    return next(item for item in items if item.get(field) == value)


# (what a portal user did, the file and how, the one change expected as (key, field, severity))
REAL_CHANGES: list[tuple[str, str, Any, set[tuple[str, str | None, str]]]] = [
    (
        "a text property became a number",
        "properties/deals.json",
        lambda d: _by(d, "name", "billing_contact_email").update(type="number"),
        {("property:deals:billing_contact_email", "type", "critical")},
    ),
    (
        "a property was archived",
        "properties/deals.json",
        lambda d: _by(d, "name", "gif_announcement").update(archived=True),
        {("property:deals:gif_announcement", "archived", "high")},
    ),
    (
        "a dropdown lost an option",
        "properties/deals.json",
        lambda d: _by(d, "name", "inbound_outbound")["options"].pop(0),
        {("property:deals:inbound_outbound", "options.INBOUND", "high")},
    ),
    (
        "an option was relabelled",
        "properties/deals.json",
        lambda d: _by(d, "name", "nps_status")["options"][0].update(label="Sent (v2)"),
        {("property:deals:nps_status", "options.Detractors (0-6).label", "low")},
    ),
    (
        "a property was deleted",  # one of the team's: HubSpot's own are not theirs to delete
        "properties/contacts.json",
        lambda d: d.remove(_by(d, "name", "blog_subscriber")),
        {("property:contacts:blog_subscriber", None, "high")},
    ),
    (
        "a task stage was deleted",
        "pipelines/tasks.json",
        lambda d: d[0]["stages"].pop(4),
        {
            (
                "pipeline:tasks:3d314325-1b2a-4225-9388-375f49c57ec3",
                "stages.fc8148fb-3a2d-4b59-834e-69b7859347cb",
                "critical",
            )
        },
    ),
    (
        "a stage was reopened",
        "pipelines/tasks.json",
        lambda d: d[0]["stages"][5]["metadata"].update(isClosed="false"),
        {
            (
                "pipeline:tasks:3d314325-1b2a-4225-9388-375f49c57ec3",
                "stages.6049725638.metadata.isClosed",
                "high",
            )
        },
    ),
    (
        "noise only: new timestamps, reordered lists, false flags omitted",
        "properties/deals.json",
        lambda d: (
            [
                p.update(updatedAt="2030-01-01T00:00:00Z") or p.pop("hidden", None)
                for p in d
                if p.get("hidden") is False
            ]
            and d.reverse()
        ),
        set(),
    ),
]


@pytest.mark.slow
def test_each_real_change_is_found_exactly_and_reverting_it_resolves_it(
    shared_hubspot: Path, store: Store, tmp_path: Path
) -> None:
    """HubSpot's real responses, one realistic change at a time: exactly that change is found,
    with its field and severity; put back, its defect resolves itself."""
    import shutil

    write_portal(shared_hubspot, tmp_path / "base")
    with PortalEmulator(tmp_path / "base", rate_limit_per_10s=FAST_LIMIT) as emulator:
        portal = samples_portal(emulator.base_url)
        client = open_client(portal, Secret(DEMO_TOKEN))
        try:
            approve_baseline(store, "real", take_snapshot(store, portal, client), "C", "real")
            for what, name, change, expected in REAL_CHANGES:
                changed = tmp_path / what.replace(" ", "_").replace(":", "")
                shutil.copytree(tmp_path / "base", changed)
                edit_json(changed, name, change)
                emulator.load(changed)
                result = run_audit(store, portal, client)
                found = {(c.key, c.field, c.severity.value) for c in result.changes}
                assert found == expected, what
                emulator.load(tmp_path / "base")
                back = run_audit(store, portal, client)
                assert back.changes == (), what
                assert len(back.defects.resolved) == len(expected), what
        finally:
            client.close()
