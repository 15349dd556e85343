"""Ignore rules in real audits, over HTTP to the emulator, on SQLite and on Postgres: a rule
never hides critical drift unless it says so and why, and `ignore check` records nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubaudit.config import PortalConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.governance.ignore import parse_ignore_rules
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.changes import Change, Classification, Severity
from hubaudit.model.defects import DefectStatus
from hubaudit.report import render
from hubaudit.services.actor import Actor
from hubaudit.services.audit_run import run_audit
from hubaudit.services.runs import recent_runs
from hubaudit.services.triage import acknowledge_defects
from hubaudit.store.repository import Store

from .conftest import baseline_from_night1
from .test_cli import baseline_then_drift, config_path, run  # noqa: F401  (fixture by name)
from .test_cli_read import NOT_ON_READ_PATHS, imported_by, loaded

SOURCE = "property:deals:deal_source"
# The story of issue 16: a rule without a field, meant for the option noise of one property.
BROAD = f'[[ignore]]\nkey = "{SOURCE}"\nreason = "the deals team is rebuilding lead sources"\n'
CRITICAL_FIELDS = {"type", "fieldType"}


def of_source(changes: tuple[Change, ...]) -> dict[str, Change]:
    return {c.field or "": c for c in changes if c.key == SOURCE}


def test_a_rule_without_a_field_does_not_hide_critical_type_changes(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    first = of_source(run_audit(store, portal, client).changes)
    critical = {f: c for f, c in first.items() if c.severity is Severity.CRITICAL}
    assert set(critical) == CRITICAL_FIELDS
    assert len(first) > len(critical)  # the options removed: high, not critical
    ids = sorted({c.defect_id for c in critical.values() if c.defect_id is not None})
    assert ids
    acknowledge_defects(store, "demo", ids, Actor("Rita"), "asked the deals team")

    rules = parse_ignore_rules(BROAD, "ignore.toml")
    second = run_audit(store, portal, client, ignore_rules=rules)
    now = of_source(second.changes)
    for name in CRITICAL_FIELDS:
        change = now[name]
        assert change.classification is Classification.DEFECT
        assert change.defect_id in ids
        assert change.note is not None
        assert "ignore.toml:1 rule 1 (property:deals:deal_source) would ignore this critical" in (
            change.note
        )
    ignored = [c for f, c in now.items() if f not in CRITICAL_FIELDS]
    assert ignored and all(c.classification is Classification.IGNORED for c in ignored)
    assert all("the deals team is rebuilding lead sources" in (c.note or "") for c in ignored)
    # the acknowledged defects stay acknowledged: nothing was closed behind anyone's back
    by_id = {d.id: d for d in store.defects("demo")}
    assert {by_id[i].status for i in ids} == {DefectStatus.ACKNOWLEDGED}
    assert not set(ids) & {d.id for d in second.resolved_defects}
    warning = (
        "ignore ignore.toml:1 rule 1 (property:deals:deal_source) matches 2 critical changes "
        "it may not ignore (property:deals:deal_source fieldType, property:deals:deal_source "
        "type): they are still reported"
    )
    assert [n for n in second.notes if n.startswith("ignore ")] == [
        next(n for n in second.notes if n.startswith(warning))
    ]
    # every format says it, in the report and beside the change
    for fmt in ("text", "md", "html", "json", "sarif", "csv"):
        assert "would ignore this critical change" in render(second, fmt), fmt
    for fmt in ("text", "md", "html", "json"):
        assert "matches 2 critical changes it may not ignore" in render(second, fmt), fmt

    allowed = parse_ignore_rules(
        BROAD + 'allow_critical = true\ncritical_reason = "free text is the new design (CR-7)"\n',
        "ignore.toml",
    )
    third = run_audit(store, portal, client, ignore_rules=allowed)
    assert {c.classification for c in of_source(third.changes).values()} == {Classification.IGNORED}
    assert "critical drift allowed: free text is the new design (CR-7)" in (
        of_source(third.changes)["type"].note or ""
    )
    assert not [n for n in third.notes if n.startswith("ignore ")]
    by_id = {d.id: d for d in store.defects("demo")}
    assert {by_id[i].status for i in ids} == {DefectStatus.RESOLVED}

    # what a rules file says reaches the report escaped, in the warnings too
    hostile = parse_ignore_rules(
        '[[ignore]]\nkey = "property:deals:deal_sourc[e<>]"\nreason = "<b>noise</b>"\n',
        "<i>ignore</i>.toml",
    )
    fourth = run_audit(store, portal, client, ignore_rules=hostile)
    assert any("<b>noise</b>" in (c.note or "") for c in fourth.changes)
    assert any("[e<>]" in note for note in fourth.notes)
    html, md = render(fourth, "html"), render(fourth, "md")
    assert "<b>noise" not in html and "&lt;b&gt;noise" in html
    assert "<i>ignore" not in html and "[e<>]" not in html and "[e&lt;&gt;]" in html
    assert "<b>noise" not in md and "<i>ignore" not in md


def test_ignore_check_validates_and_shows_matches_without_recording_a_run(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    rules = tmp_path / "ignore.toml"
    # a broken file is reported as such, before any database is needed
    rules.write_text('[[ignore]]\nkey = "property:[deals:*"\nreason = "r"\n')
    assert run("--config", config, "ignore", "check", str(rules))[0] == 1
    assert capsys.readouterr().err == (
        f"hubaudit: error: {rules}:2: [ignore[0].key] is not a valid glob: the [ at character "
        "10 opens a set that is never closed with ]; write [[] for a literal [\n"
    )
    baseline_then_drift(config, emulator, portal_dirs["night2"])
    rules.write_text(
        BROAD + '\n[[ignore]]\nkind = "pipeline"\nfield = "stages.*.metadata.probability"\n'
        'reason = "stage probabilities follow the sales playbook"\n'
        '\n[[ignore]]\nkey = "workflow:*"\nfield = "name"\nreason = "names are free"\n'
        'allow_critical = true\ncritical_reason = "a name <is> a name"\n'
    )
    code, out = run("--config", config, "ignore", "check", str(rules), "--portal", "demo")
    assert code == 0
    assert out.splitlines()[:2] == [
        f"{rules}: valid, 3 rules",
        "No audit of the portal yet: nothing to match the rules against.",
    ]

    assert run("--config", config, "audit", "--portal", "demo")[0] == 2
    from hubaudit.config import load_config
    from hubaudit.store.engine import make_engine

    engine = make_engine(load_config(config_path).database_url)
    try:
        before = [(r.id, r.status) for r in recent_runs(Store(engine), "demo")]
        code, out = run("--config", config, "ignore", "check", str(rules), "--portal", "demo")
        assert code == 0
        assert "What each rule decides in the latest audit of demo (run #" in out
        assert (
            "  ignore.toml:1 rule 1 (property:deals:deal_source)\n"
            "    ignores: 5 changes\n"
            "      property:deals:deal_source options.event\n"
        ).replace("ignore.toml", str(rules)) in out
        assert (
            "    refuses (critical, and the rule has no allow_critical = true): 2 changes\n"
            "      property:deals:deal_source fieldType\n"
            "      property:deals:deal_source type\n"
        ) in out
        assert "stages.*.metadata.probability)\n    ignores: 1 change\n" in out
        assert (
            "(workflow:* name)\n    may ignore critical drift: a name <is> a name\n"
            "    matches nothing\n"
        ) in out
        # it reads: none of the audit's machinery, the HTTP client or the scheduler is loaded
        code, modules = imported_by("--config", config, "ignore", "check", str(rules))
        assert code == 0 and loaded(modules, NOT_ON_READ_PATHS) == []
        code, out = run("--config", config, "ignore", "check", str(rules), "--json")
        document = json.loads(out)
        assert document["valid"] is True
        first = document["rules"][0]
        assert first["refused"] == [f"{SOURCE} fieldType", f"{SOURCE} type"]
        assert len(first["ignores"]) == 5

        # a broken file: every rule's mistake at once, exit 1, and still no run recorded
        rules.write_text(
            '[[ignore]]\nkey = "property:[deals:*"\nreason = "r"\n'
            '\n[[ignore]]\nkind = "property"\nfield = "fieldTyp"\nreason = "r"\n'
            '\n[[ignore]]\nkey = "user:*"\n'
        )
        capsys.readouterr()
        code, out = run("--config", config, "ignore", "check", str(rules))
        err = capsys.readouterr().err
        assert code == 1 and out == ""
        assert f"{rules}:2: [ignore[0].key] is not a valid glob" in err
        assert f"{rules}:7: [ignore[1].field] no property item has a field 'fieldTyp'" in err
        assert "did you mean 'fieldType'?" in err
        assert f"{rules}:10: [ignore[2].reason] every ignore rule needs a reason" in err
        assert [(r.id, r.status) for r in recent_runs(Store(engine), "demo")] == before
    finally:
        engine.dispose()

    # the configured file is the default; none configured is a clear error
    code, _ = run("--config", config, "ignore", "check")
    assert code == 1 and "has no ignore file: give FILE" in capsys.readouterr().err
    # and the audit itself still refuses a broken file, as a failed run that says why
    config_path.write_text(config_path.read_text() + f'\n[governance]\nignore_file = "{rules}"\n')
    code, _ = run("--config", config, "ignore", "check")
    assert code == 1 and "is not a valid glob" in capsys.readouterr().err
    code, _ = run("--config", config, "audit", "--portal", "demo")
    assert code == 1 and "is not a valid glob" in capsys.readouterr().err
    code, out = run("--config", config, "runs", "--portal", "demo", "--json")
    latest = json.loads(out)[0]
    assert latest["status"] == "failed"
    assert f"{rules}:2: [ignore[0].key] is not a valid glob" in latest["error"]


def test_suggest_never_proposes_critical_drift(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    import tomllib

    config = str(config_path)
    baseline_then_drift(config, emulator, portal_dirs["night2"])
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    code, out = run("--config", config, "ignore", "suggest", "--portal", "demo")
    assert code == 0
    fields = {(r["key"], str(r["field"])) for r in tomllib.loads(out)["ignore"]}
    critical_places = [
        "pipeline:tickets:0 stages.3",
        f"{SOURCE} fieldType",
        f"{SOURCE} type",
        "user:2305118 superAdmin",
    ]
    listed = out.split("# not suggested: critical drift is never noise")[1].split("\n\n")[0]
    assert [line.removeprefix("#   ") for line in listed.splitlines()[2:]] == critical_places
    assert not {f for _, f in fields} & {"type", "fieldType", "superAdmin", "stages.3"}
    # the rest of what drifts is suggested, a high change among it
    assert (
        "pipeline:deals:default",
        "stages.qualifiedtobuy.metadata.probability",
    ) in fields


def test_every_field_the_demo_portal_holds_can_be_named_by_a_rule(
    portal: PortalConfig, client: HubSpotClient
) -> None:
    from hubaudit.governance.ignore import ENTRY_FIELDS, KNOWN_FIELDS
    from hubaudit.hubspot.collectors import DEFAULT_COLLECTORS, collect_portal

    items, _coverage = collect_portal(client, portal, DEFAULT_COLLECTORS)
    checked = 0
    for item in items:
        if item.kind not in KNOWN_FIELDS:
            continue
        assert set(item.canonical) <= KNOWN_FIELDS[item.kind], item.key
        for (kind, name), fields in ENTRY_FIELDS.items():
            entries = item.canonical.get(name) if item.kind is kind else None
            if isinstance(entries, dict):
                for entry in entries.values():
                    assert set(entry) <= fields, (item.key, name)
        checked += 1
    assert checked > 400
