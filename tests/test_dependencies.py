"""The dependency graph and impact: what reads, sets or uses what, and how it raises severity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hubaudit.analysis.dependencies import build_graph, workflow_property_uses
from hubaudit.config import ImpactConfig
from hubaudit.hubspot.collectors.pipelines import canonical_pipeline
from hubaudit.hubspot.collectors.workflows import canonical_flow
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.items import Kind
from hubaudit.model.view import PortalView, ViewItem
from hubaudit.policies.impact import with_impact

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def enum_filter(name: str, *values: str) -> dict[str, Any]:
    return {
        "filterType": "PROPERTY",
        "property": name,
        "operation": {
            "operationType": "ENUMERATION",
            "operator": "IS_ANY_OF",
            "values": list(values),
            "includeObjectsWithNoValueSet": False,
        },
    }


def branch(kind: str, filters: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {
        "filterBranchType": kind,
        "filterBranchOperator": kind,
        "filters": filters,
        "filterBranches": more.pop("branches", []),
        **more,
    }


# A deal workflow that tests and sets what a deal pipeline, its contacts and custom objects hold.
DEAL_FLOW: dict[str, Any] = {
    "id": "77",
    "type": "PLATFORM_FLOW",
    "isEnabled": True,
    "objectTypeId": "0-3",
    "name": "Big deal desk",
    "revisionId": "4",
    "enrollmentCriteria": {
        "type": "LIST_BASED",
        "shouldReEnroll": True,
        "unEnrollObjectsNotMeetingCriteria": False,
        "listFilterBranch": branch(
            "OR",
            [],
            branches=[
                branch(
                    "AND",
                    [
                        enum_filter("dealstage", "qualifiedtobuy"),
                        enum_filter("pipeline", "default"),
                    ],
                    branches=[
                        # associated contacts' properties: a contact property, not a deal one
                        branch(
                            "ASSOCIATION",
                            [enum_filter("lifecyclestage", "customer")],
                            objectTypeId="0-1",
                            associationTypeId=3,
                            associationCategory="HUBSPOT_DEFINED",
                            operator="IN_LIST",
                        ),
                        # an event's own properties are not the record's
                        branch(
                            "UNIFIED_EVENTS",
                            [enum_filter("hs_url", "https://x.example")],
                            eventTypeId="4-96000",
                            operator="HAS_COMPLETED",
                        ),
                    ],
                )
            ],
        ),
        "reEnrollmentTriggersFilterBranches": [branch("AND", [enum_filter("amount", "1000")])],
    },
    "actions": [
        {
            "type": "LIST_BRANCH",
            "actionId": "1",
            "listBranches": [
                {
                    "branchName": "Subscriptions",
                    "filterBranch": branch("AND", [enum_filter("p1_subscription_plan", "gold")]),
                    "connection": {"edgeType": "STANDARD", "nextActionId": "2"},
                }
            ],
        },
        {
            "type": "STATIC_BRANCH",
            "actionId": "2",
            "inputValue": {"type": "OBJECT_PROPERTY", "propertyName": "deal_source"},
            "staticBranches": [{"branchValue": "partner"}, {"branchValue": "web"}],
        },
        {
            "type": "SINGLE_CONNECTION",
            "actionId": "3",
            "actionTypeId": "0-5",
            "actionTypeVersion": 0,
            "fields": {
                "property_name": "dealstage",
                "value": {"type": "STATIC_VALUE", "staticValue": "contractsent"},
            },
        },
        {
            "type": "SINGLE_CONNECTION",
            "actionId": "4",
            "actionTypeId": "0-5",
            "actionTypeVersion": 0,
            "fields": {
                "property_name": "deal_owner_note",
                "value": {"type": "OBJECT_PROPERTY", "propertyName": "hubspot_owner_id"},
            },
        },
    ],
}

PIPELINE = canonical_pipeline(
    {
        "id": "default",
        "label": "Sales",
        "displayOrder": 0,
        "archived": False,
        "stages": [
            {"id": "qualifiedtobuy", "label": "Qualified", "displayOrder": 0, "metadata": {}},
            {"id": "contractsent", "label": "Contract sent", "displayOrder": 1, "metadata": {}},
            {"id": "closedwon", "label": "Won", "displayOrder": 2, "metadata": {}},
        ],
    }
)


def view() -> PortalView:
    items = {
        "workflow:77": ViewItem(Kind.WORKFLOW, "workflow:77", canonical_flow(DEAL_FLOW)),
        "pipeline:deals:default": ViewItem(Kind.PIPELINE, "pipeline:deals:default", PIPELINE),
        "property:deals:amount": ViewItem(
            Kind.PROPERTY, "property:deals:amount", {"label": "Amount", "groupName": "dealinfo"}
        ),
        "property:deals:old": ViewItem(
            Kind.PROPERTY, "property:deals:old", {"groupName": "dealinfo", "archived": True}
        ),
        "property:p1_subscription:plan": ViewItem(
            Kind.PROPERTY, "property:p1_subscription:plan", {"groupName": "info"}
        ),
        "object_schema:p1_subscription": ViewItem(
            Kind.OBJECT_SCHEMA,
            "object_schema:p1_subscription",
            {"objectTypeId": "2-9", "fullyQualifiedName": "p1_subscription"},
        ),
        "user:5": ViewItem(
            Kind.USER,
            "user:5",
            {"email": "a@x.example", "roleIds": ["9001"], "primaryTeamId": "61"},
        ),
    }
    return PortalView("acme", 3, NOW, items, {})


def relations(key: str) -> set[tuple[str, str, str]]:
    return {(d.source, d.relation, d.detail) for d in build_graph(view()).dependents(key)}


def test_a_workflow_reads_what_its_criteria_and_branches_test_and_writes_what_it_sets() -> None:
    uses = workflow_property_uses(canonical_flow(DEAL_FLOW), "deals", {"0-1": "contacts"})
    found = {(u.object_type, u.property, u.relation, u.where) for u in uses}
    assert found == {
        ("deals", "dealstage", "reads", "enrollment criteria"),
        ("deals", "pipeline", "reads", "enrollment criteria"),
        ("contacts", "lifecyclestage", "reads", "enrollment criteria"),
        ("deals", "amount", "reads", "re-enrollment triggers"),
        ("deals", "p1_subscription_plan", "reads", "branch 'Subscriptions' of action 1"),
        ("deals", "deal_source", "reads", "branch on action 2"),
        ("deals", "dealstage", "writes", "action 3"),
        ("deals", "deal_owner_note", "writes", "action 4"),
        ("deals", "hubspot_owner_id", "reads", "a value copied in action 4"),
    }
    assert not any(u.property == "hs_url" for u in uses)  # the event's, not the deal's


def test_the_graph_joins_properties_stages_lifecycle_groups_objects_and_people() -> None:
    assert relations("property:deals:dealstage") == {
        ("workflow:77", "reads", "enrollment criteria = qualifiedtobuy"),
        ("workflow:77", "writes", "action 3 = contractsent"),
    }
    assert relations("pipeline:deals:default") == {
        ("workflow:77", "uses", "tests stage qualifiedtobuy (Qualified) in enrollment criteria"),
        ("workflow:77", "uses", "sets stage contractsent (Contract sent) in action 3"),
        ("workflow:77", "uses", "tests the pipeline in enrollment criteria"),
    }
    assert relations("lifecycle_stage:contacts:customer") == {
        ("workflow:77", "uses", "tests the stage in enrollment criteria")
    }
    assert relations("property:deals:deal_source") == {
        ("workflow:77", "reads", "branch on action 2 = partner, web")
    }
    # an archived property is out of its group; a custom object's property is of its object
    assert relations("property_group:deals:dealinfo") == {("property:deals:amount", "in group", "")}
    assert relations("object_schema:p1_subscription") == {
        ("property:p1_subscription:plan", "of object", "")
    }
    assert relations("role:9001") == {("user:5", "has role", "")}
    assert relations("team:61") == {("user:5", "in team", "")}
    # the edge stays when its target is gone: what still points at a deleted property
    assert ("workflow:77", "writes", "action 4") in relations("property:deals:deal_owner_note")


def test_a_change_inside_a_stage_touches_only_what_uses_that_stage() -> None:
    graph = build_graph(view())

    def change(*path: str) -> Change:
        return Change(
            Kind.PIPELINE, "pipeline:deals:default", ChangeOp.MODIFIED, ".".join(path), path, 1, 2
        )

    closedwon = graph.dependents_of_change(change("stages", "closedwon", "label"))
    assert {d.detail for d in closedwon} == {"tests the pipeline in enrollment criteria"}
    qualified = graph.dependents_of_change(change("stages", "qualifiedtobuy", "label"))
    assert len(qualified) == 2
    assert len(graph.dependents_of_change(change("label"))) == 3


def test_the_tree_walks_through_a_group_to_the_workflows_reading_its_properties() -> None:
    lines = build_graph(view()).tree("property_group:deals:dealinfo")
    assert [(level, d.source) for level, d in lines] == [
        (0, "property:deals:amount"),
        (1, "workflow:77"),
    ]


def test_severity_rises_a_step_for_each_threshold_of_dependent_workflows() -> None:
    flows = {
        f"workflow:{n}": ViewItem(
            Kind.WORKFLOW,
            f"workflow:{n}",
            canonical_flow(DEAL_FLOW | {"id": str(n)}),
        )
        for n in range(12)
    }
    graph = build_graph(PortalView("acme", 1, NOW, flows, {}))
    changed = Change(
        Kind.PROPERTY,
        "property:deals:deal_source",
        ChangeOp.MODIFIED,
        "options.web.label",
        ("options", "web", "label"),
        "Web",
        "Website",
        severity=Severity.LOW,
    )
    unused = Change(Kind.PROPERTY, "property:deals:new_field", ChangeOp.ADDED, None, (), None, {})
    low, new = with_impact([changed, unused], graph, ImpactConfig(raise_at=(5, 10, 40)))
    assert (low.severity, low.raised_by_impact, len(low.dependents)) == (Severity.HIGH, 2, 12)
    assert (new.severity, new.raised_by_impact, new.dependents) == (Severity.MEDIUM, 0, ())
    critical = with_impact(
        [changed.__class__(**{**changed.__dict__, "severity": Severity.HIGH})],
        graph,
        ImpactConfig(raise_at=(1, 2, 3)),
    )[0]
    assert (critical.severity, critical.raised_by_impact) == (Severity.CRITICAL, 1)
    (same,) = with_impact([changed], graph, ImpactConfig(raise_at=()))
    assert same.severity is Severity.LOW
