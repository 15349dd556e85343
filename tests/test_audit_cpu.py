"""The audit's own CPU: what it has just read it does not read back, what several policies
derive alike is derived once, and the fast paths give exactly what the slow ones gave."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from hubaudit.config import PortalConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.changes import Attribution, Change
from hubaudit.model.items import Kind
from hubaudit.model.view import PortalView, ViewItem
from hubaudit.policies import properties
from hubaudit.services.audit_run import (
    AuditRequest,
    audit_snapshot,
    held_first,
    portal_view,
    read_and_store,
    require_baseline,
    run_audit,
)
from hubaudit.store.repository import Store
from hubaudit.store.stores import Stores

from .conftest import baseline_from_night1, edit_json

_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_COPY_NUMBER = re.compile(r"(?:[\s_.\-]+\(?|\()[0-9]{1,2}\)?$")


def normalised_by_regex(text: str, *, internal: bool) -> tuple[str, bool]:
    """The normalisation as it was written first: every regex on every text."""
    lowered = text.lower().strip()
    if internal and lowered.startswith("hs_"):
        lowered = lowered[3:]
    numbered = bool(_COPY_NUMBER.search(lowered))
    return _NOT_ALNUM.sub("", _COPY_NUMBER.sub("", lowered)), numbered


texts = st.text(alphabet="abAB_ -.()019éß\u0130\n\t", max_size=12) | st.text(max_size=8)


@given(texts, st.booleans())
@settings(max_examples=400, deadline=None)
def test_names_normalise_as_the_regexes_say(text: str, internal: bool) -> None:
    assert properties.normalised(text, internal=internal) == normalised_by_regex(
        text, internal=internal
    )


@given(st.lists(texts, max_size=30), st.booleans())
@settings(max_examples=300, deadline=None)
def test_the_words_of_many_texts_are_each_ones_normalised_word(
    many: list[str], internal: bool
) -> None:
    assert properties.words(many, internal=internal) == [
        normalised_by_regex(text, internal=internal)[0] for text in many
    ]


def duplicate_sets_joining_everything(
    items: list[ViewItem],
) -> list[tuple[str, list[ViewItem]]]:
    """Likely duplicates as first written: every item and every word it says in one
    union-find, each item's words by the regexes."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    def tokens(item: ViewItem) -> dict[str, bool]:
        said: dict[str, bool] = {}
        name = item.canonical.get("name") or item.key.split(":", 2)[2]
        for text, internal in ((name, True), (item.canonical.get("label"), False)):
            if isinstance(text, str):
                token, numbered = normalised_by_regex(text, internal=internal)
                if len(token) >= properties.MIN_TOKEN:
                    said[token] = said.get(token, True) and numbered
        return said

    words = {item.key: tokens(item) for item in items}
    for key, said in words.items():
        for token in said:
            parent[find(key)] = find(f"~{token}")
    groups: dict[str, list[ViewItem]] = {}
    for item in items:
        groups.setdefault(find(item.key), []).append(item)
    found = []
    for members in groups.values():
        if len(members) < 2 or all(m.canonical.get("hubspotDefined") is True for m in members):
            continue
        counts: dict[str, int] = {}
        for m in members:
            for token in words[m.key]:
                counts[token] = counts.get(token, 0) + 1
        shared = sorted(
            t
            for t, n in counts.items()
            if n > 1 and any(words[m.key].get(t) is False for m in members)
        )
        if shared:
            found.append((shared[0], sorted(members, key=lambda m: m.key)))
    return sorted(found, key=lambda pair: pair[0])


names = st.sampled_from(
    [
        "lead_source",
        "lead_source_2",
        "LeadSource",
        "hs_lead_source",
        "address_line_1",
        "address_line_2",
        "target_2019",
        "target_2020",
        "Lead (3)",
        "lead-source.1",
        "x_1",
    ]
) | st.text(alphabet="abl_ 12()-", max_size=10)
labels = st.none() | names | st.integers()


@given(st.lists(st.tuples(names, labels, st.booleans()), max_size=25))
@settings(max_examples=300, deadline=None)
def test_likely_duplicates_are_those_one_union_of_every_item_finds(
    props: list[tuple[str, str | int | None, bool]],
) -> None:
    items = [
        ViewItem(
            Kind.PROPERTY,
            f"property:contacts:p{n}",
            {"name": name or None, "label": label, "hubspotDefined": hubspot},
        )
        for n, (name, label, hubspot) in enumerate(props)
    ]
    assert properties.duplicate_sets(items) == duplicate_sets_joining_everything(items)


def test_a_view_derives_live_properties_once() -> None:
    items = {
        f"property:deals:p{n}": ViewItem(Kind.PROPERTY, f"property:deals:p{n}", {"name": f"p{n}"})
        for n in range(3)
    }
    view = PortalView("acme", 1, datetime.now(UTC), items, {"property:deals": ()})
    calls = []
    real = properties._find_live

    def counted(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    properties._find_live = counted  # type: ignore[assignment]
    try:
        rules = properties.POLICIES[0].rules(None)
        first = properties._live(view, rules)
        again = properties._live(view, rules)
    finally:
        properties._find_live = real  # type: ignore[assignment]
    assert len(calls) == 1
    assert first is again and [i.key for i in first["deals"]] == sorted(items)
    # another view is another snapshot: derived again
    other = replace(view, snapshot_id=2)  # a view of its own: nothing derived yet
    assert properties._live(other, rules) is not first


def test_held_payloads_are_not_read_again() -> None:
    asked: list[set[str]] = []

    def load(hashes: Iterable[str]) -> dict[str, Any]:
        wanted = set(hashes)
        asked.append(wanted)
        return {h: {"from": "store"} for h in wanted}

    loader = held_first(load, {"a": {"from": "memory"}})
    assert loader(["a", "b"]) == {"a": {"from": "memory"}, "b": {"from": "store"}}
    assert loader(["a"]) == {"a": {"from": "memory"}}
    assert asked == [{"b"}]  # "a" never went to the store; a call with nothing missing no read


class Spy:
    """The store's payload reads, recorded."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.asked: set[str] = set()
        self.real = store.load_payloads

    def __call__(self, hashes: Iterable[str]) -> dict[str, Any]:
        wanted = set(hashes)
        self.asked |= wanted
        return self.real(wanted)


def test_an_audit_does_not_read_back_what_it_has_just_read(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    edit_json(  # a workflow turned off: its past versions are read, all in one go
        portal_dirs["night2"],
        "flows.json",
        lambda flows: flows[0].update(isEnabled=False),
    )
    spy = Spy(store)
    store.load_payloads = spy  # type: ignore[method-assign]
    audited = run_audit(store, portal, client)
    tonight = store.snapshot_items(audited.snapshot.id)
    baseline = store.baseline_items(require_baseline(store, "demo").id)
    fresh = {i.canonical_hash for i in tonight.values()} - {
        i.canonical_hash for i in baseline.values()
    }
    assert audited.changes and fresh  # night 2 changed things, and they were read tonight
    assert not spy.asked & fresh  # none of them read back from the database
    # of the raw JSON, only the changed items' is read (for attribution), none of the others
    changed = {c.key for c in audited.changes}
    raws = {i.raw_hash: k for k, i in tonight.items()}
    assert {raws[h] for h in spy.asked if h in raws} <= changed

    # the same snapshot audited again from the database alone says exactly the same (but for
    # who made each change: the offline audit has no audit trails from HubSpot to ask)
    again = audit_snapshot(
        Stores.over(store),
        AuditRequest(portal="demo", snapshot=audited.snapshot, baseline=audited.baseline),
    )

    def unattributed(changes: Iterable[Change]) -> list[Change]:
        return [replace(c, attribution=Attribution()) for c in changes]

    assert unattributed(again.changes) == unattributed(audited.changes)
    assert [f.fingerprint for f in again.findings] == [f.fingerprint for f in audited.findings]


def test_an_audit_writes_its_defects_in_a_few_statements_not_one_a_row(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    writes: Counter[str] = Counter()

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        words = statement.split()
        if words[:2] == ["INSERT", "INTO"] or words[:1] == ["UPDATE"]:
            writes[" ".join(words[: 3 if words[0] == "INSERT" else 2])] += 1

    sa.event.listen(store.engine, "after_cursor_execute", seen)
    try:
        opened = run_audit(store, portal, client).defects.opened
        seen_again = run_audit(store, portal, client).defects.seen_again  # the same drift
        emulator.load(portal_dirs["night1"])  # back to the baseline: every defect resolves
        resolved = run_audit(store, portal, client).defects.resolved
    finally:
        sa.event.remove(store.engine, "after_cursor_execute", seen)
    assert len(opened) >= 10 and sorted(resolved) == sorted(opened) == sorted(seen_again)
    # three nights, every defect written each night: a few statements, not one per defect
    for table in ("INSERT INTO defects", "INSERT INTO defect_events", "UPDATE defects"):
        assert 0 < writes[table] <= 6, (table, writes[table])


def test_payloads_just_read_equal_the_stored_ones(
    store: Store, portal: PortalConfig, client: HubSpotClient
) -> None:
    snapshot, items = read_and_store(store, portal, client)
    from_memory = portal_view(
        store,
        snapshot,
        None,
        held_first(
            store.load_payloads,
            {i.canonical_hash: i.canonical for i in items} | {i.raw_hash: i.raw for i in items},
        ),
    )
    from_store = portal_view(store, snapshot)
    assert list(from_memory.items) == list(from_store.items)
    for key, item in from_store.items.items():
        held = from_memory.items[key]
        # the very values a JSON round trip gives: same types, same keys
        assert json.dumps(held.canonical, sort_keys=True) == json.dumps(
            item.canonical, sort_keys=True
        )
        assert held.canonical == item.canonical and held.raw == item.raw


def test_past_versions_of_many_items_come_in_one_read(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    snapshot, _items = read_and_store(store, portal, client)
    view = portal_view(store, snapshot)
    keys = [*sorted(k for k in view.items if k.startswith("workflow:"))[:3], "workflow:gone"]
    together = view.past_of(keys)
    assert together == {key: view.past(key) for key in keys}
    assert together["workflow:gone"] == []
    assert all(len(together[key]) >= 1 for key in keys[:3])
    # the current version is the view's own payload, not read and decoded again
    assert all(together[key][-1].canonical is view.items[key].canonical for key in keys[:3])


def test_a_snapshots_payloads_are_written_in_a_few_statements_not_one_a_row(
    store: Store, portal: PortalConfig, client: HubSpotClient
) -> None:
    """Each new payload of a snapshot is one row of an executemany, never a statement of its
    own (the ORM's bulk insert sent a statement a row when some rows held a None)."""
    inserts: Counter[str] = Counter()

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.split()[:3] == ["INSERT", "INTO", "payloads"]:
            inserts["payloads"] += 1

    sa.event.listen(store.engine, "after_cursor_execute", seen)
    try:
        snapshot, items = read_and_store(store, portal, client)
    finally:
        sa.event.remove(store.engine, "after_cursor_execute", seen)
    assert snapshot.item_count == len(items) > 400
    assert 0 < inserts["payloads"] <= 4, inserts


def test_audits_collect_garbage_rarely_and_put_the_threshold_back() -> None:
    """While audits run the youngest generation is collected every 50,000 allocations, not
    700; overlapping audits (a worker's threads) keep it raised until the last ends, and an
    audit that fails puts it back too."""
    import gc

    from hubaudit.services.audit_run import AUDIT_GC_THRESHOLD, fewer_collections

    before = gc.get_threshold()
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    assert gc.get_threshold()[0] == max(AUDIT_GC_THRESHOLD, before[0])
    second.__enter__()
    first.__exit__(None, None, None)  # the first ends while the second still runs
    assert gc.get_threshold()[0] == max(AUDIT_GC_THRESHOLD, before[0])
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    try:
        with fewer_collections():
            raise RuntimeError("the audit failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
