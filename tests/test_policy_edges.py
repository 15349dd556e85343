"""Edges found in review: parts read without some items never resolve or unwaive a finding
about several items; deleted pipelines keep their dependents; numbered series are not copies;
hubaudit's own sightings of a workflow beat its updatedAt; workflows that are off do not raise
severity; an expired waiver can be renewed; the surface says when a part was read in part."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from hubaudit.analysis.dependencies import build_graph, workflow_property_uses
from hubaudit.config import ImpactConfig, parse_config
from hubaudit.errors import ConfigError
from hubaudit.hubspot.collectors.pipelines import canonical_pipeline
from hubaudit.hubspot.collectors.workflows import canonical_flow
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.findings import FindingStatus
from hubaudit.model.items import CoverageStatus, Kind, KindCoverage
from hubaudit.model.view import PastVersion, PortalView, ViewItem
from hubaudit.policies.impact import with_impact
from hubaudit.policies.surface import governed_surface
from hubaudit.services.audit_run import record_findings
from hubaudit.store.findings import FindingStore
from hubaudit.store.repository import Store

from .test_findings import night
from .test_policies import NOW, Portal, breaches, flow, prop


def test_a_finding_about_several_items_waits_for_a_whole_read(store: Store) -> None:
    portal = Portal()
    portal.groups["contacts"].append("legacy")  # empty: a finding
    portal.properties["contacts"] += [prop("lead_source_2", "Lead source (old)")]  # a copy
    _, found, _ = record_findings(store, portal.view(), {}, night(0))
    assert {f.policy for f in found} == {"group-empty", "property-duplicates"}
    duplicate = next(f for f in found if f.policy == "property-duplicates")
    FindingStore(store).waive(
        "acme",
        [duplicate.id],
        by="Rita",
        reason="merge in Q1",
        until=NOW + timedelta(days=30),
        at=NOW,
    )
    # tonight the sensitive properties could not be read, and the copy is one of them
    portal.unverified["property:contacts"] = ("dataSensitivity=sensitive",)
    portal.properties["contacts"].pop()
    update, _, resolved = record_findings(store, portal.view(), {}, night(1))
    assert update.resolved == () and resolved == []
    kept = {f.policy: f for f in FindingStore(store).findings("acme")}
    assert kept["group-empty"].status is FindingStatus.OPEN
    assert kept["property-duplicates"].status is FindingStatus.WAIVED


def test_a_custom_objects_setters_wait_for_the_schemas(store: Store) -> None:
    portal = Portal()
    custom = [flow("1", "A", sets="plan"), flow("2", "B", sets="plan")]
    for raw in custom:
        raw["objectTypeId"] = "2-77"
    portal.flows = custom
    view = portal.view()
    schema = ViewItem(
        Kind.OBJECT_SCHEMA,
        "object_schema:p1_cars",
        {"objectTypeId": "2-77", "fullyQualifiedName": "p1_cars"},
    )
    whole = PortalView(
        view.portal,
        view.snapshot_id,
        view.taken_at,
        {**view.items, schema.key: schema},
        {**view.complete, "object_schema": ()},
    )
    _, (finding,), _ = record_findings(store, whole, {}, night(0))
    assert finding.scopes == ("object_schema", "workflow")
    update, _, _ = record_findings(store, portal.view(), {}, night(1))  # schemas: 403
    assert update.resolved == ()


def test_a_deleted_pipeline_still_shows_the_workflows_using_its_stages() -> None:
    raw = {
        "id": "p9",
        "label": "Partner",
        "displayOrder": 1,
        "stages": [{"id": "s1", "label": "Signed", "displayOrder": 0, "metadata": {}}],
    }
    deal_flow = flow("5", "Partner handoff") | {"objectTypeId": "0-3"}
    deal_flow["actions"] = [
        {
            "type": "SINGLE_CONNECTION",
            "actionId": "1",
            "actionTypeId": "0-5",
            "actionTypeVersion": 0,
            "fields": {
                "property_name": "dealstage",
                "value": {"type": "STATIC_VALUE", "staticValue": "s1"},
            },
        }
    ]
    items = {"workflow:5": ViewItem(Kind.WORKFLOW, "workflow:5", canonical_flow(deal_flow))}
    view = PortalView("acme", 2, NOW, items, {})
    former = ViewItem(Kind.PIPELINE, "pipeline:deals:p9", canonical_pipeline(raw))
    assert build_graph(view).dependents("pipeline:deals:p9") == ()
    (uses,) = build_graph(view, [former]).dependents("pipeline:deals:p9")
    assert uses.detail == "sets stage s1 (Signed) in action 1"


def test_values_copied_in_custom_code_and_webhooks_are_reads() -> None:
    custom_code = {
        "type": "CUSTOM_CODE",
        "actionId": "1",
        "runtime": "NODE20X",
        "sourceCode": "exports.main = () => {}",
        "secretNames": [],
        "outputFields": [],
        "inputFields": [
            {"name": "tier", "value": {"type": "OBJECT_PROPERTY", "propertyName": "tier"}}
        ],
    }
    webhook = {
        "type": "WEBHOOK",
        "actionId": "2",
        "method": "POST",
        "webhookUrl": "https://x.example",
        "queryParams": [
            {"name": "o", "value": {"type": "OBJECT_PROPERTY", "propertyName": "owner"}}
        ],
    }
    setter = {
        "type": "SINGLE_CONNECTION",
        "actionId": "3",
        "actionTypeId": "0-5",
        "actionTypeVersion": 0,
        "fields": {
            "property_name": "notes_log",
            "value": {"type": "APPEND_OBJECT_PROPERTY", "appendPropertyName": "notes_log"},
        },
    }
    raw = flow("9", "Sync") | {"actions": [custom_code, webhook, setter]}
    uses = {
        (u.property, u.relation) for u in workflow_property_uses(canonical_flow(raw), "deals", {})
    }
    assert uses == {
        ("tier", "reads"),
        ("owner", "reads"),
        ("notes_log", "writes"),
        ("notes_log", "reads"),
    }


def test_a_numbered_series_is_not_a_set_of_copies() -> None:
    portal = Portal()
    portal.properties["contacts"] += [
        prop("address_line_1", "Address line 1"),
        prop("address_line_2", "Address line 2"),
        prop("q1_target", "Target Q1"),
        prop("q2_target", "Target Q2"),
    ]
    assert breaches(portal, "property-duplicates") == []
    portal.properties["contacts"].append(prop("address_line", "Address line"))
    (found,) = breaches(portal, "property-duplicates")
    assert len(found.detail["properties"]) == 3  # type: ignore[arg-type]


def test_a_workflow_hubaudit_saw_on_is_off_only_since_it_was_seen_off() -> None:
    portal = Portal()
    current = flow("1", "Nurture", enabled=False, updated="2026-06-01T00:00:00.000Z")
    portal.flows = [current]
    on = copy.deepcopy(current) | {"isEnabled": True}
    portal.past["workflow:1"] = [
        PastVersion(NOW - timedelta(days=180), canonical_flow(on), on),
        PastVersion(NOW - timedelta(days=1), canonical_flow(current), current),
    ]
    assert breaches(portal, "workflow-off") == []  # off for a day, whatever updatedAt says


def test_workflows_that_are_off_are_listed_but_raise_nothing() -> None:
    flows = {}
    for n in range(5):
        raw = flow(str(n), f"W{n}", enabled=n == 0) | {
            "enrollmentCriteria": {
                "type": "LIST_BASED",
                "listFilterBranch": {
                    "filterBranchType": "AND",
                    "filters": [{"filterType": "PROPERTY", "property": "tier", "operation": {}}],
                    "filterBranches": [],
                },
            }
        }
        flows[f"workflow:{n}"] = ViewItem(Kind.WORKFLOW, f"workflow:{n}", canonical_flow(raw))
    graph = build_graph(PortalView("acme", 1, NOW, flows, {}))
    change = Change(
        Kind.PROPERTY,
        "property:contacts:tier",
        ChangeOp.MODIFIED,
        "label",
        ("label",),
        1,
        2,
        severity=Severity.LOW,
    )
    (done,) = with_impact([change], graph, ImpactConfig(raise_at=(2,)))
    assert len(done.dependents) == 5 and sum(d.active for d in done.dependents) == 1
    assert done.severity is Severity.LOW


def test_an_expired_finding_waiver_can_be_renewed_before_the_next_audit(store: Store) -> None:
    portal = Portal()
    portal.properties["contacts"].append(prop("RegionCode", "Region code"))
    _, (finding,), _ = record_findings(store, portal.view(), {}, night(0))
    findings = FindingStore(store)
    findings.waive(
        "acme", [finding.id], by="Rita", reason="a", until=NOW + timedelta(days=1), at=NOW
    )
    (renewed,) = findings.waive(
        "acme",
        [finding.id],
        by="Rita",
        reason="b",
        until=NOW + timedelta(days=9),
        at=NOW + timedelta(days=2),
    )
    assert renewed.status is FindingStatus.WAIVED and renewed.waiver is not None
    assert renewed.waiver.reason == "b"


def test_the_surface_says_a_part_was_read_without_some_items() -> None:
    parts = [
        KindCoverage(
            Kind.PROPERTY,
            "property:contacts",
            CoverageStatus.COMPLETE,
            300,
            None,
            ("dataSensitivity=sensitive",),
        )
    ]
    (properties,) = [a for a in governed_surface(parts, [], NOW) if a.id == "property"]
    assert properties.status == "partly read"
    assert "dataSensitivity=sensitive" in properties.detail


def test_a_quoted_policy_table_still_names_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config('\n[policies."super-admins"]\nmax = "x"\n')
    assert (caught.value.line, caught.value.key) == (3, "policies.super-admins.max")


def test_half_an_emoji_in_a_label_is_stored_not_fatal(
    store: Store,
    portal: Any,
    client: Any,
    emulator: Any,
    portal_dirs: dict[str, Any],
) -> None:
    """HubSpot can cut a label inside an emoji: JSON allows the lone surrogate, UTF-8 not."""
    import json

    from hubaudit.services.audit_run import run_audit

    from .conftest import baseline_from_night1

    path = portal_dirs["night2"] / "properties" / "contacts.json"
    props = json.loads(path.read_text())
    next(p for p in props if p["name"] == "customer_tier")["label"] = "Tier \ud83d"
    path.write_text(json.dumps(props), encoding="utf-8")  # ensure_ascii keeps it escaped
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    result = run_audit(store, portal, client)
    (label,) = [c for c in result.changes if c.key.endswith("customer_tier") and c.field == "label"]
    stored = store.defect("demo", label.defect_id or 0)
    assert stored.label == "Tier \ufffd"
