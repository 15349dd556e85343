"""Real responses from real portals (../shared/hubspot/samples), read through the emulator over
HTTP: nothing lost (raw JSON in = raw JSON stored) and no noise from reordering."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from hubaudit.audit import approve_baseline, open_client, run_audit, take_snapshot
from hubaudit.config import PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.store.repository import Store

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


def sample_results(shared: Path, name: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads((shared / "samples" / name).read_text())["results"]
    return results


def test_real_samples_are_stored_losslessly_and_reordering_is_not_drift(
    shared_hubspot: Path, store: Store, tmp_path: Path
) -> None:
    write_portal(shared_hubspot, tmp_path / "as-sent")
    write_portal(shared_hubspot, tmp_path / "reordered", random.Random(5))
    with PortalEmulator(tmp_path / "as-sent") as emulator:
        portal = PortalConfig(
            name="real",
            base_url=emulator.base_url,
            token_env="T",
            property_object_types=PROPERTY_SAMPLES,
            pipeline_object_types=("tasks",),
            association_object_types=(),
            include_custom_objects=False,
        )
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


@pytest.mark.parametrize("spec", ["crm-properties-v3.json", "crm-pipelines-v3.json"])
def test_emulator_responses_match_hubspots_openapi_schemas(
    shared_hubspot: Path, emulator: PortalEmulator, spec: str
) -> None:
    """The emulator's list responses validate against HubSpot's published response schemas."""
    import httpx
    import jsonschema

    document = json.loads((shared_hubspot / "openapi" / spec).read_text())
    resource = "properties" if "properties" in spec else "pipelines"
    operation = document["paths"][f"/crm/v3/{resource}/{{objectType}}"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    resolver_root = {**document, **schema}
    with httpx.Client(
        base_url=emulator.base_url, headers={"Authorization": f"Bearer {DEMO_TOKEN}"}
    ) as http:
        for object_type in (
            ("contacts", "companies", "deals", "tickets")
            if resource == "properties"
            else ("deals", "tickets")
        ):
            body = http.get(f"/crm/v3/{resource}/{object_type}").json()
            jsonschema.validate(body, resolver_root)
