"""Baselines as files: export, read and export again give the same payloads and the same bytes,
and every broken file is refused with its file, line and reason."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hubaudit.analysis.canonical import content_hash, without_nulls
from hubaudit.analysis.compare import scope_of
from hubaudit.errors import UsageError
from hubaudit.governance.files import (
    BaselineFileError,
    BaselineTree,
    export_tree,
    path_scope,
    read_tree,
    scope_path,
)


def realistic_tree() -> BaselineTree:
    return BaselineTree(
        portal="acme",
        scopes=(
            "property:deals",
            "property:p48151623_subscription",
            "property_group:contacts",  # governed, but holds nothing yet
            "pipeline:deals",
            "association_label:0-1:0-2",
            "workflow",
            "user",
        ),
        items={
            "property:deals:amount": {
                "label": "Amount",
                "fieldType": "number",
                "type": "number",
                "options": {},
                "hidden": False,
                "displayOrder": -1,
            },
            "property:deals:closedate": {
                "label": 'Close\ndate # "planned" — 締め切り',
                "description": "multi\nline\r\ntext\twith tab",
                "default": "2024-01-01",
                "answer": "yes",
                "merge": "<<",
                "nothing": "null",
                "empty": "",
                "padded": " lead space ",
                "big": 123456789012345678901234567890,
                "floats": [0.1, 1e16, -0.0, 5e-324, 1.7976931348623157e308],
                "nested": [[None, True], [], [{"deep": ["x", None]}]],
            },
            "property:p48151623_subscription:plan": {
                "label": "Plan\ud800 (lone surrogate)",
                "options": {"gold": {"label": "Gold", "displayOrder": 0}},
            },
            "pipeline:deals:default": {
                "label": "Sales pipeline",
                "stages": {"appointmentscheduled": {"label": "Appointment", "probability": 0.2}},
            },
            "association_label:0-1:0-2:USER_DEFINED:106": {
                "label": "Decision maker",
                "category": "USER_DEFINED",
            },
            "association_label:0-1:0-2:HUBSPOT_DEFINED:279": {"category": "HUBSPOT_DEFINED"},
            "workflow:1234": {"label": "Nurture: #1", "enabled": True, "actions": ["a", "b"]},
            "user:42": {"email": "anna@example.com", "roleId": "7"},
        },
        version=3,
        status="approved",
        approved_by="anna@example.com",
        approved_at="2024-05-01T10:00:00+00:00",
        note="Q2 review: new pipeline stages",
    )


def files_of(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def hashes(items: Any) -> dict[str, str]:
    return {key: content_hash(payload) for key, payload in items.items()}


# -- round trip -----------------------------------------------------------------------------


def test_read_gives_back_the_exported_payloads(tmp_path: Path) -> None:
    tree = realistic_tree()
    written = export_tree(tmp_path / "tree", tree)
    back = read_tree(tmp_path / "tree")

    assert back.items == tree.items
    assert hashes(back.items) == hashes(tree.items)
    assert back.scopes == tuple(sorted(tree.scopes))
    assert (back.portal, back.version, back.status) == ("acme", 3, "approved")
    assert (back.approved_by, back.approved_at, back.note) == (
        tree.approved_by,
        tree.approved_at,
        tree.note,
    )
    assert written[0] == tmp_path / "tree" / "baseline.yaml"
    assert sorted(p.relative_to(tmp_path / "tree").as_posix() for p in written) == sorted(
        files_of(tmp_path / "tree")
    )


def test_export_read_export_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    export_tree(first, realistic_tree())
    export_tree(second, read_tree(first))
    assert files_of(first) == files_of(second)
    assert "property_group/contacts.yaml" in files_of(first)  # the empty scope has its file

    stamps = {path: path.stat().st_mtime_ns for path in first.rglob("*.yaml")}
    export_tree(first, read_tree(second))
    assert files_of(first) == files_of(second)
    assert {path: path.stat().st_mtime_ns for path in first.rglob("*.yaml")} == stamps
    assert not [path for path in first.rglob("*") if path.name.endswith(".tmp")]


DEALS_YAML = """\
# Amount
amount:
  displayOrder: -1
  fieldType: number
  hidden: false
  label: Amount
  options: {}
  type: number
# Close date # "planned" — 締め切り
closedate:
  answer: 'yes'
  big: 123456789012345678901234567890
  default: '2024-01-01'
  description: "multi\\nline\\r\\ntext\\twith tab"
  empty: ''
  floats:
  - 0.1
  - 1.0e+16
  - -0.0
  - 5.0e-324
  - 1.7976931348623157e+308
  label: "Close\\ndate # \\"planned\\" — 締め切り"
  merge: '<<'
  nested:
  - - null
    - true
  - []
  - - deep:
      - x
      - null
  nothing: 'null'
  padded: ' lead space '
"""


def test_the_files_read_well_and_diff_well(tmp_path: Path) -> None:
    export_tree(tmp_path, realistic_tree())
    # a comment names each item; keys sorted; one line per value; text that would read back
    # as something else ('yes', a date, '<<', 'null') quoted; line breaks escaped, not folded
    assert (tmp_path / "property" / "deals.yaml").read_bytes() == DEALS_YAML.encode("utf-8")
    assert (tmp_path / "property_group" / "contacts.yaml").read_bytes() == b"{}\n"
    assert (
        (tmp_path / "workflow.yaml")
        .read_text(encoding="utf-8")
        .startswith("# Nurture: #1\n'1234':\n")
    )
    subscription = (tmp_path / "property" / "p48151623_subscription.yaml").read_bytes()
    assert subscription.startswith(b'# Plan (lone surrogate)\nplan:\n  label: "Plan\\uD800 (')
    labels = (tmp_path / "association_label" / "0-1" / "0-2.yaml").read_text(encoding="utf-8")
    assert labels.splitlines() == [
        "HUBSPOT_DEFINED:279:",
        "  category: HUBSPOT_DEFINED",
        "# Decision maker",
        "USER_DEFINED:106:",
        "  category: USER_DEFINED",
        "  label: Decision maker",
    ]
    manifest = (tmp_path / "baseline.yaml").read_text(encoding="utf-8").splitlines()
    assert manifest[0].startswith("# hubaudit baseline")
    assert [line for line in manifest if not line.startswith("#")] == [
        "portal: acme",
        "version: 3",
        "status: approved",
        "approved_by: anna@example.com",
        "approved_at: '2024-05-01T10:00:00+00:00'",
        "note: 'Q2 review: new pipeline stages'",
        "scopes:",
        "- association_label:0-1:0-2",
        "- pipeline:deals",
        "- property:deals",
        "- property:p48151623_subscription",
        "- property_group:contacts",
        "- user",
        "- workflow",
    ]


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        ("workflow", "workflow.yaml"),
        ("property:deals", "property/deals.yaml"),
        ("association_label:0-1:0-2", "association_label/0-1/0-2.yaml"),
        ("property:p48151623_subscription", "property/p48151623_subscription.yaml"),
        ("property:..", "property/%2E..yaml"),
        ("property:a/b c%", "property/a%2Fb%20c%25.yaml"),
        ("property:é", "property/%C3%A9.yaml"),
        ("property:\ud800", "property/%ED%A0%80.yaml"),
    ],
)
def test_scope_paths_are_safe_and_reversible(scope: str, path: str) -> None:
    assert scope_path(scope) == PurePosixPath(path)
    assert path_scope(PurePosixPath(path)) == scope


@pytest.mark.parametrize(
    "path",
    [
        "property/de%61ls.yaml",
        "property/%c3%a9.yaml",
        "property/a b.yaml",
        "property/%zz.yaml",
        "property/.yaml",
        "property/deals.yml",
        "property/%FF.yaml",
    ],
)
def test_only_the_canonical_spelling_names_a_scope(path: str) -> None:
    assert path_scope(PurePosixPath(path)) is None


# -- property: any canonical payload survives -------------------------------------------------

SCOPES = ("property", "property:deals", "association_label:0-1:0-2", "workflow")
awkward = st.sampled_from(
    ["\ud800", "\udfff", "\ud83d\ude00", "\x85", "\u2028", "\ufeff", "\t", "\r\n", "\x00", "#",
     ": ", "- ", "'", '"', "\\", "<<", "=", "yes", "null", "~", "2024-01-01", "1e16", "0x1f",
     " ", "? ", "&a", "*a", "!x", "%", "@", "`", "|", ">", "\u00a0", "\U0010ffff"]
)  # fmt: skip
texts = st.lists(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=6) | awkward, max_size=4
).map("".join)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)
payloads = st.builds(
    lambda fields, label: without_nulls({**fields, **({"label": label} if label else {})}),
    st.dictionaries(texts, json_values, max_size=4),
    st.none() | texts,
)
keys = st.builds(lambda scope, item_id: f"{scope}:{item_id}", st.sampled_from(SCOPES), texts)


def valid_items(items: dict[str, Any]) -> dict[str, Any]:
    """Only keys with an id in their scope (``property:`` + ``deals:`` has none)."""
    return {
        key: payload
        for key, payload in items.items()
        if len(key) > len(scope_of(key, SCOPES) or key) + 1
    }


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.dictionaries(keys, payloads, max_size=4).map(valid_items))
@example({"property:deals:\ud800": {"label": "\ud83d\ude00\ud800\n", "x": [None, -0.0, 1e16]}})
@example({"workflow:a:b": {"": {"": ""}, "\x85": "\u2028", "<<": "<<", "?": [[], {}]}})
def test_any_canonical_payload_survives_export_and_read(
    tmp_path_factory: pytest.TempPathFactory, items: dict[str, Any]
) -> None:
    tree = BaselineTree(portal="p", scopes=SCOPES, items=items)
    # a directory per example, under pytest's own (tmp_path would be one for all examples)
    with tempfile.TemporaryDirectory(dir=tmp_path_factory.getbasetemp()) as directory:
        export_tree(Path(directory), tree)
        exported = files_of(Path(directory))
        back = read_tree(Path(directory))
        assert back.items == items
        assert hashes(back.items) == hashes(items)
        export_tree(Path(directory), back)
        assert files_of(Path(directory)) == exported


# -- re-export ------------------------------------------------------------------------------


def test_a_new_export_replaces_the_old_one_and_keeps_other_files(tmp_path: Path) -> None:
    tree = realistic_tree()
    export_tree(tmp_path, tree)
    (tmp_path / "README.md").write_text("our baseline\n", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n", encoding="utf-8")
    (tmp_path / "association_label" / "notes.txt").write_text("keep\n", encoding="utf-8")

    smaller = BaselineTree(
        portal="acme",
        scopes=("property:deals", "association_label:0-1:0-2"),
        items={key: value for key, value in tree.items.items() if key.startswith("property:deals")},
    )
    export_tree(tmp_path, smaller)

    assert sorted(files_of(tmp_path)) == [
        ".git/config",
        "README.md",
        "association_label/0-1/0-2.yaml",
        "association_label/notes.txt",
        "baseline.yaml",
        "property/deals.yaml",
    ]
    assert not (tmp_path / "pipeline").exists() and not (tmp_path / "property_group").exists()
    assert read_tree(tmp_path) == BaselineTree(
        portal="acme",
        scopes=("association_label:0-1:0-2", "property:deals"),
        items=dict(sorted(smaller.items.items())),
    )
    assert (tmp_path / "association_label" / "0-1" / "0-2.yaml").read_bytes() == b"{}\n"


def test_export_refuses_a_directory_that_is_not_an_export(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"is not empty and is not a baseline export"):
        export_tree(tmp_path, realistic_tree())
    assert sorted(files_of(tmp_path)) == ["notes.txt"]

    fresh_clone = tmp_path / "clone"
    (fresh_clone / ".git").mkdir(parents=True)  # hidden entries alone do not count
    export_tree(fresh_clone, realistic_tree())
    assert read_tree(fresh_clone).items == realistic_tree().items

    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(UsageError, match="is not a directory"):
        export_tree(tmp_path / "file", realistic_tree())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"items": {"property:tickets:x": {}}}, "lies in none of the baseline's scopes"),
        ({"items": {"property:deals:": {}}}, "has an empty id"),
        ({"items": {"property:deals:x": {"a": None}}}, "field 'a' is null"),
        ({"items": {"property:deals:x": {"a": [float("nan")]}}}, "nan is not a JSON number"),
        ({"items": {"property:deals:x": {1: "a"}}}, "field name 1 is not text"),
        ({"items": {"property:deals:x": {"a": {1, 2}}}}, "set is not a JSON value"),
        ({"scopes": ("deal:x",)}, "does not start with a kind"),
        ({"scopes": ("property:",)}, "empty segment"),
        ({"scopes": ("property:deals", "property:deals")}, "listed twice"),
        ({"scopes": ("property:Deals", "property:deals")}, "differ only in case"),
        ({"scopes": ("property:deals", "property:deals.yaml:x")}, "would be a directory"),
        ({"version": True}, "'version' must be a whole number"),
        ({"approved_at": "monday"}, "'approved_at' must be an ISO 8601"),
        ({"portal": ""}, "'portal' must be the portal's name"),
    ],
)
def test_export_refuses_a_tree_it_could_not_give_back(
    tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    tree = replace(BaselineTree(portal="acme", scopes=("property:deals",), items={}), **change)
    with pytest.raises(ValueError, match=re.escape(reason)):
        export_tree(tmp_path / "out", tree)
    assert not (tmp_path / "out").exists()  # checked before anything is written


def test_an_object_met_twice_is_written_twice(tmp_path: Path) -> None:
    shared = {"label": "same"}
    tree = BaselineTree(
        portal="acme", scopes=("workflow",), items={"workflow:1": {"a": shared, "b": shared}}
    )
    export_tree(tmp_path, tree)
    assert "&" not in (tmp_path / "workflow.yaml").read_text(encoding="utf-8")
    assert read_tree(tmp_path).items == tree.items


# -- broken trees ---------------------------------------------------------------------------

MANIFEST = "portal: acme\nscopes:\n- property:deals\n"
DEALS = "property/deals.yaml"


@dataclass(frozen=True)
class Broken:
    files: dict[str, str | bytes]
    file: str
    line: int | None
    reason: str


def in_deals(text: str | bytes, line: int | None, reason: str) -> Broken:
    """A tree whose manifest is right and whose property/deals.yaml is ``text``."""
    return Broken({"baseline.yaml": MANIFEST, DEALS: text}, DEALS, line, reason)


def in_manifest(text: str | bytes, line: int | None, reason: str) -> Broken:
    return Broken({"baseline.yaml": text, DEALS: "{}\n"}, "baseline.yaml", line, reason)


def with_file(name: str, reason: str, text: str = "{}\n") -> Broken:
    """A right tree plus one more file, refused with no line."""
    return Broken({"baseline.yaml": MANIFEST, DEALS: "{}\n", name: text}, name, None, reason)


BROKEN = {
    # the manifest
    "no manifest": Broken({DEALS: "{}\n"}, "baseline.yaml", None, "missing"),
    "manifest .yml": Broken(
        {"baseline.yml": MANIFEST}, "baseline.yaml", None, "rename baseline.yml to baseline.yaml"
    ),
    "manifest a list": in_manifest("- portal\n- scopes\n", 1, "must be a mapping"),
    "manifest empty": in_manifest("# nothing\n", 1, "the manifest is empty"),
    "no portal": in_manifest("scopes:\n- property:deals\n", None, "'portal' is missing"),
    "no scopes": in_manifest("portal: acme\n", None, "'scopes' is missing"),
    "portal a number": in_manifest(
        "portal: 12\nscopes: []\n", 1, "'portal' must be the portal's name, not the number 12"
    ),
    "version text": in_manifest(
        "portal: a\nversion: '3'\nscopes: []\n",
        2,
        "'version' must be a whole number, not the text '3'",
    ),
    "version bool": in_manifest(
        "portal: a\nversion: true\nscopes: []\n", 2, "'version' must be a whole number"
    ),
    "note a list": in_manifest(
        "portal: a\nnote: [x]\nscopes: []\n", 2, "'note' must be text, not a list"
    ),
    "note null": in_manifest("portal: a\nnote:\nscopes: []\n", 2, "'note' must be text, not null"),
    "approved_at not iso": in_manifest(
        "portal: a\napproved_at: last week\nscopes: []\n", 2, "ISO 8601"
    ),
    "approved_at a timestamp": in_manifest(
        "portal: a\napproved_at: 2024-05-01 10:00:00\nscopes: []\n", 2, "is a date/time"
    ),
    "scopes text": in_manifest("portal: a\nscopes: property:deals\n", 2, "'scopes' must be a list"),
    "unknown key": in_manifest(
        "portal: a\nscopes: []\nowner: me\n", 3, "unknown key 'owner'; known: portal,"
    ),
    "duplicate scope": in_manifest(
        "portal: a\nscopes:\n- property:deals\n- property:deals\n",
        4,
        "scope 'property:deals' is listed twice (first at line 3)",
    ),
    "scope not a kind": in_manifest(
        "portal: a\nscopes:\n- property:deals\n- deal:x\n", 4, "does not start with a kind"
    ),
    "scope empty segment": in_manifest(
        "portal: a\nscopes:\n- 'property:'\n", 3, "has an empty segment"
    ),
    "scope a number": in_manifest("portal: a\nscopes:\n- 5\n", 3, "a scope must be text"),
    # YAML syntax
    "unclosed list": in_manifest(
        "portal: a\nscopes: [property:deals\nnote: x\n", 3, "invalid YAML: expected ',' or ']'"
    ),
    "bad indentation": in_deals("amount:\n  label: x\n type: y\n", 3, "invalid YAML"),
    "tab indentation": in_deals("amount:\n\tlabel: x\n", 2, "a tab indents this line"),
    "two documents": in_deals("{}\n---\n{}\n", 2, "a second YAML document"),
    "control character": in_deals(
        'amount:\n  label: "a\x07"\n',
        2,
        "the character U+0007 is not allowed in YAML: write it as an escape (\\u0007)",
    ),
    # duplicate keys
    "duplicate item": in_deals(
        "amount: {}\nx: {}\namount: {}\n", 3, "duplicate key 'amount' (first at line 1)"
    ),
    "duplicate field": in_deals("amount:\n  label: a\n  label: b\n", 3, "duplicate key 'label'"),
    "duplicate flow key": in_deals("amount: {a: 1, b: 2, a: 3}\n", 1, "duplicate key 'a'"),
    "duplicate in manifest": in_manifest(
        "portal: a\nportal: b\nscopes: []\n", 2, "duplicate key 'portal'"
    ),
    # not JSON
    "number id": in_deals("1: {}\n", 1, "the key '1' reads as the number 1: quote it"),
    "bool key": in_deals("amount:\n  true: x\n", 2, "the key 'true' reads as true"),
    "null key": in_deals("amount:\n  ~: x\n", 2, "the key '~' reads as null"),
    "list key": in_deals("amount:\n  ? [a]\n  : x\n", 2, "a mapping key must be text"),
    "date": in_deals("amount:\n  since: 2024-01-01\n", 2, "'2024-01-01' is a date/time"),
    "timestamp": in_deals("amount:\n  at: 2024-01-01T10:00:00Z\n", 2, "is a date/time"),
    "binary": in_deals("amount:\n  blob: !!binary aGVsbG8=\n", 2, "is binary data"),
    "set": in_deals("amount:\n  s: !!set {a, b}\n", 2, "is a set (!!set)"),
    "omap": in_deals("amount:\n  s: !!omap [a: 1]\n", 2, "is an ordered map"),
    "nan": in_deals("amount:\n  n: .nan\n", 2, "'.nan' is not a JSON number"),
    "infinity": in_deals("amount:\n  n: [1, -.inf]\n", 2, "'-.inf' is not a JSON number"),
    "python tag": in_deals(
        "amount:\n  n: !!python/tuple [1]\n",
        2,
        "has the tag !!python/tuple, which is not a plain JSON value",
    ),
    "local tag": in_deals("amount:\n  n: !money 5\n", 2, "'5' has the tag !money"),
    "ambiguous yes": in_deals("amount:\n  hidden: yes\n", 2, "'yes' is ambiguous"),
    "null field": in_deals(
        "amount:\n  label: a\n  description:\n", 3, "'description' has no value (null)"
    ),
    "anchor": in_deals("amount: &base\n  label: a\n", 1, "anchor &base: YAML anchors"),
    "alias": in_deals("amount:\n  a: [1]\n  b: *x\n", 3, "alias *x: YAML anchors and aliases"),
    "merge key": in_deals("amount:\n  <<: {label: a}\n", 2, "merge keys (<<) are not allowed"),
    "merge value": in_deals("amount:\n  op: <<\n", 2, "'<<' is a YAML merge key: quote it"),
    # the shape of a scope file
    "scope file a list": in_deals(
        "- amount\n", 1, "must be a mapping of item id to payload, not a list"
    ),
    "payload a number": in_deals(
        "amount: {}\nclosedate: 5\n",
        2,
        "item 'closedate': the payload must be a mapping, not the number 5",
    ),
    "payload null": in_deals("amount:\n", 1, "the payload must be a mapping, not null"),
    "empty file": in_deals("", 1, "the file is empty"),
    "comments only": in_deals("# Amount\n", 1, "the file is empty"),
    "empty id": in_deals("'': {}\n", 1, "an item id is empty"),
    "id in a narrower scope": Broken(
        {
            "baseline.yaml": "portal: a\nscopes:\n- property\n- property:deals\n",
            DEALS: "{}\n",
            "property.yaml": "x: {}\ndeals:amount: {}\n",
        },
        "property.yaml",
        2,
        "key 'property:deals:amount' belongs to scope 'property:deals', so it goes in " + DEALS,
    ),
    # the files of the tree
    "unlisted scope": with_file(
        "property/tickets.yaml", "scope 'property:tickets' is not in the manifest: add it"
    ),
    "not a kind": with_file(
        "docs/notes.yaml", "not a scope file: scope 'docs:notes' does not start with a kind"
    ),
    "undecodable path": with_file("property/a b.yaml", "this path names no scope"),
    "non-canonical path": with_file("property/%64eals.yaml", "this path names no scope"),
    "yml": with_file("property/tickets.yml", "rename it to property/tickets.yaml"),
    "scope without file": Broken(
        {"baseline.yaml": MANIFEST},
        "baseline.yaml",
        3,
        "scope 'property:deals' has no file: expected property/deals.yaml",
    ),
    "not utf-8": in_deals(b"amount:\n  label: caf\xe9\n", 2, "not UTF-8 text (byte 0xE9)"),
    "manifest not utf-8": in_manifest(b"portal: \xff\xfe\nscopes: []\n", 1, "not UTF-8"),
}


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)


@pytest.mark.parametrize("case", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_tree_is_refused_with_file_line_and_reason(tmp_path: Path, case: Broken) -> None:
    write_files(tmp_path, case.files)
    with pytest.raises(BaselineFileError) as caught:
        read_tree(tmp_path)
    error = caught.value
    assert (error.file, error.line) == (case.file, case.line), str(error)
    assert case.reason in error.reason
    where = case.file if case.line is None else f"{case.file}:{case.line}"
    assert str(error) == f"{where}: {error.reason}"


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(BaselineFileError, match="does not exist") as caught:
        read_tree(tmp_path / "nowhere")
    assert (caught.value.file, caught.value.line) == (str(tmp_path / "nowhere"), None)
    assert isinstance(caught.value, UsageError)


def test_other_files_are_not_read(tmp_path: Path) -> None:
    export_tree(tmp_path, realistic_tree())
    write_files(
        tmp_path,
        {
            "README.md": "# our baseline\n",
            ".git/config": "[core]\n",
            ".github/workflows/check.yaml": "on: push\n",  # hidden: not ours
            "property/.deals.yaml.1a2b.tmp": "half a file",
            "notes.txt": b"\xff",
        },
    )
    assert read_tree(tmp_path).items == realistic_tree().items


def test_hand_written_yaml_is_accepted_when_it_is_plain_json(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "baseline.yaml": "portal: acme\nscopes: [property:deals, workflow]\nversion: 2\n",
            "property/deals.yaml": (
                "\ufeff# written by hand\r\n"
                "amount: {label: Amount, options: [a, 'b', \"c\"], hidden: False, n: 1_000}\r\n"
                "'12': {x: !!str 12, y: 0.5, z: [~, null]}\r\n"
            ),
            "workflow.yaml": "{}",
        },
    )
    tree = read_tree(tmp_path)
    assert tree.items == {
        "property:deals:12": {"x": "12", "y": 0.5, "z": [None, None]},
        "property:deals:amount": {
            "label": "Amount",
            "options": ["a", "b", "c"],
            "hidden": False,
            "n": 1000,
        },
    }
    assert tree.version == 2 and tree.status is None
