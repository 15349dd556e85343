"""Text a database refuses: HubSpot takes a NUL (U+0000) in a label, Postgres refuses it in a
``text`` column. Every text column stores any string losslessly, on SQLite and Postgres alike,
and every report shows the NUL escaped (or, in JSON, exactly)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hubaudit.emulator import PortalEmulator
from hubaudit.store.engine import make_engine, upgrade
from hubaudit.store.schema import ESCAPED_TEXT_MARK, StoredText, read_stored_text, stored_text
from hubaudit.store.tables import Base, PortalRow

from .database_dump import dump_rows
from .test_cli import baseline_then_drift, config_path, run  # noqa: F401

LABEL = "Renewal\x00type"
KEY = "property:deals:renewal_type"


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.characters(exclude_categories=())))
@example("\x00")
@example(ESCAPED_TEXT_MARK)
@example(ESCAPED_TEXT_MARK + "plain")
@example(ESCAPED_TEXT_MARK + '"')
@example("a\\u0000b")
def test_any_text_survives_the_stored_form(text: str) -> None:
    stored = stored_text(text)
    assert read_stored_text(stored) == text
    assert "\x00" not in stored
    if "\x00" not in text and not text.startswith(ESCAPED_TEXT_MARK):
        assert stored == text  # what needs nothing is stored as it is, readable in a dump


def test_every_text_column_takes_any_string() -> None:
    columns = [column for table in Base.metadata.tables.values() for column in table.columns]
    assert not [column for column in columns if isinstance(column.type, sa.String)]
    assert len([column for column in columns if isinstance(column.type, StoredText)]) > 50


def test_a_nul_is_stored_and_found_again_on_both_databases(database_url: str) -> None:
    from datetime import UTC, datetime

    engine = make_engine(database_url)
    upgrade(engine)
    portals = PortalRow.__table__
    names = {1: LABEL, 2: ESCAPED_TEXT_MARK + "x", 3: "plain", 4: "\x00"}
    at = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            connection.execute(
                portals.insert(),
                [{"id": i, "name": name, "created_at": at} for i, name in names.items()],
            )
        with engine.connect() as connection:
            read = dict(connection.execute(sa.select(portals.c.id, portals.c.name)).all())
            found = connection.execute(
                sa.select(portals.c.id).where(portals.c.name == LABEL)
            ).scalar_one()
            raw = connection.execute(sa.text("select name from portals where id = 1")).scalar_one()
    finally:
        engine.dispose()
    assert read == names
    assert found == 1
    assert raw == ESCAPED_TEXT_MARK + "Renewal\\u0000type"


def test_a_nul_in_a_label_is_audited_stored_and_shown_escaped(
    config_path: Path,  # noqa: F811
    database_url: str,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    tmp_path: Path,
) -> None:
    """The whole audit over real HTTP: before the fix, every audit on Postgres failed with
    "text fields cannot contain NUL" until someone edited HubSpot."""
    path = portal_dirs["night2"] / "properties" / "deals.json"
    properties = json.loads(path.read_text(encoding="utf-8"))
    prop = next(p for p in properties if p["name"] == "renewal_type")
    prop["label"] = LABEL
    prop["description"] = "Renews\x00 itself"
    prop["options"][0]["label"] = "Auto\x00matic"
    prop["options"].append({**prop["options"][0], "value": "v\x00x", "label": "New\x00"})
    path.write_text(json.dumps(properties), encoding="utf-8")  # ASCII: "\u0000" as HubSpot sends
    config = str(config_path)
    baseline_then_drift(config, emulator, portal_dirs["night2"])

    reports = {}
    for fmt in ("text", "md", "html", "json", "csv", "sarif"):
        code, reports[fmt] = run("--config", config, "audit", "--portal", "demo", "--format", fmt)
        assert code == 2, reports[fmt]
        assert "\x00" not in reports[fmt], fmt
    for fmt in ("text", "md", "html", "csv"):
        assert "Renewal\\x00type" in reports[fmt].replace("\\\\", "\\"), fmt
    document = json.loads(reports["json"])
    labels = {(c["key"], c["field"]): c for c in document["changes"]}
    assert labels[(KEY, "label")]["label"] == LABEL
    assert labels[(KEY, "label")]["after"] == LABEL
    assert labels[(KEY, "description")]["after"] == "Renews\x00 itself"
    assert labels[(KEY, "options.auto.label")]["after"] == "Auto\x00matic"
    assert labels[(KEY, "options.v\x00x")]["after"]["label"] == "New\x00"
    assert '"label": "Renewal\\u0000type"' in reports["sarif"]

    # read back from the database: the stored report, the defects, the item
    code, stored = run("--config", config, "report", "--portal", "demo", "--format", "json")
    assert code == 0 and json.loads(stored)["changes"] == document["changes"]
    code, out = run("--config", config, "defects", "list", "--portal", "demo", "--json")
    (mine,) = [d for d in json.loads(out) if d["key"] == KEY]  # one defect for the item
    fields = {c["field"]: c for c in mine["changes"]}
    assert set(fields) == {"label", "description", "options.auto.label", "options.v\x00x"}
    assert mine["label"] == LABEL
    assert fields["options.v\x00x"]["path"] == ["options", "v\x00x"]
    code, out = run("--config", config, "defects", "list", "--portal", "demo")
    assert code == 0 and "Renewal\\x00type" in out and "\x00" not in out
    code, out = run("--config", config, "defects", "show", str(mine["id"]), "--portal", "demo")
    assert code == 0 and "options.v\\x00x" in out and "\x00" not in out
    code, out = run("--config", config, "show", KEY, "--portal", "demo", "--json")
    item = json.loads(out)
    assert item["raw"]["label"] == LABEL
    assert item["canonical"]["options"]["v\x00x"]["label"] == "New\x00"
    code, out = run("--config", config, "history", KEY, "--portal", "demo")
    assert code == 0 and "\x00" not in out

    # another night: the same defects, found again by their stored fields, none new
    code, out = run("--config", config, "audit", "--portal", "demo", "--format", "json")
    summary = json.loads(out)["summary"]
    assert code == 2 and summary["defects_opened"] == 0 and summary["defects_seen_again"] > 0
    assert "\x00" not in dump_rows(database_url)
