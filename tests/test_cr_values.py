"""A change request's values are checked against the latest snapshot before anything is
written: a field the item lacks, or a value of another JSON type, is refused in the service
(so the CLI and the web app refuse alike)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

from hubaudit.governance.change_requests import parse_planned_change, value_problem

ITEM = {
    "label": "Amount",
    "hidden": False,
    "displayOrder": 3,
    "description": None,
    "options": [{"label": "A", "value": "a"}],
    "modificationMetadata": {"readOnlyValue": False},
}


def problem(text: str) -> str | None:
    return value_problem(parse_planned_change(text), ITEM)


def test_values_of_the_items_types_pass() -> None:
    assert problem("modify property:deals:amount label=Total") is None
    assert problem("modify property:deals:amount hidden=true displayOrder=4") is None
    assert problem("modify property:deals:amount displayOrder=4.5") is None
    assert problem("modify property:deals:amount description=anything") is None  # null: any
    assert problem("modify property:deals:amount modificationMetadata.readOnlyValue=true") is None
    assert problem("modify property:deals:amount options.0.label=B") is None


def test_a_field_the_item_lacks_is_refused_with_its_fields() -> None:
    found = problem("modify property:deals:amount lable=Total")
    assert found is not None
    assert "no field 'lable'" in found and "label" in found.split("its fields:")[1]
    nested = problem("modify property:deals:amount modificationMetadata.nope=true")
    assert nested is not None and "modificationMetadata.nope" in nested


def test_a_value_of_another_type_is_refused_and_says_how_to_write_text() -> None:
    found = problem("modify property:deals:amount label=123")
    assert found is not None
    assert "label is text" in found and "not a number (123)" in found
    assert "label='\"123\"'" in found
    flag = problem("modify property:deals:amount hidden=yes")
    assert flag is not None and "hidden is true or false" in flag and "quote" not in flag
    number = problem("modify property:deals:amount displayOrder=true")
    assert number is not None and "displayOrder is a number" in number


def test_the_cli_refuses_alike_and_writes_nothing(web_world: Any, tmp_path: Path) -> None:
    from hubaudit.cli import main
    from hubaudit.services.change_requests import change_requests

    config = str(tmp_path / "hubaudit.toml")  # the web world's config, on its database
    before = len(change_requests(web_world.store, "demo"))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(
            ["--config", config, "cr", "create", "--portal", "demo", "--title", "bad",
             "--change", "modify property:deals:renewal_type label=123",
             "--from", "2020-01-01", "--until", "2099-12-31", "--by", "Rita"],
            out=out,
        )  # fmt: skip
    assert code == 1, out.getvalue()  # a usage error, as for any bad planned change
    assert "label is text in the latest snapshot" in err.getvalue() + out.getvalue()
    assert len(change_requests(web_world.store, "demo")) == before
