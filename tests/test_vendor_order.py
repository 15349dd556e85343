"""HubSpot's own changes apart (DESIGN.md rule 10) and order as order (rule 1), end to end over
real HTTP to the emulator: the portal's files are edited between the baseline and the audit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hubaudit.config import PortalConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.errors import UsageError
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.changes import ChangeOp, Classification
from hubaudit.model.defects import DefectStatus
from hubaudit.report import render
from hubaudit.services.actor import Actor
from hubaudit.services.audit_run import run_audit
from hubaudit.services.baselines import decide_baseline, propose_from_snapshot
from hubaudit.services.triage import accept_defects
from hubaudit.store.repository import Store

from .conftest import baseline_from_night1
from .test_cli import approve, config_path, run  # noqa: F401 - the fixture is used by name

ROLLOUT = {
    "name": "hs_ai_summary",
    "label": "AI summary",
    "type": "string",
    "fieldType": "textarea",
    "description": "A summary of the record written by HubSpot's AI.",
    "groupName": "contactinformation",
    "options": [],
    "displayOrder": -1,
    "modificationMetadata": {
        "archivable": False,
        "readOnlyDefinition": True,
        "readOnlyValue": True,
    },
    "hubspotDefined": True,
    "createdAt": "2026-11-20T08:00:00Z",
    "updatedAt": "2026-11-20T08:00:00Z",
}


def edit(path: Path, change: Callable[[Any], Any]) -> None:
    """Edit one of the emulator's JSON files in place (the fixture's own layout)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data = change(data) or data
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def edit_property(night: Path, object_type: str, name: str, change: Callable[[Any], Any]) -> None:
    def one(properties: list[dict[str, Any]]) -> None:
        change(next(p for p in properties if p["name"] == name))

    edit(night / "properties" / f"{object_type}.json", one)


def insert_numbered(siblings: list[dict[str, Any]], at: int, new: dict[str, Any]) -> None:
    """Insert ``new`` at ``at`` and renumber every sibling, as HubSpot does."""
    siblings.insert(at, new)
    for number, sibling in enumerate(siblings):
        sibling["displayOrder"] = number


def swap_numbers(siblings: list[dict[str, Any]], a: str, b: str, field: str = "id") -> None:
    first = next(s for s in siblings if s[field] == a)
    second = next(s for s in siblings if s[field] == b)
    first["displayOrder"], second["displayOrder"] = second["displayOrder"], first["displayOrder"]


def test_a_hubspot_rollout_is_vendor_in_its_own_section_and_counted(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    night = portal_dirs["night1"]
    edit(night / "properties" / "contacts.json", lambda props: props.append(dict(ROLLOUT)))
    # HubSpot adds one of its own association types, and relabels one
    hubspot_type = {
        "fromObjectTypeId": "0-1",
        "toObjectTypeId": "0-2",
        "category": "HUBSPOT_DEFINED",
        "typeId": 449,
        "label": "Former employer",
    }

    def hubspot_labels(labels: list[dict[str, Any]]) -> None:
        labels.append(hubspot_type)
        labels[0]["label"] = "Primary company"

    edit(night / "associations.json", hubspot_labels)
    # HubSpot rewrites the description of one of its own properties; nobody in the portal did
    edit_property(night, "companies", "industry", lambda p: p.update(description="Industry."))
    emulator.load(night)

    result = run_audit(store, portal, client)
    by_key = {(c.key, c.field): c for c in result.changes}
    rollout = by_key[("property:contacts:hs_ai_summary", None)]
    rewrite = by_key[("property:companies:industry", "description")]
    assert (rollout.classification, rollout.op) == (Classification.VENDOR, ChangeOp.ADDED)
    assert rewrite.classification is Classification.VENDOR
    labels = [c for c in result.changes if c.kind.value == "association_label"]
    assert {(c.key, c.field) for c in labels} == {
        ("association_label:0-1:0-2:HUBSPOT_DEFINED:449", None),
        ("association_label:0-1:0-2:HUBSPOT_DEFINED:1", "label"),
    }
    assert all(c.classification is Classification.VENDOR for c in labels)
    assert rollout.note == "HubSpot added this default property (HubSpot-defined)"
    assert result.unplanned == () and result.defects.opened == ()
    assert result.kpis is not None and (result.kpis.vendor, result.kpis.unplanned) == (4, 0)

    text = render(result, "text")
    assert "No unplanned changes" in text
    section = text[text.index("HubSpot's own changes: 4") :]
    assert "+ property:contacts:hs_ai_summary" in section
    assert "4 by HubSpot itself" in text  # the KPIs
    assert "## HubSpot's own changes" in render(result, "md")
    assert "<h3>HubSpot's own changes</h3>" in render(result, "html")  # among the handled
    document = json.loads(render(result, "json"))
    assert (document["summary"]["vendor"], document["kpis"]["vendor"]) == (4, 4)
    sarif = json.loads(render(result, "sarif"))
    # no alert for HubSpot's own changes (the policy findings are alerts still)
    assert not [r for r in sarif["runs"][0]["results"] if r["ruleId"].startswith("drift/")]
    assert len(sarif["runs"][0]["properties"]["vendor_changes"]) == 4


def test_the_config_can_govern_hubspots_items_and_the_exit_code_follows(
    config_path: Path,  # noqa: F811 - the fixture from test_cli
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert approve(config, "latest", "Ada")[0] == 0
    night = portal_dirs["night1"]
    edit(night / "properties" / "contacts.json", lambda props: props.append(dict(ROLLOUT)))
    emulator.load(night)

    code, out = run("--config", config, "audit", "--portal", "demo", "--format", "json")
    assert code == 0  # HubSpot's rollout is not the team's drift
    (change,) = json.loads(out)["changes"]
    assert change["classification"] == "vendor"

    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(
        text + '\n[governance]\nvendor_governed = ["property:contacts:hs_*"]\n', encoding="utf-8"
    )
    code, out = run("--config", config, "audit", "--portal", "demo", "--format", "json")
    assert code == 2  # the team governs it: a defect
    (change,) = json.loads(out)["changes"]
    assert (change["classification"], change["defect_id"] is not None) == ("defect", True)

    config_path.write_text(
        text + '\n[governance]\nvendor_governed = ["contact:*"]\n', encoding="utf-8"
    )
    code, _ = run("--config", config, "audit", "--portal", "demo")
    assert code == 1  # a pattern that names no kind: a config error naming the line


def test_the_teams_edits_of_hubspot_defined_items_stay_defects(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    night = portal_dirs["night1"]

    def relabel_lead(lifecycle: dict[str, Any]) -> None:
        next(o for o in lifecycle["options"] if o["value"] == "lead")["label"] = "Prospect"

    edit_property(night, "contacts", "lifecyclestage", relabel_lead)
    edit_property(night, "contacts", "hs_lead_status", lambda p: p.update(hidden=True))
    # a description HubSpot owns, but HubSpot names the portal user who rewrote it
    edit_property(
        night,
        "companies",
        "industry",
        lambda p: p.update(description="Our ICP segments.", updatedUserId="2305117"),
    )
    emulator.load(night)

    result = run_audit(store, portal, client)
    by_key = {(c.key, c.field): c for c in result.changes}
    assert set(by_key) == {
        ("lifecycle_stage:contacts:lead", "label"),
        ("property:contacts:hs_lead_status", "hidden"),
        ("property:companies:industry", "description"),
    }
    assert all(c.classification is Classification.DEFECT for c in result.changes)
    assert len(result.defects.opened) == 3


def test_an_inserted_stage_or_option_is_one_change(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    night = portal_dirs["night1"]

    def new_lifecycle_stage(lifecycle: dict[str, Any]) -> None:
        stage = {"label": "Nurture", "value": "nurture", "hidden": False}
        insert_numbered(lifecycle["options"], 2, stage)

    def new_deal_stage(pipelines: list[dict[str, Any]]) -> None:
        stage = {
            "label": "Discovery call",
            "id": "discoverycall",
            "metadata": {"isClosed": "false", "probability": "0.3"},
            "archived": False,
        }
        insert_numbered(pipelines[0]["stages"], 1, stage)

    def new_option(tier: dict[str, Any]) -> None:
        insert_numbered(tier["options"], 0, {"label": "Copper", "value": "copper", "hidden": False})

    def new_pipeline(pipelines: list[dict[str, Any]]) -> None:
        renewals = {"label": "Renewals", "id": "renewals", "archived": False, "stages": []}
        insert_numbered(pipelines, 0, renewals)

    edit_property(night, "contacts", "lifecyclestage", new_lifecycle_stage)
    edit(night / "pipelines" / "deals.json", new_deal_stage)
    edit(night / "pipelines" / "deals.json", new_pipeline)
    edit_property(night, "contacts", "customer_tier", new_option)
    emulator.load(night)

    result = run_audit(store, portal, client)
    assert {(c.key, c.field, c.op) for c in result.changes} == {
        ("lifecycle_stage:contacts:nurture", None, ChangeOp.ADDED),
        ("pipeline:deals:default", "stages.discoverycall", ChangeOp.MODIFIED),
        ("property:contacts:customer_tier", "options.copper", ChangeOp.MODIFIED),
        ("pipeline:deals:renewals", None, ChangeOp.ADDED),
    }
    assert all(c.classification is Classification.DEFECT for c in result.changes)


def test_a_swap_of_two_stages_is_one_reorder_on_the_parent(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    night = portal_dirs["night1"]
    before = json.loads((night / "pipelines" / "deals.json").read_text(encoding="utf-8"))

    def swap_two_stages_and_two_lifecycle_stages() -> None:
        edit(
            night / "pipelines" / "deals.json",
            lambda p: swap_numbers(p[0]["stages"], "qualifiedtobuy", "presentationscheduled"),
        )
        edit_property(
            night,
            "contacts",
            "lifecyclestage",
            lambda p: swap_numbers(p["options"], "lead", "subscriber", field="value"),
        )
        emulator.load(night)

    swap_two_stages_and_two_lifecycle_stages()

    result = run_audit(store, portal, client)
    by_key = {(c.key, c.field): c for c in result.changes}
    assert set(by_key) == {
        ("pipeline:deals:default", "stages order"),
        ("lifecycle_stage:contacts", "stages order"),
    }
    stages = by_key[("pipeline:deals:default", "stages order")]
    labels = [s["label"] for s in sorted(before[0]["stages"], key=lambda s: s["displayOrder"])]
    assert stages.before == labels
    assert stages.after == [labels[0], labels[2], labels[1], *labels[3:]]
    lifecycle = by_key[("lifecycle_stage:contacts", "stages order")]
    assert lifecycle.after[:2] == ["Lead", "Subscriber"]
    assert len(result.defects.opened) == 2
    assert "~ lifecycle_stage:contacts" in render(result, "text")

    # put back: both reorder defects resolve, as any reverted drift does
    swap_two_stages_and_two_lifecycle_stages()  # again: back as they were
    reverted = run_audit(store, portal, client)
    assert reverted.changes == ()
    assert set(reverted.defects.resolved) == set(result.defects.opened)


def test_a_reorder_the_council_takes_in_is_accepted(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    night = portal_dirs["night1"]
    edit(
        night / "pipelines" / "deals.json",
        lambda p: swap_numbers(p[0]["stages"], "contractsent", "decisionmakerboughtin"),
    )
    edit_property(
        night,
        "contacts",
        "lifecyclestage",
        lambda p: swap_numbers(p["options"], "customer", "opportunity", field="value"),
    )
    emulator.load(night)
    result = run_audit(store, portal, client)
    by_key = {(c.key, c.field): c.defect_id for c in result.changes}
    stages = by_key[("pipeline:deals:default", "stages order")]
    lifecycle = by_key[("lifecycle_stage:contacts", "stages order")]
    assert stages is not None and lifecycle is not None

    # a pipeline's stages are in its item: accepting the defect renumbers them in the proposal
    with pytest.raises(UsageError, match="approve a baseline from a snapshot"):
        accept_defects(store, "demo", [lifecycle], Actor("Rita"), "the new order is right")
    accept_defects(store, "demo", [stages], Actor("Rita"), "the new order is right")
    decide_baseline(store, "demo", None, True, Actor("Council"), "agreed")
    after = run_audit(store, portal, client)
    assert [(c.key, c.field) for c in after.changes] == [
        ("lifecycle_stage:contacts", "stages order")
    ]
    # the lifecycle stages' order is held by the stages: a baseline from the snapshot takes it in
    propose_from_snapshot(store, "demo", after.snapshot, Actor("Rita"), "lifecycle order agreed")
    decide_baseline(store, "demo", None, True, Actor("Council"), "agreed")
    assert run_audit(store, portal, client).changes == ()
    statuses = {d.id: d.status for d in store.defects("demo", ids=[stages, lifecycle])}
    assert statuses == {stages: DefectStatus.ACCEPTED, lifecycle: DefectStatus.ACCEPTED}
