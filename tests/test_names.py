"""Names everywhere (issue 16): items, field paths and values in people's words, links into
HubSpot's UI, added and removed items summarised, and how to put a change back."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hubaudit.analysis.names import Names, hubspot_url
from hubaudit.model.changes import Change, ChangeNames, ChangeOp
from hubaudit.model.items import Kind
from hubaudit.model.surface import HubInfo
from hubaudit.report import csv_report
from hubaudit.report import html as html_report
from hubaudit.report import markdown as markdown_report
from hubaudit.report import text as text_report
from hubaudit.report.json_report import from_document, to_document
from hubaudit.report.view import build
from tests.report_fixture import hostile, rich_result
from tests.test_cli import baseline_then_drift, config_path, run  # noqa: F401

CURRENT: dict[str, dict[str, Any]] = {
    "user:2305118": {
        "id": "2305118",
        "email": "sam.okafor@acme.com",
        "firstName": "Sam",
        "lastName": "Okafor",
        "superAdmin": True,
        "roleIds": ["9004"],
        "primaryTeamId": "61001",
    },
    "user:2305100": {"id": "2305100", "email": "ada@acme.com", "firstName": "Ada"},
    "team:61001": {"id": "61001", "name": "EMEA Sales", "userIds": ["2305100", "2305118"]},
    "role:9004": {"id": "9004", "name": "Sales manager"},
    "workflow:1201003": {
        "name": "Deal won handoff",
        "isEnabled": True,
        "objectTypeId": "0-3",
        "flowType": "WORKFLOW",
        "actions": {
            "1": {
                "fields": {
                    "property_name": "dealstage",
                    "value": {"staticValue": "contractsent", "type": "STATIC_VALUE"},
                }
            },
            "2": {"fields": {"owner_user_ids": ["2305118"]}},
        },
    },
    "pipeline:tickets:0": {
        "label": "Support Pipeline",
        "stages": {
            "1": {"label": "New", "displayOrder": 0, "metadata": {"ticketState": "OPEN"}},
            "4": {"label": "Closed", "displayOrder": 3, "metadata": {"ticketState": "CLOSED"}},
        },
    },
    "pipeline:deals:default": {
        "label": "Sales Pipeline",
        "stages": {
            "closedwon": {"label": "Closed Won", "displayOrder": 5},
            "contractsent": {"label": "Contract Sent", "displayOrder": 4},
        },
    },
    "property:deals:deal_source": {
        "name": "deal_source",
        "label": "Deal source",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "dealinformation",
        "options": {"inbound": {"label": "Inbound", "displayOrder": 0}},
    },
    "property:deals:competitor_x": {"name": "competitor_x", "label": "Main competitor"},
    "property_group:deals:dealinformation": {"name": "dealinformation", "label": "Deal info"},
    "lifecycle_stage:contacts:evangelist": {"label": "Advocate", "displayOrder": 6},
    "object_schema:p1_subscription": {
        "labels": {"singular": "Subscription", "plural": "Subscriptions"},
        "objectTypeId": "2-3508482",
        "name": "subscription",
        "requiredProperties": ["plan"],
    },
    "association_label:0-2:2-3508482:USER_DEFINED:202": {
        "label": "Reseller",
        "category": "USER_DEFINED",
        "typeId": 202,
    },
}
BASELINE: dict[str, dict[str, Any]] = {
    "pipeline:tickets:0": {
        "label": "Support Pipeline",
        "stages": {
            "1": {"label": "New", "displayOrder": 0},
            "3": {
                "label": "Waiting on us",
                "displayOrder": 2,
                "metadata": {"isClosed": "false", "ticketState": "OPEN"},
            },
        },
    },
    "workflow:1201009": {"name": "Old re-engagement", "isEnabled": False},
    "user:2305999": {"id": "2305999", "email": "gone@acme.com"},
}
NAMES = Names(CURRENT, BASELINE)
HUB = HubInfo(48151623, "app-eu1.hubspot.com", {"p1_subscription": "2-3508482"})


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("user:2305118", "sam.okafor@acme.com (Sam Okafor)"),
        ("user:2305100", "ada@acme.com (Ada)"),
        ("workflow:1201003", "Deal won handoff"),
        ("pipeline:tickets:0", "Support Pipeline"),
        ("property:deals:deal_source", "Deal source"),  # the label says the name: not twice
        ("property:deals:competitor_x", "Main competitor (competitor_x)"),
        ("property_group:deals:dealinformation", "Deal info"),
        ("team:61001", "EMEA Sales"),
        ("role:9004", "Sales manager"),
        ("lifecycle_stage:contacts:evangelist", "Advocate"),
        ("object_schema:p1_subscription", "Subscription"),
        (
            "association_label:0-2:2-3508482:USER_DEFINED:202",
            "Reseller (companies → Subscriptions)",
        ),
        ("workflow:1201009", "Old re-engagement"),  # removed: its name in the baseline
        ("lifecycle_stage:contacts", "contacts lifecycle stages"),  # a part: its order
        ("workflow:404", "workflow:404"),  # nothing known: the key
    ],
)
def test_each_kind_is_named_as_people_know_it(key: str, name: str) -> None:
    assert NAMES.item(key) == name


def test_field_paths_name_stages_and_options_by_label() -> None:
    assert NAMES.path("pipeline:tickets:0", ("stages", "3", "label")) == (
        'stages["Waiting on us"].label'  # removed: the baseline's label
    )
    assert NAMES.path("pipeline:tickets:0", "stages.4.metadata.ticketState") == (
        'stages["Closed"].metadata.ticketState'
    )
    assert NAMES.path("property:deals:deal_source", ("options", "inbound")) == 'options["Inbound"]'
    # an id nobody labelled, and paths of other kinds, stay as they are
    assert NAMES.path("pipeline:tickets:0", ("stages", "77", "label")) == "stages.77.label"
    assert NAMES.path("user:2305118", ("superAdmin",)) == "superAdmin"
    assert NAMES.path("pipeline:tickets:0", ("stages order",)) == "stages order"


def test_values_name_people_roles_teams_and_stages() -> None:
    assert NAMES.value("team:61001", ("userIds",), ["2305100", "2305118", "777"]) == (
        "ada@acme.com, sam.okafor@acme.com, 777"
    )
    assert NAMES.value("user:2305118", ("roleIds",), ["9004"]) == "Sales manager"
    assert NAMES.value("user:2305118", ("primaryTeamId",), "61001") == "EMEA Sales"
    stage = ("actions", "1", "fields", "value", "staticValue")
    assert NAMES.value("workflow:1201003", stage, "contractsent") == "Contract Sent"
    assert NAMES.value("workflow:1201003", stage, "closedwon") == "Closed Won"
    owners = ("actions", "2", "fields", "owner_user_ids")
    assert NAMES.value("workflow:1201003", owners, ["2305118"]) == "sam.okafor@acme.com"
    # a removed user is named from the baseline
    assert NAMES.value("team:61001", ("userIds",), ["2305999"]) == "gone@acme.com"
    # a whole stage: its label and metadata, not a JSON blob
    removed = BASELINE["pipeline:tickets:0"]["stages"]["3"]
    assert NAMES.value("pipeline:tickets:0", ("stages", "3"), removed) == (
        '"Waiting on us" (isClosed false, ticketState OPEN)'
    )
    # nothing to name: None, so the raw value is shown
    assert NAMES.value("user:2305118", ("superAdmin",), True) is None
    assert NAMES.value("workflow:1201003", ("name",), "contractsent") is None


def test_links_go_to_the_items_page_on_the_accounts_own_host() -> None:
    assert NAMES.link("property:deals:deal_source", HUB) == (
        "https://app-eu1.hubspot.com/property-settings/48151623/properties"
        "?type=0-3&action=edit&property=deal_source"
    )
    assert NAMES.link("workflow:1201003", HUB) == (
        "https://app-eu1.hubspot.com/workflows/48151623/platform/flow/1201003/edit"
    )
    assert hubspot_url("pipeline:tickets:0", HUB) == (
        "https://app-eu1.hubspot.com/pipelines-settings/48151623/object/0-5/0"
    )
    assert hubspot_url("pipeline:p1_subscription:77", HUB) == (
        "https://app-eu1.hubspot.com/pipelines-settings/48151623/object/2-3508482/77"
    )
    assert hubspot_url("user:2305118", HUB) == "https://app-eu1.hubspot.com/settings/48151623/users"
    assert hubspot_url("association_label:0-1:0-2:USER_DEFINED:1", HUB) is None
    assert hubspot_url("pipeline:unknown_object:1", HUB) is None
    assert hubspot_url("workflow:1201003", None) is None


def test_added_and_removed_items_are_summarised_by_what_matters_for_their_kind() -> None:
    prop = dict(NAMES.summary("property:deals:deal_source"))
    assert prop["type"] == "enumeration/select"
    assert prop["group"] == "Deal info (dealinformation)"
    assert prop["options"] == "1"
    pipeline = dict(NAMES.summary("pipeline:tickets:0", BASELINE["pipeline:tickets:0"]))
    assert pipeline["stages"] == "2: New, Waiting on us"
    assert pipeline["object"] == "tickets"
    user = dict(NAMES.summary("user:2305118"))
    assert user == {
        "email": "sam.okafor@acme.com",
        "name": "Sam Okafor",
        "super admin": "yes",
        "roles": "Sales manager",
        "team": "EMEA Sales",
    }
    assert dict(NAMES.summary("team:61001"))["members"] == "2: ada@acme.com, sam.okafor@acme.com"
    workflow = dict(NAMES.summary("workflow:1201003"))
    assert (workflow["enabled"], workflow["object"], workflow["actions"]) == ("on", "deals", "2")
    assert dict(NAMES.summary("object_schema:p1_subscription"))["labels"] == (
        "Subscription / Subscriptions"
    )
    label = dict(NAMES.summary("association_label:0-2:2-3508482:USER_DEFINED:202"))
    assert label["objects"] == "companies → Subscriptions"
    assert NAMES.summary("workflow:404") == ()


def _change(key: str, path: tuple[str, ...], before: Any, after: Any, **kw: Any) -> Change:
    op = kw.pop("op", ChangeOp.MODIFIED)
    return Change(
        kind=Kind(key.partition(":")[0]),
        key=key,
        op=op,
        field=".".join(path) if path else None,
        path=path,
        before=before,
        after=after,
        **kw,
    )


def test_revert_says_which_baseline_value_to_restore_with_names() -> None:
    assert (
        NAMES.revert(_change("user:2305118", ("superAdmin",), False, True))
        == "set superAdmin back to false"
    )
    assert (
        NAMES.revert(_change("lifecycle_stage:contacts:evangelist", ("label",), "Ev", "Advocate"))
        == 'set label back to "Ev"'
    )
    team = _change("team:61001", ("userIds",), ["2305100"], ["2305100", "2305118"])
    assert NAMES.revert(team) == "remove sam.okafor@acme.com from userIds"
    stage = BASELINE["pipeline:tickets:0"]["stages"]["3"]
    assert NAMES.revert(_change("pipeline:tickets:0", ("stages", "3"), stage, None)) == (
        'restore stages["Waiting on us"] (isClosed false, ticketState OPEN)'
    )
    flow = ("actions", "1", "fields", "value", "staticValue")
    assert NAMES.revert(_change("workflow:1201003", flow, "closedwon", "contractsent")) == (
        "set actions.1.fields.value.staticValue back to Closed Won"
    )
    added = _change("workflow:1201003", (), None, CURRENT["workflow:1201003"], op=ChangeOp.ADDED)
    assert NAMES.revert(added) == "delete Deal won handoff"
    gone = _change("workflow:1201009", (), BASELINE["workflow:1201009"], None, op=ChangeOp.REMOVED)
    assert NAMES.revert(gone) == "recreate Old re-engagement (name Old re-engagement; enabled off)"


def test_a_named_change_reads_back_from_the_stored_report() -> None:
    result = rich_result("Deal")
    team = NAMES.change(_change("team:61001", ("userIds",), ["2305100"], ["2305100", "2305118"]))
    result = replace(result, changes=(*result.changes, team))
    assert team.names is not None and team.names.item == "EMEA Sales"
    again = from_document(json.loads(json.dumps(to_document(result))))
    assert again.changes[-1] == team
    assert to_document(again) == to_document(result)
    # a report stored before names existed reads back without them
    old = to_document(result)
    for c in old["changes"]:
        for field in ("name", "field_label", "before_text", "after_text", "revert", "summary"):
            del c[field]
    assert all(c.names is None for c in from_document(old).changes)


def test_view_rows_carry_names_and_keep_raw_keys() -> None:
    stage = BASELINE["pipeline:tickets:0"]["stages"]["3"]
    changes = NAMES.changes(
        [
            _change("pipeline:tickets:0", ("stages", "3"), stage, None),
            _change(
                "workflow:1201009", (), BASELINE["workflow:1201009"], None, op=ChangeOp.REMOVED
            ),
        ]
    )
    view = build(replace(rich_result("Deal"), changes=tuple(changes), hub=HUB))
    pipeline, workflow = view.unplanned.items
    assert (pipeline.key, pipeline.label) == ("pipeline:tickets:0", "Support Pipeline")
    assert pipeline.url == "https://app-eu1.hubspot.com/pipelines-settings/48151623/object/0-5/0"
    row = pipeline.changes[0]
    assert (row.field, row.field_label) == ("stages.3", 'stages["Waiting on us"]')
    assert row.field_or_op == 'stages["Waiting on us"]'
    assert row.before_text == '"Waiting on us" (isClosed false, ticketState OPEN)'
    assert row.revert is not None and row.revert.startswith('restore stages["Waiting on us"]')
    # a removed item: its summary instead of its payload, and no link to a page that is gone
    assert workflow.label == "Old re-engagement" and workflow.url is None
    assert workflow.summary == (("name", "Old re-engagement"), ("enabled", "off"))
    assert workflow.changes[0].before_text == "name: Old re-engagement; enabled: off"


def test_csv_rows_carry_the_names_beside_the_raw_columns() -> None:
    team = NAMES.change(_change("team:61001", ("userIds",), ["2305100"], ["2305100", "2305118"]))
    rendered = csv_report.render(replace(rich_result("Deal"), changes=(team,)))
    header, row = list(csv.reader(io.StringIO(rendered)))[:2]
    cells = dict(zip(header, row, strict=True))
    assert (cells["key"], cells["field"]) == ("team:61001", "userIds")
    assert cells["name"] == "EMEA Sales"
    assert cells["before_text"] == "ada@acme.com"
    assert cells["revert"] == "remove sam.okafor@acme.com from userIds"


def test_names_holding_markup_are_escaped_in_html_and_markdown() -> None:
    evil = hostile()
    change = _change("team:61001", ("userIds",), ["1"], ["1", "2"])
    change = replace(
        change,
        names=ChangeNames(item=evil, field=f"stages[{evil}]", before=evil, after=evil, revert=evil),
    )
    result = replace(rich_result("Deal"), changes=(change,))
    page = html_report.render(result)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<img" not in page
    md = markdown_report.render(result)
    assert "<script>" not in md and "&lt;script&gt;" in md
    text = text_report.render(result)
    assert "\x1b[31m" not in text and "\\x1b[31m" in text


# The demo portal: one change of nearly every kind (association label, lifecycle stage, custom
# object, pipeline and stages, property and options, group, team, user, workflow).
BARE_IDS = {
    # id: the name that must stand beside it
    "2305118": "sam.okafor@northwind.example",
    "1201003": "Deal won handoff",
    "1201001": "Lead nurture - EMEA",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("names") / "demo"
    completed = subprocess.run(
        [sys.executable, "-m", "hubaudit", "demo", "--dir", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr
    return workdir


def _change_lines(text: str) -> list[str]:
    start = text.index("Unplanned changes")
    return text[start : text.index("Policy findings")].splitlines()


@pytest.mark.slow
def test_the_demo_report_names_every_user_workflow_and_stage(demo: Path) -> None:
    text = (demo / "report.txt").read_text(encoding="utf-8")
    lines = _change_lines(text)
    for ident, name in BARE_IDS.items():
        # a dependent (←) and a link into HubSpot (the id inside its address) are not mentions
        mentions = [
            line
            for line in lines
            if ident in line and not line.lstrip().startswith(("←", "in HubSpot:"))
        ]
        assert mentions, ident
        assert all(name in line for line in mentions), (ident, mentions)
    # a team's members by email, never as a list of ids
    team = next(line for line in lines if "userIds" in line)
    assert "revops.council@northwind.example" in team
    assert not re.search(r"\b2305\d{3}\b", team)
    # stages by label, in paths and values
    assert 'stages["Waiting on us"]' in text and "stages.3" not in text
    assert "Closed Won → Contract Sent" in text and "contractsent" not in text
    # a finding about one workflow names it
    assert 'workflow-off workflow:1201005 "Customer tier sync": off since' in text
    # a removed item summarised, not dumped
    assert "type: string/text; group: Deal governance (deal_governance)" in text

    md = (demo / "report.md").read_text(encoding="utf-8")
    page = (demo / "report.html").read_text(encoding="utf-8")
    for rendered in (md.replace("&#64;", "@"), page):
        assert "sam.okafor@northwind.example (Sam Okafor)" in rendered
        assert "Deal won handoff" in rendered
        assert "Waiting on us" in rendered and "Contract Sent" in rendered
        assert '"2305100"' not in rendered and "&quot;2305100&quot;" not in rendered
    assert "stages.3<" not in page and 'title="stages.3"' in page  # the raw path as a tooltip

    report = json.loads((demo / "report.json").read_text(encoding="utf-8"))
    by_key = {c["key"]: c for c in report["changes"]}
    assert by_key["user:2305118"]["name"] == "sam.okafor@northwind.example (Sam Okafor)"
    assert by_key["user:2305118"]["revert"] == "set superAdmin back to false"
    assert by_key["workflow:1201003"]["name"] == "Deal won handoff"
    assert by_key["workflow:1201003"]["after_text"] == "Contract Sent"
    assert by_key["pipeline:tickets:0"]["field"] == "stages.3"  # raw fields stay
    assert by_key["pipeline:tickets:0"]["field_label"] == 'stages["Waiting on us"]'
    assert by_key["team:61001"]["name"] == "EMEA Sales"
    assert all(c["name"] for c in report["changes"]), "every demo change has a named item"


@pytest.mark.slow
def test_read_commands_show_names_beside_keys(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(demo)  # the demo's config names its database relative to its folder
    config = ("--config", str(demo / "hubaudit.toml"))
    code, out = run(*config, "show", "user:2305118", "--portal", "demo")
    assert code == 0
    assert out.splitlines()[0].startswith(
        'user:2305118 "sam.okafor@northwind.example (Sam Okafor)" in snapshot'
    )
    code, out = run(*config, "show", "workflow:1201003", "--portal", "demo", "--format", "json")
    assert json.loads(out)["name"] == "Deal won handoff"

    code, out = run(*config, "diff", "baseline", "latest", "--portal", "demo")
    assert code == 0
    assert 'stages["Waiting on us"]' in out and "stages.3" not in out
    assert "Closed Won → Contract Sent" in out
    team = next(line for line in out.splitlines() if "userIds" in line)
    assert "revops.council@northwind.example" in team and '"1180442"' not in team
    code, raw = run(*config, "diff", "baseline", "latest", "--portal", "demo", "--keys")
    assert "stages.3" in raw and 'stages["Waiting on us"]' not in raw
    code, out = run(*config, "diff", "baseline", "latest", "--portal", "demo", "--format", "json")
    by_key = {c["key"]: c for c in json.loads(out)["changes"]}
    assert by_key["team:61001"]["revert"] == "remove revops.council@northwind.example from userIds"

    code, out = run(*config, "history", "pipeline:tickets:0", "--portal", "demo")
    assert code == 0 and 'stages["Waiting on us"]' in out
    code, out = run(*config, "history", "team:61001", "--portal", "demo")
    assert "revops.council@northwind.example" in out and '"1180442"' not in out
    code, out = run(*config, "history", "pipeline:tickets:0", "--portal", "demo", "--keys")
    assert "stages.3" in out and 'Waiting on us"]' not in out

    code, listing = run(*config, "defects", "list", "--portal", "demo", "--format", "json")
    ids = {d["key"]: d["id"] for d in json.loads(listing)}
    code, out = run(*config, "defects", "show", str(ids["user:2305118"]), "--portal", "demo")
    assert code == 0
    assert '"sam.okafor@northwind.example (Sam Okafor)"' in out.splitlines()[0]
    assert "to put it back: set superAdmin back to false" in out
    team_id = str(ids["team:61001"])
    code, out = run(*config, "defects", "show", team_id, "--portal", "demo", "--format", "json")
    shown = json.loads(out)
    assert (shown["key"], shown["name"]) == ("team:61001", "EMEA Sales")
    assert shown["after_text"].startswith("revops.council@northwind.example, ")


def _retouch(night2: Path) -> None:
    """The demo's night 2, and more: a role renamed, a user given another role."""
    from tests.conftest import edit_json

    def rename(roles: list[dict[str, Any]]) -> None:
        next(r for r in roles if r["id"] == "9004")["name"] = "Support lead <b>"

    def promote(users: list[dict[str, Any]]) -> None:
        user = next(u for u in users if u["id"] == "2305118")
        user["roleIds"], user["roleId"] = ["9002"], "9002"

    edit_json(night2, "roles.json", rename)
    edit_json(night2, "users.json", promote)


@pytest.mark.slow
def test_an_audit_names_every_kind_in_every_format(
    config_path: Path,  # noqa: F811
    emulator: Any,
    portal_dirs: dict[str, Path],
    tmp_path: Path,
) -> None:
    """A portal with a change of each kind (the demo's night 2, a role renamed, a user's role
    changed), audited through the CLI on SQLite and Postgres: no bare id where a name exists."""
    config = str(config_path)
    _retouch(portal_dirs["night2"])
    baseline_then_drift(config, emulator, portal_dirs["night2"])
    out: dict[str, str] = {}
    for fmt in ("text", "md", "html", "json"):
        target = tmp_path / f"report.{fmt}"
        code, _ = run(
            "--config",
            config,
            "report" if out else "audit",
            "--portal",
            "demo",
            "--format",
            fmt,
            "--output",
            str(target),
        )
        assert code in (0, 2), fmt
        out[fmt] = target.read_text(encoding="utf-8")
    report = json.loads(out["json"])
    by_key: dict[str, list[dict[str, Any]]] = {}
    for c in report["changes"]:
        by_key.setdefault(c["key"], []).append(c)
    kinds = {c["kind"] for c in report["changes"]}
    assert kinds >= {
        "association_label",
        "lifecycle_stage",
        "object_schema",
        "pipeline",
        "property",
        "property_group",
        "team",
        "user",
        "workflow",
        "role",
    }
    assert all(c["name"] for c in report["changes"]), "every item of every kind is named"
    assert by_key["role:9004"][0]["name"] == "Support lead <b>"
    roles = next(c for c in by_key["user:2305118"] if c["field"] == "roleIds")
    assert (roles["before_text"], roles["after_text"]) == ("Support lead <b>", "Sales manager")
    assert roles["revert"] == (
        "remove Sales manager from roleIds; add Support lead <b> back to roleIds"
    )
    text = out["text"]
    assert "~ roleIds: Support lead <b> → Sales manager" in text
    assert '~ role:9004  "Support lead <b>"' in text
    # the name holding markup is escaped in HTML and Markdown, raw in text and JSON
    for fmt in ("md", "html"):
        assert "Support lead <b>" not in out[fmt] and "Support lead &lt;b&gt;" in out[fmt], fmt
    for fmt in ("text", "md", "html"):
        rendered = out[fmt].replace("&#64;", "@").replace("\\[", "[").replace("\\]", "]")
        assert "sam.okafor@northwind.example (Sam Okafor)" in rendered, fmt
        assert "Deal won handoff" in rendered and "Contract Sent" in rendered, fmt
        assert 'stages["Waiting on us"]' in rendered.replace("&quot;", '"'), fmt
        assert not re.search(r"&quot;2305\d{3}&quot;|\"2305\d{3}\"", rendered), fmt
