from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubaudit.config import ConfigErrors
from hubaudit.errors import ConfigError
from hubaudit.governance.ignore import (
    ENTRY_FIELDS,
    KNOWN_FIELDS,
    REASON_REQUIRED,
    IgnoreRule,
    IgnoreVerdict,
    field_problem,
    glob_problem,
    ignored_by,
    ignored_note,
    judge,
    kinds_of_key,
    load_ignore_rules,
    parse_ignore_rules,
    place,
    refusal_notes,
    refused_note,
    rule_matches,
    suggest_rules,
)
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.items import Kind


def field_change(kind: Kind, key: str, *path: str | int) -> Change:
    return Change(
        kind=kind,
        key=key,
        op=ChangeOp.MODIFIED,
        field=".".join(str(part) for part in path),
        path=tuple(path),
        before=1,
        after=2,
    )


def whole_change(kind: Kind, key: str, op: ChangeOp) -> Change:
    payload = {"name": key}
    return Change(
        kind=kind,
        key=key,
        op=op,
        field=None,
        path=(),
        before=payload if op is ChangeOp.REMOVED else None,
        after=payload if op is ChangeOp.ADDED else None,
    )


def rules(text: str) -> tuple[IgnoreRule, ...]:
    return parse_ignore_rules(text, "ignore.toml")


def ignored(change: Change, found: tuple[IgnoreRule, ...]) -> bool:
    return ignored_by(change, found) is not None


def prop(key: str, *path: str | int) -> Change:
    return field_change(Kind.PROPERTY, key, *path)


DISPLAY_ORDER = """\
# options are renumbered by HubSpot

[[ignore]]
kind = "property"
key = "property:*"
field = "options.*.displayOrder"
op = ["modified"]
reason = "HubSpot renumbers option order when anyone drags an option"
"""


def test_display_order_of_every_option_of_every_property() -> None:
    found = rules(DISPLAY_ORDER)
    assert ignored(prop("property:deals:stage_x", "options", "gold", "displayOrder"), found)
    assert ignored(prop("property:contacts:tier", "options", "silver", "displayOrder"), found)
    assert not ignored(prop("property:deals:stage_x", "options", "gold", "label"), found)
    stage = field_change(Kind.PIPELINE, "pipeline:deals:default", "stages", "s1", "displayOrder")
    assert not ignored(stage, found)
    # the kind filter alone stops it: a pipeline change with a property-like path
    lookalike = field_change(Kind.PIPELINE, "pipeline:deals:p", "options", "gold", "displayOrder")
    assert not ignored(lookalike, found)
    (rule,) = found
    assert rule == IgnoreRule(
        index=1,
        reason="HubSpot renumbers option order when anyone drags an option",
        kind=Kind.PROPERTY,
        key="property:*",
        field=("options", "*", "displayOrder"),
        ops=frozenset({ChangeOp.MODIFIED}),
        file="ignore.toml",
        line=3,
    )
    assert rule.describe() == "ignore.toml:3 rule 1 (property:* options.*.displayOrder op=modified)"


def test_globstar_stands_for_any_number_of_segments_none_included() -> None:
    found = rules('[[ignore]]\nfield = "**.displayOrder"\nreason = "r"\n')
    assert ignored(prop("property:deals:a", "displayOrder"), found)
    assert ignored(prop("property:deals:a", "options", "gold", "displayOrder"), found)
    assert not ignored(prop("property:deals:a", "options", "gold", "label"), found)

    found = rules('[[ignore]]\nfield = "options.**.label"\nreason = "r"\n')
    assert ignored(prop("property:deals:a", "options", "label"), found)
    assert ignored(prop("property:deals:a", "options", "x", "y", "label"), found)
    assert not ignored(prop("property:deals:a", "other", "label"), found)

    everything = rules('[[ignore]]\nfield = "**"\nreason = "r"\n')
    assert ignored(prop("property:deals:a", "x"), everything)
    # `**` is still a field pattern: a whole item is not a field
    assert not ignored(whole_change(Kind.PROPERTY, "property:deals:a", ChangeOp.ADDED), everything)


def test_a_rule_matches_changes_at_or_below_its_path() -> None:
    found = rules('[[ignore]]\nfield = "options"\nreason = "r"\n')
    assert ignored(prop("property:deals:a", "options"), found)
    assert ignored(prop("property:deals:a", "options", "gold", "label"), found)
    assert not ignored(prop("property:deals:a", "optionsX"), found)
    assert not ignored(prop("property:deals:a", "label"), found)

    deeper = rules('[[ignore]]\nfield = "options.gold"\nreason = "r"\n')
    assert not ignored(prop("property:deals:a", "options"), deeper)

    within = rules('[[ignore]]\nfield = "display*"\nreason = "r"\n')
    assert ignored(prop("property:deals:a", "displayOrder"), within)
    assert ignored(prop("property:deals:a", "display"), within)
    assert not ignored(prop("property:deals:a", "label", "displayOrder"), within)


def test_path_parts_are_compared_as_text() -> None:
    found = rules('[[ignore]]\nfield = "stages.2.label"\nreason = "r"\n')
    assert ignored(field_change(Kind.PIPELINE, "pipeline:deals:p", "stages", 2, "label"), found)


def test_the_list_form_holds_literal_dots_and_stars() -> None:
    found = rules('[[ignore]]\nfield = ["options", "a.b", "la[*]el"]\nreason = "r"\n')
    assert ignored(prop("property:deals:a", "options", "a.b", "la*el"), found)
    assert not ignored(prop("property:deals:a", "options", "a.b", "label"), found)
    assert not ignored(prop("property:deals:a", "options", "a", "b", "la*el"), found)
    assert found[0].describe() == 'ignore.toml:1 rule 1 (* ["options", "a.b", "la[*]el"])'

    dotted = rules('[[ignore]]\nfield = "options.a.b"\nreason = "r"\n')
    assert not ignored(prop("property:deals:a", "options", "a.b"), dotted)
    assert ignored(prop("property:deals:a", "options", "a", "b"), dotted)

    empty_key = rules('[[ignore]]\nfield = ["options", ""]\nreason = "r"\n')
    assert ignored(prop("property:deals:a", "options", "", "label"), empty_key)


def test_whole_item_changes_are_matched_only_by_rules_without_field() -> None:
    added = whole_change(Kind.WORKFLOW, "workflow:42", ChangeOp.ADDED)
    removed = whole_change(Kind.WORKFLOW, "workflow:42", ChangeOp.REMOVED)
    whole = rules('[[ignore]]\nkey = "workflow:42"\nreason = "a sandbox workflow"\n')
    assert ignored(added, whole)
    assert ignored(removed, whole)
    assert ignored(field_change(Kind.WORKFLOW, "workflow:42", "name"), whole)
    with_field = rules('[[ignore]]\nkey = "workflow:42"\nfield = "*"\nreason = "r"\n')
    assert not ignored(added, with_field)
    assert not ignored(removed, with_field)


def test_op_filter() -> None:
    found = rules('[[ignore]]\nkind = "workflow"\nop = "added"\nreason = "r"\n')
    assert ignored(whole_change(Kind.WORKFLOW, "workflow:1", ChangeOp.ADDED), found)
    assert not ignored(whole_change(Kind.WORKFLOW, "workflow:1", ChangeOp.REMOVED), found)
    assert not ignored(field_change(Kind.WORKFLOW, "workflow:1", "name"), found)
    both = rules('[[ignore]]\nkind = "workflow"\nop = ["added", "removed"]\nreason = "r"\n')
    assert ignored(whole_change(Kind.WORKFLOW, "workflow:1", ChangeOp.REMOVED), both)
    assert both[0].describe() == "ignore.toml:1 rule 1 (workflow * op=added,removed)"


def test_kind_filter() -> None:
    found = rules('[[ignore]]\nkind = "pipeline"\nfield = "**.displayOrder"\nreason = "r"\n')
    assert ignored(
        field_change(Kind.PIPELINE, "pipeline:deals:p", "stages", "s", "displayOrder"), found
    )
    assert not ignored(prop("property:deals:a", "options", "gold", "displayOrder"), found)
    group = field_change(Kind.PROPERTY_GROUP, "property_group:deals:g", "displayOrder")
    assert not ignored(group, rules('[[ignore]]\nkind = "property"\nreason = "r"\n'))


NEGATION = """\
[[ignore]]
key = "property:deals:*"
reason = "the deals team owns deal properties"

[[ignore]]
key = "property:deals:*"
field = "fieldType"
negate = true
reason = "a changed field type breaks integrations: always report it"

[[ignore]]
key = "property:deals:legacy_*"
field = "fieldType"
reason = "legacy properties are being migrated"
"""


def test_the_last_matching_rule_decides_and_a_negation_takes_changes_back() -> None:
    first, negation, last = rules(NEGATION)
    assert ignored_by(prop("property:deals:amount", "label"), (first, negation, last)) == first
    field_type = prop("property:deals:amount", "fieldType")
    assert ignored_by(field_type, (first, negation, last)) is None
    legacy = prop("property:deals:legacy_code", "fieldType")
    assert ignored_by(legacy, (first, negation, last)) == last
    assert ignored_by(legacy, (first, negation)) is None
    # order is the meaning: a negation before the rule it would undo undoes nothing
    assert ignored_by(field_type, (negation, first)) == first
    assert not ignored(prop("property:contacts:email", "label"), (first, negation, last))
    assert negation.describe() == "ignore.toml:5 rule 2 (!property:deals:* fieldType)"
    assert (negation.index, negation.line, negation.negate) == (2, 5, True)


def test_no_rules_at_all_is_valid() -> None:
    assert rules("") == ()
    assert rules("# nothing to ignore yet\n") == ()
    assert rules("ignore = []\n") == ()


def test_inline_rules_point_at_their_ignore_line() -> None:
    (rule,) = rules('# inline\nignore = [{ key = "user:*", reason = "r" }]\n')
    assert (rule.key, rule.line) == ("user:*", 2)
    with pytest.raises(ConfigError) as caught:
        rules('# inline\nignore = [{ key = "user:*" }]\n')
    assert (caught.value.line, caught.value.key) == (2, "ignore[0].reason")


def test_load_reads_the_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "ignore.toml"
    path.write_text(DISPLAY_ORDER, encoding="utf-8")
    (rule,) = load_ignore_rules(path)
    assert (rule.file, rule.line) == (str(path), 3)
    with pytest.raises(ConfigError, match="ignore file not found") as caught:
        load_ignore_rules(tmp_path / "missing.toml")
    assert caught.value.file == str(tmp_path / "missing.toml")
    path.write_bytes(b'[[ignore]]\nreason = "\xff"\n')
    with pytest.raises(ConfigError, match="cannot read ignore file"):
        load_ignore_rules(path)


RULE = '[[ignore]]\nreason = "r"\n'


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        pytest.param('[[ignore]]\nreason = "r\n', 2, None, "not valid TOML: ", id="not-toml"),
        pytest.param(
            RULE + 'reason = "again"\n', 3, None, "Cannot overwrite a value", id="duplicate-key"
        ),
        pytest.param("[[ignore]]\nreason =", 2, None, "not valid TOML", id="at-end"),
        pytest.param(RULE + "\n[defaults]\nkind = 1\n", 4, "defaults", "known keys: ignore"),
        pytest.param("ignores = 1\n", 1, "ignores", "unknown key", id="top-level-key"),
        pytest.param('[ignore]\nreason = "r"\n', 1, "ignore", "array of tables", id="table"),
        pytest.param("ignore = 3\n", 1, "ignore", "array of tables", id="not-array"),
        pytest.param("\nignore = [1]\n", 2, "ignore", "must be a table", id="not-tables"),
        pytest.param(
            RULE + '\n[[ignore]]\nreason = "r"\nfields = "x"\n',
            6,
            "ignore[1].fields",
            "unknown key; known keys: allow_critical, critical_reason, field, key, kind, "
            "negate, op, reason",
            id="unknown-key",
        ),
        pytest.param(
            RULE + '\n[[ignore]]\nkey = "user:*"\n', 4, "ignore[1].reason", REASON_REQUIRED
        ),
        pytest.param('[[ignore]]\nreason = "  "\n', 2, "ignore[0].reason", REASON_REQUIRED),
        pytest.param("[[ignore]]\nreason = 3\n", 2, "ignore[0].reason", "must be a string"),
        pytest.param(
            RULE + 'kind = "properties"\n', 3, "ignore[0].kind", "unknown kind; known kinds: "
        ),
        pytest.param(RULE + "kind = 3\n", 3, "ignore[0].kind", "unknown kind", id="kind-int"),
        pytest.param(RULE + 'op = "changed"\n', 3, "ignore[0].op", "must be one of added, "),
        pytest.param(RULE + 'op = ["added", "x"]\n', 3, "ignore[0].op", "must be one of"),
        pytest.param(RULE + "op = []\n", 3, "ignore[0].op", "non-empty list", id="op-empty"),
        pytest.param(RULE + "op = 1\n", 3, "ignore[0].op", "must be one of", id="op-int"),
        pytest.param(RULE + 'key = ""\n', 3, "ignore[0].key", "non-empty key glob"),
        pytest.param(RULE + 'key = " "\n', 3, "ignore[0].key", "non-empty key glob"),
        pytest.param(RULE + "key = 7\n", 3, "ignore[0].key", "non-empty key glob"),
        pytest.param(RULE + 'field = ""\n', 3, "ignore[0].field", "must not be empty"),
        pytest.param(RULE + 'field = "a..b"\n', 3, "ignore[0].field", "empty segment"),
        pytest.param(RULE + 'field = "a."\n', 3, "ignore[0].field", "empty segment"),
        pytest.param(RULE + "field = []\n", 3, "ignore[0].field", "must be a path pattern"),
        pytest.param(RULE + "field = [1]\n", 3, "ignore[0].field", "must be a path pattern"),
        pytest.param(RULE + "field = 1\n", 3, "ignore[0].field", "must be a path pattern"),
        pytest.param(RULE + 'negate = "yes"\n', 3, "ignore[0].negate", "must be true or false"),
        pytest.param(
            RULE + 'kind = "property"\nkey = "pipeline:*"\n',
            4,
            "ignore[0].key",
            "can never match a property item: their keys start with property:",
            id="key-of-another-kind",
        ),
        pytest.param(
            RULE + 'kind = "property"\nkey = "property_group:deals:*"\n',
            4,
            "ignore[0].key",
            "can never match a property item",
            id="key-of-a-longer-kind",
        ),
        pytest.param(
            RULE + 'kind = "property"\nkey = "property"\n',
            4,
            "ignore[0].key",
            "can never match a property item",
            id="exact-key-without-colon",
        ),
        pytest.param(
            RULE + 'key = "proprety:*"\n',
            3,
            "ignore[0].key",
            "item keys start with their kind",
            id="key-of-no-kind",
        ),
        pytest.param(
            RULE + 'field = "name"\nop = ["added", "removed"]\n',
            4,
            "ignore[0].op",
            "a rule with a field only matches modified fields",
            id="field-with-whole-item-ops",
        ),
        pytest.param(
            RULE + 'key = "property:[deals:*"\n',
            3,
            "ignore[0].key",
            "is not a valid glob: the [ at character 10 opens a set that is never closed",
            id="unclosed-set-in-key",
        ),
        pytest.param(
            RULE + 'field = ["options", "[gold", "label"]\n',
            3,
            "ignore[0].field",
            "is not a valid glob: the [ at character 1",
            id="unclosed-set-in-field",
        ),
        pytest.param(
            RULE + 'kind = "property"\nfield = "fieldTyp"\n',
            4,
            "ignore[0].field",
            "no property item has a field 'fieldTyp': did you mean 'fieldType'? known fields: ",
            id="unknown-field",
        ),
        pytest.param(
            RULE + 'key = "user:*"\nfield = "super*"\nop = "added"\n',
            5,
            "ignore[0].op",
            "only matches modified fields",
            id="known-field-glob-passes-field-check",
        ),
        pytest.param(
            RULE + 'key = "pipeline:deals:*"\nfield = "stages.*.lable"\n',
            4,
            "ignore[0].field",
            "no entry of stages has a field 'lable': did you mean 'label'?",
            id="unknown-field-of-an-entry",
        ),
        pytest.param(
            RULE + 'key = "property_group:*"\nfield = "x*"\n',
            4,
            "ignore[0].field",
            "no property_group item has a field 'x*'",
            id="field-glob-matching-no-field",
        ),
        pytest.param(
            RULE + 'allow_critical = "yes"\n',
            3,
            "ignore[0].allow_critical",
            "must be true or false",
            id="allow-critical-not-bool",
        ),
        pytest.param(
            RULE + "allow_critical = true\n",
            1,
            "ignore[0].critical_reason",
            "allow_critical = true needs a critical_reason",
            id="allow-critical-without-its-reason",
        ),
        pytest.param(
            RULE + 'allow_critical = true\ncritical_reason = " "\n',
            4,
            "ignore[0].critical_reason",
            "needs a critical_reason",
            id="allow-critical-with-a-blank-reason",
        ),
        pytest.param(
            RULE + 'critical_reason = "why"\n',
            3,
            "ignore[0].critical_reason",
            "only a rule with allow_critical = true ignores critical drift",
            id="critical-reason-without-allow-critical",
        ),
        pytest.param(
            RULE + 'negate = true\nallow_critical = true\ncritical_reason = "why"\n',
            3,
            "ignore[0].negate",
            "a negation ignores nothing",
            id="allow-critical-on-a-negation",
        ),
    ],
)
def test_every_mistake_names_its_line_and_key(
    text: str, line: int, key: str | None, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        rules("# ignore rules\n" + text)
    error = caught.value
    assert error.file == "ignore.toml"
    assert (error.line, error.key) == (line + 1, key)
    assert message in str(error)


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("property", "property:*"),
        ("property", "prop*"),
        ("property", "*"),
        ("property", "*:deals:*"),
        ("property_group", "property_*"),
        (None, "property_group:deals:*"),
        (None, "pro*"),
        ("pipeline", "pipeline:deals:[ab]*"),
    ],
)
def test_key_globs_that_can_match_are_accepted(kind: str | None, key: str) -> None:
    kind_line = f'kind = "{kind}"\n' if kind else ""
    (rule,) = rules(f'[[ignore]]\n{kind_line}key = "{key}"\nreason = "r"\n')
    assert rule.key == key


def test_globstar_anywhere_is_allowed() -> None:
    (rule,) = rules('[[ignore]]\nfield = "**.**.options.**"\nreason = "r"\n')
    assert rule.field == ("**", "**", "options", "**")
    assert ignored(prop("property:deals:a", "options"), (rule,))


# ---- suggestions ------------------------------------------------------------------------------


def fill_reasons(text: str) -> str:
    return "\n".join(
        'reason = "accepted noise"' if line == 'reason = ""' else line for line in text.splitlines()
    )


def test_nothing_drifting_suggests_nothing() -> None:
    text = suggest_rules([])
    assert text.startswith("# nothing is drifting")
    assert rules(text) == ()


def test_suggestions_generalise_only_where_changes_differ() -> None:
    changes = [
        prop("property:deals:stage", "options", "gold", "displayOrder"),
        prop("property:deals:stage", "options", "silver", "displayOrder"),
        prop("property:deals:tier", "options", "gold", "displayOrder"),
        prop("property:contacts:tier", "options", "gold", "label"),
        prop("property:deals:tier", "options", "gold", "label"),
        prop("property:deals:amount", "description"),
        field_change(Kind.PIPELINE, "pipeline:deals:default", "stages", "s1", "displayOrder"),
        field_change(Kind.PIPELINE, "pipeline:deals:default", "stages", "s2", "displayOrder"),
        whole_change(Kind.WORKFLOW, "workflow:9", ChangeOp.ADDED),
        whole_change(Kind.PROPERTY, "property:deals:gone", ChangeOp.REMOVED),
    ]
    text = suggest_rules(changes)
    expected_rules = [
        ("property", "property:deals:*", "options.*.displayOrder"),
        ("pipeline", "pipeline:deals:default", "stages.*.displayOrder"),
        ("property", "property:*", "options.gold.label"),
        ("property", "property:deals:amount", "description"),
    ]
    found = tuple(tomllib.loads(text)["ignore"])
    assert [(r["kind"], r["key"], r["field"]) for r in found] == expected_rules
    assert all(r["reason"] == "" for r in found)
    assert text.startswith(
        "# Ignore rules suggested from 10 current changes drifting now.\n"
        '# Every rule needs a reason: hubaudit refuses this file until each reason = "" says\n'
    )
    assert (
        "# covers 3 current changes, e.g.:\n"
        "#   property:deals:stage options.gold.displayOrder\n"
        "#   property:deals:stage options.silver.displayOrder\n"
        "#   property:deals:tier options.gold.displayOrder\n"
        "[[ignore]]\n"
        'kind = "property"\n'
        'key = "property:deals:*"\n'
        'field = "options.*.displayOrder"\n'
        'reason = ""\n'
    ) in text
    assert "# covers 1 current change, e.g.:\n#   property:deals:amount description\n" in text
    assert text.endswith(
        "# not suggested: whole items added or removed are real architecture changes;\n"
        "# accept them into a baseline or revert them:\n"
        "#   removed property:deals:gone\n"
        "#   added workflow:9\n"
    )


def test_suggestions_are_refused_until_every_reason_is_written() -> None:
    changes = [
        prop("property:deals:a", "options", "x", "displayOrder"),
        prop("property:deals:b", "label"),
    ]
    text = suggest_rules(changes)
    with pytest.raises(ConfigError, match="needs a reason") as caught:
        rules(text)
    line = caught.value.line
    assert caught.value.key == "ignore[0].reason"
    assert line is not None
    assert text.splitlines()[line - 1] == 'reason = ""'
    found = rules(fill_reasons(text))
    assert len(found) == 2
    assert all(ignored(change, found) for change in changes)


def test_suggestions_escape_what_hubspot_puts_in_keys_and_fields() -> None:
    # workflows: a kind whose fields are not checked, so any field HubSpot sends can be named
    key = 'workflow:a"b\\c\nd]#é*?[\ud800'

    def flow(key: str, *path: str) -> Change:
        return field_change(Kind.WORKFLOW, key, *path)

    changes = [
        flow(key, "options", 'x."y', "displayOrder"),
        flow(key, "options", "", "displayOrder"),
        flow(key, "**", "lab\x00el"),
        flow(key, "a.b", "c"),
        flow("workflow:plain", "", "*"),
    ]
    text = suggest_rules(changes)
    text.encode("utf-8")  # no lone surrogate left: the file can be written
    found_rules = {(r["key"], str(r["field"])) for r in tomllib.loads(text)["ignore"]}
    escaped_key = 'workflow:a"b\\c\nd]#é[*][?][[]?'
    assert found_rules == {
        (escaped_key, "options.*.displayOrder"),
        (escaped_key, "[*][*].lab\x00el"),
        (escaped_key, "['a.b', 'c']"),
        ("workflow:plain", "['', '[*]']"),
    }
    assert '#   workflow:a"b\\\\c\\u000ad]#é*?[\\ud800 options.x."y.displayOrder' in text
    found = rules(fill_reasons(text))
    assert all(ignored(change, found) for change in changes)
    assert not ignored(flow("workflow:plain", "label"), found)
    assert not ignored(flow(key, "**", "label"), found)


def test_suggestions_leave_out_critical_drift_and_fields_no_rule_can_name() -> None:
    critical = replace(prop("property:deals:source", "type"), severity=Severity.CRITICAL)
    raised = replace(prop("property:deals:amount", "label"), severity=Severity.CRITICAL)
    label = prop("property:deals:stage", "label")
    other = prop("property:deals:tier", "label")
    new_field = prop("property:deals:stage", "brandNewField")
    text = suggest_rules([critical, raised, label, other, new_field])
    found = tomllib.loads(text)["ignore"]
    # one rule for the label changes, which matches the critical one too but does not cover it
    assert [(r["key"], r["field"]) for r in found] == [("property:deals:*", "label")]
    assert (
        "# covers 2 current changes, e.g.:\n"
        "#   property:deals:stage label\n"
        "#   property:deals:tier label\n"
        "[[ignore]]"
    ) in text
    assert (
        "# not suggested: critical drift is never noise; revert it or accept it into a baseline\n"
        "# (a rule ignores it only with allow_critical = true and a critical_reason):\n"
        "#   property:deals:amount label\n"
        "#   property:deals:source type\n"
    ) in text
    assert "cannot name yet:\n#   property:deals:stage brandNewField\n" in text
    written = rules(fill_reasons(text))
    assert not ignored(critical, written)
    assert not ignored(raised, written)
    assert ignored(label, written)


WEIRD = ['"', "\\", "\n", "\t", "]", "[", "#", "*", "?", ".", ":", " ", "é", "\x00", "\x7f"]
WEIRD += ["\u2028", "'", "=", "**", "a", "b"]
SURROGATES = ["\ud800", "\udfff"]


def text(surrogates: bool) -> st.SearchStrategy[str]:
    weird = st.sampled_from(WEIRD + SURROGATES if surrogates else WEIRD)
    chars = st.characters(exclude_categories=()) if surrogates else st.characters()
    return st.lists(st.one_of(weird, chars), max_size=4).map("".join)


def segment(surrogates: bool) -> st.SearchStrategy[str | int]:
    # glob characters as keys often, so that a pattern not escaped would match too much
    keys = ["*", "[ab]", "a", "b", "label", "a.b", ""]
    usual = st.sampled_from(keys + SURROGATES if surrogates else keys)
    return st.one_of(usual, usual, usual, text(surrogates), st.integers(0, 2))


KIND = st.sampled_from([Kind.PROPERTY, Kind.PROPERTY_GROUP, Kind.PIPELINE])


@st.composite
def drifting_changes(draw: st.DrawFn) -> list[Change]:
    """Changes drawn from a few keys and segments, so that many share kind, leaf and length."""
    surrogates = draw(st.booleans())
    # every key starts with its kind and a colon, as collectors write them
    rest = st.one_of(st.sampled_from(["deals:a", "deals:b", "c"]), text(surrogates))
    items = draw(st.lists(st.tuples(KIND, rest), min_size=1, max_size=4))
    segments = draw(st.lists(segment(surrogates), min_size=1, max_size=4))
    changes = []
    for _ in range(draw(st.integers(1, 12))):
        kind, tail = draw(st.sampled_from(items))
        key = f"{kind.value}:{tail}"
        op = draw(st.sampled_from([ChangeOp.MODIFIED] * 4 + [ChangeOp.ADDED, ChangeOp.REMOVED]))
        if op is ChangeOp.MODIFIED:
            # a field these kinds' items hold first (rules may only name those), then anything
            path = [draw(st.sampled_from(["label", "displayOrder", "archived"]))]
            path += draw(st.lists(st.sampled_from(segments), max_size=2))
            changes.append(field_change(kind, key, *path))
        else:
            changes.append(whole_change(kind, key, op))
    return changes


def has_surrogate(change: Change) -> bool:
    text = change.key + "".join(str(part) for part in change.path)
    return any("\ud800" <= char <= "\udfff" for char in text)


@settings(max_examples=100, deadline=None, database=None)
@given(drifting_changes())
def test_suggestions_are_valid_toml_and_ignore_what_they_came_from(
    changes: list[Change],
) -> None:
    text = suggest_rules(changes)
    text.encode("utf-8")
    tomllib.loads(text)
    field_changes = [change for change in changes if change.path]
    if field_changes:
        with pytest.raises(ConfigError, match="needs a reason"):
            rules(text)
    found = rules(fill_reasons(text))
    for change in changes:
        assert ignored(change, found) == bool(change.path), change
    # each rule says truly how many current changes it covers
    counts = [int(line.split()[2]) for line in text.splitlines() if line.startswith("# covers ")]
    assert counts == [sum(rule.matches(change) for change in changes) for rule in found]
    assert counts == sorted(counts, reverse=True)
    if not any(has_surrogate(change) for change in changes):
        # no suggestion reaches into changes of another kind, leaf or length, except below its
        # path (a lone surrogate becomes `?`, which may)
        for change in field_changes:
            same_length = [rule for rule in found if len(rule.field or ()) == len(change.path)]
            assert sum(rule.matches(change) for rule in same_length) == 1, change


# ---- critical drift --------------------------------------------------------------------------


def critical(change: Change) -> Change:
    return replace(change, severity=Severity.CRITICAL)


BROAD = '[[ignore]]\nkey = "property:deals:deal_source"\nreason = "lead sources are rebuilt"\n'
ALLOWED = BROAD + 'allow_critical = true\ncritical_reason = "free text is the design now"\n'


def test_a_rule_ignores_critical_drift_only_when_it_says_so_and_why() -> None:
    retyped = critical(prop("property:deals:deal_source", "type"))
    option = prop("property:deals:deal_source", "options", "partner")
    (broad,) = rules(BROAD)
    assert judge(option, (broad,)) == IgnoreVerdict(broad, ignored=True)
    verdict = judge(retyped, (broad,))
    assert (verdict.rule, verdict.ignored, verdict.refused) == (broad, False, True)
    assert ignored_by(retyped, (broad,)) is None

    (allowed,) = rules(ALLOWED)
    assert (allowed.allow_critical, allowed.critical_reason) == (
        True,
        "free text is the design now",
    )
    assert ignored_by(retyped, (allowed,)) == allowed
    assert ignored_note(allowed) == (
        "ignored by ignore.toml:1 rule 1 (property:deals:deal_source): lead sources are rebuilt "
        "(critical drift allowed: free text is the design now)"
    )
    # the last matching rule decides: an earlier rule that allows critical drift does not step
    # in for a later one that does not, and a negation keeps the change either way
    assert judge(retyped, (allowed, broad)).refused
    (negation,) = rules(BROAD + "negate = true\n")
    assert judge(retyped, (allowed, negation)) == IgnoreVerdict(negation)
    assert not judge(retyped, (allowed, negation)).refused
    # no rule at all: nothing decided, nothing refused
    assert judge(retyped, ()) == IgnoreVerdict()
    assert not IgnoreVerdict().refused


def test_refusals_are_one_note_per_rule_and_each_change_says_so() -> None:
    (broad,) = rules(BROAD)
    other = parse_ignore_rules('[[ignore]]\nkey = "user:*"\nreason = "people move"\n', "b.toml")
    changes = [
        critical(prop("property:deals:deal_source", "type")),
        critical(prop("property:deals:deal_source", "fieldType")),
        prop("property:deals:deal_source", "label"),
        *(critical(field_change(Kind.USER, f"user:{n}", "superAdmin")) for n in range(7)),
    ]
    notes = refusal_notes(changes, (broad, *other))
    assert notes[0] == (
        "ignore ignore.toml:1 rule 1 (property:deals:deal_source) matches 2 critical changes it "
        "may not ignore (property:deals:deal_source fieldType, property:deals:deal_source type): "
        "they are still reported; add allow_critical = true and a critical_reason to the rule if "
        "that drift is truly acceptable, or narrow the rule"
    )
    assert notes[1].startswith(
        "ignore b.toml:1 rule 1 (user:*) matches 7 critical changes it may not ignore (user:0 "
        "superAdmin, user:1 superAdmin, user:2 superAdmin, user:3 superAdmin, user:4 superAdmin "
        "and 2 more)"
    )
    assert len(notes) == 2
    assert refusal_notes(changes[2:3], (broad,)) == ()
    assert refused_note(broad) == (
        "ignore.toml:1 rule 1 (property:deals:deal_source) would ignore this critical change but "
        "has no allow_critical = true: still reported"
    )


def test_rule_matches_says_what_each_rule_decides() -> None:
    found = rules(
        BROAD + '\n[[ignore]]\nkey = "property:deals:deal_source"\nfield = "label"\nnegate = true\n'
        'reason = "labels are governed"\n'
        '\n[[ignore]]\nkey = "workflow:*"\nreason = "never matches here"\n'
    )
    retyped = critical(prop("property:deals:deal_source", "type"))
    option = prop("property:deals:deal_source", "options", "partner")
    label = prop("property:deals:deal_source", "label")
    elsewhere = prop("property:contacts:email", "label")
    broad, negation, unused = rule_matches(found, [retyped, option, label, elsewhere])
    assert (broad.ignores, broad.refused, broad.keeps) == ((option,), (retyped,), ())
    assert (negation.ignores, negation.refused, negation.keeps) == ((), (), (label,))
    assert (unused.rule.index, unused.ignores, unused.refused, unused.keeps) == (3, (), (), ())
    assert place(option) == "property:deals:deal_source options.partner"
    assert place(whole_change(Kind.WORKFLOW, "workflow:9", ChangeOp.ADDED)) == "added workflow:9"


# ---- globs and fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        ("property:deals:*", True),
        ("property:[!x]*", True),
        ("[[]", True),  # a literal [, as suggestions write it
        ("[]]", True),  # "]" first in a set is a member
        ("[!]]x", True),
        ("a]b", True),  # a lone ] is a literal
        ("property:[deals:*", False),
        ("[", False),
        ("[]", False),
        ("[!]", False),
        ("ok[a]then[", False),
    ],
)
def test_an_unclosed_set_is_refused_as_fnmatch_would_misread_it(pattern: str, valid: bool) -> None:
    assert (glob_problem(pattern) is None) is valid


def test_field_checks_follow_the_kinds_a_rule_can_match() -> None:
    assert field_problem(("fieldType",), (Kind.PROPERTY,)) is None
    assert field_problem(("field*",), (Kind.PROPERTY,)) is None
    assert field_problem(("options order",), (Kind.PROPERTY,)) is None
    assert field_problem(("options", "*", "hidden"), (Kind.PROPERTY,)) is None
    assert field_problem(("**", "anything"), (Kind.PROPERTY,)) is None
    assert field_problem(("options", "**", "anything"), (Kind.PROPERTY,)) is None
    assert field_problem(("stages", "s1", "metadata", "probability"), (Kind.PIPELINE,)) is None
    assert "did you mean 'hidden'?" in (
        field_problem(("options", "gold", "hiden"), (Kind.PROPERTY,)) or ""
    )
    # workflows' fields are not checked, so a rule that may match a workflow is not either
    assert field_problem(("anything",), (Kind.WORKFLOW,)) is None
    assert field_problem(("anything",), (Kind.PROPERTY, Kind.WORKFLOW)) is None
    assert field_problem(("anything",), kinds_of_key("*")) is None
    # a key glob names the kind when the rule does not
    assert kinds_of_key("property:deals:*") == (Kind.PROPERTY,)
    assert kinds_of_key("property*") == (Kind.PROPERTY, Kind.PROPERTY_GROUP)
    assert "these kinds'" in (field_problem(("stages",), kinds_of_key("property*")) or "")
    with pytest.raises(ConfigError, match="no property item has a field 'superAdmin'"):
        rules('[[ignore]]\nkey = "property:*"\nfield = "superAdmin"\nreason = "r"\n')


def test_every_rules_first_mistake_is_reported_at_once() -> None:
    with pytest.raises(ConfigErrors) as caught:
        rules(
            '[[ignore]]\nkey = "property:[deals:*"\nreason = "r"\n'
            '\n[[ignore]]\nkey = "user:*"\nreason = "fine"\n'
            '\n[[ignore]]\nkind = "property"\nfield = "fieldTyp"\n'
        )
    assert [(p.line, p.key) for p in caught.value.problems] == [
        (2, "ignore[0].key"),
        (9, "ignore[2].reason"),
    ]
    assert str(caught.value).count("\n") == 1


def test_the_known_fields_are_those_hubspot_publishes(shared_hubspot: Path) -> None:
    """Every field of HubSpot's published schemas, less what hubaudit drops, can be named."""
    import json

    from hubaudit.analysis.compare import ORDER_SUFFIX, SIBLING_ORDER
    from hubaudit.hubspot.collectors import pipelines, properties, schemas

    def published(spec: str, schema: str) -> set[str]:
        document = json.loads((shared_hubspot / "openapi" / spec).read_text(encoding="utf-8"))
        return set(document["components"]["schemas"][schema]["properties"])

    expected = {
        Kind.PROPERTY: published("crm-properties-v3.json", "Property")
        - set(properties.VOLATILE_FIELDS),
        Kind.PROPERTY_GROUP: published("crm-properties-v3.json", "PropertyGroup"),
        Kind.PIPELINE: published("crm-pipelines-v3.json", "Pipeline")
        - set(pipelines.VOLATILE_FIELDS),
        Kind.OBJECT_SCHEMA: published("crm-schemas-v3.json", "ObjectSchema")
        - set(schemas.VOLATILE_FIELDS + schemas.OWNED_ELSEWHERE),
        Kind.USER: published("settings-users-v3.json", "PublicUser") - {"sendWelcomeEmail"},
        Kind.TEAM: published("settings-users-v3.json", "PublicTeam"),
        Kind.ROLE: published("settings-users-v3.json", "PublicPermissionSet"),
        Kind.ASSOCIATION_LABEL: published(
            "crm-associations-schema-v4.json", "PublicAssociationDefinitionUserConfiguration"
        ),
    }
    for kind, fields in expected.items():
        assert fields <= KNOWN_FIELDS[kind], kind
    option = published("crm-properties-v3.json", "Option")
    assert option <= ENTRY_FIELDS[(Kind.PROPERTY, "options")]
    assert option - {"value"} <= KNOWN_FIELDS[Kind.LIFECYCLE_STAGE]
    stage = published("crm-pipelines-v3.json", "PipelineStage")
    assert (
        stage - set(pipelines.VOLATILE_FIELDS) - {"id"} <= ENTRY_FIELDS[(Kind.PIPELINE, "stages")]
    )
    # where the order of siblings is reported, under the name compare gives it
    for kind, siblings in SIBLING_ORDER.items():
        assert f"{siblings}{ORDER_SUFFIX}" in KNOWN_FIELDS[kind]
