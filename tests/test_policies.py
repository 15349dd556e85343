"""Each built-in policy, on a portal that breaks it and one that keeps it.

Portals are built from HubSpot-shaped raw JSON put through the collectors' own canonical forms,
so a policy sees exactly what it sees on a real night."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hubaudit.config import PolicySettings, parse_config
from hubaudit.hubspot.collectors.pipelines import canonical_pipeline
from hubaudit.hubspot.collectors.properties import canonical_property
from hubaudit.hubspot.collectors.users import canonical_user
from hubaudit.hubspot.collectors.workflows import canonical_flow
from hubaudit.model.findings import Breach
from hubaudit.model.items import Kind
from hubaudit.model.view import PastVersion, PortalView, ViewItem
from hubaudit.policies.builtin import BUILTIN_POLICIES, evaluate

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def prop(
    name: str,
    label: str,
    group: str = "contactinformation",
    *,
    custom: bool = True,
    description: str = "Why it exists.",
    archived: bool = False,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": name,
        "label": label,
        "type": "string",
        "fieldType": "text",
        "description": description,
        "groupName": group,
        "options": [],
    }
    if custom:
        raw["archived"] = archived  # HubSpot omits hubspotDefined on custom properties
    else:
        raw["hubspotDefined"] = True
    return raw


def stage(
    stage_id: str, order: int, probability: str | None, closed: bool = False
) -> dict[str, Any]:
    metadata = {"isClosed": "true" if closed else "false"}
    if probability is not None:
        metadata["probability"] = probability
    return {
        "id": stage_id,
        "label": stage_id.title(),
        "displayOrder": order,
        "archived": False,
        "metadata": metadata,
    }


def sales_pipeline(stages: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "archived": False,
        "stages": stages
        if stages is not None
        else [
            stage("appointmentscheduled", 0, "0.2"),
            stage("qualifiedtobuy", 1, "0.4"),
            stage("contractsent", 2, "0.9"),
            stage("closedwon", 3, "1.0", closed=True),
            stage("closedlost", 4, "0.0", closed=True),
        ],
    }


def flow(
    flow_id: str,
    name: str,
    *,
    enabled: bool = True,
    sets: str | None = None,
    updated: str = "2026-11-20T10:00:00.000Z",
) -> dict[str, Any]:
    actions: list[dict[str, Any]] = []
    if sets:
        actions.append(
            {
                "type": "SINGLE_CONNECTION",
                "actionId": "1",
                "actionTypeId": "0-5",
                "actionTypeVersion": 0,
                "fields": {
                    "property_name": sets,
                    "value": {"type": "STATIC_VALUE", "staticValue": "x"},
                },
            }
        )
    return {
        "id": flow_id,
        "type": "CONTACT_FLOW",
        "isEnabled": enabled,
        "objectTypeId": "0-1",
        "name": name,
        "revisionId": "3",
        "updatedAt": updated,
        "actions": actions,
    }


def user(user_id: str, email: str, super_admin: bool = False) -> dict[str, Any]:
    return {"id": user_id, "email": email, "superAdmin": super_admin, "roleIds": []}


LIFECYCLE = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
]


class Portal:
    """A portal under construction: raw items per part, then a view of them."""

    def __init__(self) -> None:
        self.properties: dict[str, list[dict[str, Any]]] = {
            "contacts": [prop("lead_source", "Lead Source")]
        }
        self.groups: dict[str, list[str]] = {"contacts": ["contactinformation"]}
        self.pipelines = [sales_pipeline()]
        self.stages = {"contacts": list(LIFECYCLE)}
        self.flows: list[dict[str, Any]] = []
        self.users = [user("1", "a@x.example", True), user("2", "b@x.example")]
        self.unread: set[str] = set()
        self.unverified: dict[str, tuple[str, ...]] = {}
        self.past: dict[str, list[PastVersion]] = {}

    def view(self) -> PortalView:
        items: dict[str, ViewItem] = {}

        def add(kind: Kind, key: str, canonical: Mapping[str, Any], raw: Any = None) -> None:
            items[key] = ViewItem(kind, key, canonical, raw)

        scopes = ["user", "workflow"]
        for object_type, props in self.properties.items():
            scopes.append(f"property:{object_type}")
            for raw in props:
                add(Kind.PROPERTY, f"property:{object_type}:{raw['name']}", canonical_property(raw))
        for object_type, names in self.groups.items():
            scopes.append(f"property_group:{object_type}")
            for name in names:
                key = f"property_group:{object_type}:{name}"
                add(
                    Kind.PROPERTY_GROUP,
                    key,
                    {"label": name.title(), "displayOrder": 0, "archived": False},
                )
        scopes.append("pipeline:deals")
        for raw in self.pipelines:
            add(Kind.PIPELINE, f"pipeline:deals:{raw['id']}", canonical_pipeline(raw))
        for object_type, values in self.stages.items():
            scopes.append(f"lifecycle_stage:{object_type}")
            for order, value in enumerate(values):
                add(
                    Kind.LIFECYCLE_STAGE,
                    f"lifecycle_stage:{object_type}:{value}",
                    {"label": value.title(), "displayOrder": order, "hidden": False},
                )
        for raw in self.flows:
            add(Kind.WORKFLOW, f"workflow:{raw['id']}", canonical_flow(raw), raw)
        for raw in self.users:
            add(Kind.USER, f"user:{raw['id']}", canonical_user(raw))
        complete = {s: self.unverified.get(s, ()) for s in scopes if s not in self.unread}
        return PortalView("acme", 9, NOW, items, complete, past=lambda key: self.past.get(key, []))


def breaches(portal: Portal, policy: str, settings: PolicySettings | None = None) -> list[Breach]:
    found, ran = evaluate(portal.view(), {policy: settings} if settings else {})
    assert policy in ran
    return [b for b in found if b.policy == policy]


def test_every_config_policy_has_an_implementation_and_back() -> None:
    from hubaudit.config import POLICY_OPTIONS

    assert [p.id for p in BUILTIN_POLICIES] == list(POLICY_OPTIONS)


def test_a_portal_that_keeps_every_policy_has_no_breach() -> None:
    found, ran = evaluate(Portal().view(), {})
    assert found == []
    assert len(ran) == len(BUILTIN_POLICIES)


# property-description -----------------------------------------------------------------------


def test_a_custom_property_without_a_description_breaks_property_description() -> None:
    portal = Portal()
    portal.properties["contacts"] += [
        prop("tiktok_handle", "TikTok handle", description="  "),
        prop("firstname", "First name", custom=False, description=""),  # HubSpot's own
        prop("old_field", "Old field", description="", archived=True),  # out of use
    ]
    found = breaches(portal, "property-description")
    assert [b.subject for b in found] == ["property:contacts:tiktok_handle"]
    assert found[0].scopes == ("property:contacts",)
    assert found[0].severity.value == "low"


def test_a_part_that_was_not_read_is_not_judged() -> None:
    portal = Portal()
    portal.properties["contacts"].append(prop("x_field", "X", description=""))
    portal.unread.add("property:contacts")
    assert breaches(portal, "property-description") == []


def test_policy_settings_limit_object_types_and_set_severity_and_reason() -> None:
    portal = Portal()
    portal.properties["contacts"].append(prop("x_field", "X", description=""))
    settings = PolicySettings(
        "property-description", severity="high", reason="our rule", object_types=("deals",)
    )
    assert breaches(portal, "property-description", settings) == []
    settings = PolicySettings("property-description", severity="high", reason="our rule")
    (found,) = breaches(portal, "property-description", settings)
    assert (found.severity.value, found.reason) == ("high", "our rule")


# property-naming ----------------------------------------------------------------------------


def test_internal_names_must_match_the_pattern_of_their_object_type() -> None:
    portal = Portal()
    portal.properties["contacts"] += [prop("LeadSource", "Lead source (import)")]
    portal.properties["deals"] = [prop("deal_score", "Deal score"), prop("d_region", "Region")]
    (found,) = breaches(portal, "property-naming")
    assert found.subject == "property:contacts:LeadSource"
    assert "LeadSource" in found.message
    settings = PolicySettings("property-naming", patterns={"deals": "^d_", "*": "^[A-Za-z_]+$"})
    assert [b.subject for b in breaches(portal, "property-naming", settings)] == [
        "property:deals:deal_score"
    ]


def test_hubspot_defined_names_are_not_the_councils_to_judge() -> None:
    portal = Portal()
    portal.properties["contacts"].append(prop("HS_Weird", "Weird", custom=False))
    assert breaches(portal, "property-naming") == []


# property-duplicates ------------------------------------------------------------------------


def test_names_and_labels_that_normalise_alike_are_one_likely_duplicate() -> None:
    portal = Portal()
    portal.properties["contacts"] += [
        prop("lead_source_2", "Lead source (old)"),
        prop("LeadSource", "Imported source"),
        prop("lead_status_custom", "Lead Status"),  # another fact: not a duplicate
    ]
    (found,) = breaches(portal, "property-duplicates")
    assert found.detail["properties"] == [
        "property:contacts:LeadSource",
        "property:contacts:lead_source",
        "property:contacts:lead_source_2",
    ]
    assert found.subject == "property:contacts:~leadsource"


def test_years_hubspot_pairs_and_other_object_types_are_not_duplicates() -> None:
    portal = Portal()
    portal.properties["contacts"] += [
        prop("blog_views_2018", "Blog views 2018"),
        prop("blog_views_2019", "Blog views 2019"),
        prop("hs_lead_status", "Lead status", custom=False),
        prop("lead_status_x", "Lead status", custom=False),
    ]
    portal.properties["deals"] = [prop("lead_source", "Lead Source")]
    assert breaches(portal, "property-duplicates") == []


def test_duplicates_found_in_hubspots_real_property_lists(shared_hubspot: Any) -> None:
    """On real portals' dumps the policy names the real doubles and nothing of HubSpot's own."""
    import json

    portal = Portal()
    portal.properties = {}
    for name in ("contacts", "deals", "companies"):
        body = json.loads((shared_hubspot / "samples" / f"properties-{name}.json").read_text())
        portal.properties[name] = body["results"] if isinstance(body, dict) else body
    portal.groups = {}
    found = breaches(portal, "property-duplicates")
    sets = [set(b.detail["properties"]) for b in found]  # type: ignore[arg-type]
    assert {
        "property:deals:closed_lost_reason",
        "property:deals:closed_lost_reason_dropdown",
    } in sets
    assert {"property:contacts:google_click_id", "property:contacts:hs_google_click_id"} in sets
    view = portal.view()
    for members in sets:
        assert any(view.items[k].canonical.get("hubspotDefined") is not True for k in members)
    assert not breaches(portal, "property-naming")  # HubSpot's generated names pass the default


# group-empty and group-missing --------------------------------------------------------------


def test_a_group_without_a_live_property_breaks_group_empty() -> None:
    portal = Portal()
    portal.groups["contacts"] += ["social", "legacy"]
    portal.properties["contacts"].append(prop("old", "Old", "legacy", archived=True))
    found = breaches(portal, "group-empty")
    assert sorted(b.subject for b in found) == [
        "property_group:contacts:legacy",
        "property_group:contacts:social",
    ]
    portal.properties["contacts"].append(prop("tiktok", "TikTok", "social"))
    assert [b.subject for b in breaches(portal, "group-empty")] == [
        "property_group:contacts:legacy"
    ]


def test_a_group_is_not_called_empty_when_some_properties_were_not_readable() -> None:
    portal = Portal()
    portal.groups["contacts"].append("sensitive_stuff")
    portal.unverified["property:contacts"] = ("dataSensitivity=sensitive",)
    assert breaches(portal, "group-empty") == []


def test_a_property_in_a_group_that_does_not_exist_breaks_group_missing() -> None:
    portal = Portal()
    portal.properties["contacts"].append(prop("tiktok", "TikTok", "socialmedia"))
    (found,) = breaches(portal, "group-missing")
    assert (found.subject, found.detail["groupName"]) == ("property:contacts:tiktok", "socialmedia")
    portal.unread.add("property_group:contacts")
    assert breaches(portal, "group-missing") == []


# pipelines ----------------------------------------------------------------------------------


def test_a_deal_pipeline_needs_one_won_and_one_lost_stage() -> None:
    portal = Portal()
    pipeline = portal.pipelines[0]
    pipeline["stages"].append(stage("closedwon2", 5, "1.0", closed=True))
    (found,) = breaches(portal, "pipeline-closed-stages")
    assert found.detail["won"] == ["closedwon", "closedwon2"]
    pipeline["stages"][-1]["archived"] = True  # an archived stage is out of use
    assert breaches(portal, "pipeline-closed-stages") == []
    pipeline["stages"] = [s for s in pipeline["stages"] if s["id"] != "closedlost"]
    (found,) = breaches(portal, "pipeline-closed-stages")
    assert found.detail["lost"] == []


def test_open_stage_probabilities_must_rise_with_display_order() -> None:
    portal = Portal()
    portal.pipelines[0]["stages"][1]["metadata"]["probability"] = "0.1"  # qualifiedtobuy
    (found,) = breaches(portal, "pipeline-probability-order")
    assert "'Qualifiedtobuy' (0.1) comes after 'Appointmentscheduled' (0.2)" in found.message
    portal.pipelines[0]["stages"][1]["metadata"]["probability"] = "0.2"  # equal is fine
    assert breaches(portal, "pipeline-probability-order") == []


def test_every_open_stage_needs_a_probability() -> None:
    portal = Portal()
    portal.pipelines[0]["stages"].append(stage("legal", 2, None))
    portal.pipelines[0]["stages"].append(stage("review", 2, "high"))
    found = breaches(portal, "pipeline-open-probability")
    assert sorted(b.subject for b in found) == [
        "pipeline:deals:default/legal",
        "pipeline:deals:default/review",
    ]
    tickets = PolicySettings("pipeline-open-probability", object_types=("tickets",))
    assert breaches(portal, "pipeline-open-probability", tickets) == []


# lifecycle-order ----------------------------------------------------------------------------


def test_lifecycle_stages_must_be_the_approved_list_in_order() -> None:
    portal = Portal()
    portal.stages["contacts"][2:4] = ["salesqualifiedlead", "marketingqualifiedlead"]
    (found,) = breaches(portal, "lifecycle-order")
    assert "in another order" in found.message
    portal.stages["contacts"] = [*LIFECYCLE[:-1], "partner"]
    (found,) = breaches(portal, "lifecycle-order")
    assert "missing other" in found.message and "not approved partner" in found.message
    approved = PolicySettings("lifecycle-order", stages={"contacts": (*LIFECYCLE[:-1], "partner")})
    assert breaches(portal, "lifecycle-order", approved) == []


# workflows ----------------------------------------------------------------------------------


def test_a_workflow_off_for_longer_than_allowed_breaks_workflow_off() -> None:
    portal = Portal()
    portal.flows = [
        flow("1", "Old nurture", enabled=False, updated="2026-01-05T00:00:00.000Z"),
        flow("2", "Paused last week", enabled=False, updated="2026-11-24T00:00:00.000Z"),
        flow("3", "Running", updated="2020-01-01T00:00:00.000Z"),
    ]
    (found,) = breaches(portal, "workflow-off")
    assert found.subject == "workflow:1"
    assert found.detail == {"off_since": "2026-01-05"}
    assert breaches(portal, "workflow-off", PolicySettings("workflow-off", max_days=400)) == []


def test_hubspots_housekeeping_does_not_make_an_old_disabled_workflow_look_new() -> None:
    """updatedAt moved last night, but the stored versions show it off since January."""
    portal = Portal()
    current = flow("1", "Old nurture", enabled=False, updated="2026-11-30T03:00:00.000Z")
    portal.flows = [current]
    older = copy.deepcopy(current) | {"updatedAt": "2026-01-05T00:00:00.000Z"}
    portal.past["workflow:1"] = [
        PastVersion(NOW - timedelta(days=200), canonical_flow(older), older),
        PastVersion(NOW - timedelta(days=1), canonical_flow(current), current),
    ]
    (found,) = breaches(portal, "workflow-off")
    assert found.detail == {"off_since": "2026-01-05"}
    # ...but a version where it was on ends what is known of its time off
    on = copy.deepcopy(older) | {"isEnabled": True}
    portal.past["workflow:1"][0] = PastVersion(NOW - timedelta(days=200), canonical_flow(on), on)
    assert breaches(portal, "workflow-off") == []


def test_two_active_workflows_setting_one_property_conflict() -> None:
    portal = Portal()
    portal.flows = [
        flow("1", "Nurture A", sets="hs_lead_status"),
        flow("2", "Nurture B", sets="hs_lead_status"),
        flow("3", "Paused", enabled=False, sets="lifecyclestage"),
        flow("4", "Stage setter", sets="lifecyclestage"),
    ]
    (found,) = breaches(portal, "workflow-conflicting-setters")
    assert found.subject == "property:contacts:hs_lead_status"
    assert found.detail["workflows"] == ["workflow:1", "workflow:2"]


# super-admins -------------------------------------------------------------------------------


def test_more_super_admins_than_allowed_breaks_super_admins() -> None:
    portal = Portal()
    portal.users += [user(str(n), f"u{n}@x.example", True) for n in range(3, 6)]
    (found,) = breaches(portal, "super-admins")
    assert "4 super admins, 3 allowed" in found.message
    assert breaches(portal, "super-admins", PolicySettings("super-admins", max=4)) == []
    portal.unread.add("user")
    assert breaches(portal, "super-admins") == []


# configuration ------------------------------------------------------------------------------


def test_a_disabled_policy_is_not_run() -> None:
    config = parse_config("[policies.super-admins]\nenabled = false\n")
    _found, ran = evaluate(Portal().view(), config.policies)
    assert "super-admins" not in ran


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("[policies.super-admin]\nmax = 2\n", 1, "policies.super-admin"),
        ('[policies.super-admins]\nmax = "two"\n', 2, "policies.super-admins.max"),
        ("[policies.super-admins]\nmax_days = 3\n", 2, "policies.super-admins.max_days"),
        (
            '\n[policies.property-naming]\npatterns = { x = "[" }\n',
            3,
            "policies.property-naming.patterns",
        ),
        (
            "[policies.lifecycle-order]\nstages = { contacts = [] }\n",
            2,
            "policies.lifecycle-order.stages",
        ),
        ('[policies.workflow-off]\nseverity = "urgent"\n', 2, "policies.workflow-off.severity"),
        ("[impact]\nraise_at = [40, 10]\n", 2, "impact.raise_at"),
    ],
)
def test_a_broken_policy_table_names_its_line_and_key(text: str, line: int, key: str) -> None:
    from hubaudit.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert (caught.value.line, caught.value.key) == (line, key)
