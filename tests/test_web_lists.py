"""Long lists a page at a time (services/lists.py over store/lists.py), on SQLite and
Postgres: the defects in the triage order of ``defects list``, cut into pages that cover each
defect once, filtered by text; open defects counted by severity; the log newest first,
filtered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from hubaudit.governance.triage import TriageGroup
from hubaudit.model.defects import DefectStatus
from hubaudit.services import lists, triage
from hubaudit.services.actor import Actor
from hubaudit.services.baselines import decide_baseline
from hubaudit.services.log import governance_log
from hubaudit.services.triage import DefectQuery
from hubaudit.store.repository import Store
from hubaudit.store.tables import DefectRow

from .test_four_eyes import drifted  # noqa: F401 - a fixture

RITA = Actor("rita")


def mix(store: Store, ids: list[int]) -> None:
    """Every tier and every status among the drifted defects: some resolved, one accepted
    (into v2, approved), acknowledged and waived ones, some carried over (first seen one to
    four days before the latest audit), the rest new."""
    triage.resolve_defects(store, "demo", ids[:2], RITA, "put back")
    triage.accept_defects(store, "demo", ids[2:3], RITA, "keep")
    decide_baseline(store, "demo", 2, True, Actor("carl"), "agreed")
    triage.acknowledge_defects(store, "demo", ids[3:5], RITA)
    triage.waive_defects(store, "demo", ids[5:6], RITA, "later", datetime(2099, 1, 1, tzinfo=UTC))
    earlier = (ids[4], *ids[6:9])
    first_seen = {d.id: d.first_seen_at for d in store.defects("demo", ids=list(earlier))}
    with store.session() as session:
        for days, defect in enumerate(earlier, start=1):
            session.execute(
                update(DefectRow)
                .where(DefectRow.id == defect)
                .values(first_seen_at=first_seen[defect] - timedelta(days=days))
            )


def test_the_web_list_follows_the_triage_tiers_a_page_at_a_time(
    store: Store,
    drifted: list[int],  # noqa: F811
) -> None:
    mix(store, drifted)
    triaged = triage.triage_defects(store, "demo")
    expected = [t.defect.id for t in triaged]
    groups = {t.group for t in triaged}
    statuses = {t.defect.status for t in triaged}
    assert (
        len(expected) >= 10
        and statuses == set(DefectStatus)
        and groups
        >= {
            TriageGroup.ACT_NOW,
            TriageGroup.CARRIED_OVER,
            TriageGroup.HANDLED,
            TriageGroup.CLOSED,
        }
    )
    pages = []
    for number in range(1, 5):
        page = lists.defects_page(store, "demo", DefectQuery(), "", number, 7)
        assert page.total == len(expected)
        pages.extend(d.id for d in page.items)
    assert pages == expected  # every defect once, in the order of `defects list`

    # filtered, the same order as the CLI's with the same filter
    query = DefectQuery(statuses=lists.OPEN_STATES)
    open_only = lists.defects_page(store, "demo", query, "", 1, 100)
    assert [d.id for d in open_only.items] == [
        t.defect.id for t in triage.triage_defects(store, "demo", query)
    ]
    assert all(d.status in lists.OPEN_STATES for d in open_only.items)
    open_ids = [t.defect.id for t in triaged if t.defect.status in lists.OPEN_STATES]
    assert open_only.total == len(open_ids) < len(expected)

    everything = triage.list_defects(store, "demo")
    label = next(d for d in everything if d.label)
    text = label.label[1:6].upper()  # a piece of a label, in another case
    matched = lists.defects_page(store, "demo", DefectQuery(), text, 1, 100)
    assert label.id in {d.id for d in matched.items}
    assert all(
        text.casefold() in (d.label or "").casefold() or text.casefold() in d.key.casefold()
        for d in matched.items
    )
    assert lists.defects_page(store, "demo", DefectQuery(), "100%_\\", 1, 10).total == 0

    counts = lists.open_defect_counts(store, "demo")
    assert sum(counts.values()) == open_only.total
    for severity, count in counts.items():
        assert count == sum(1 for d in open_only.items if d.severity is severity)


def test_the_log_newest_first_a_page_at_a_time(
    store: Store,
    drifted: list[int],  # noqa: F811
) -> None:
    for defect in drifted[:6]:
        triage.acknowledge_defects(store, "demo", [defect], RITA, f"looking at {defect}")
    everything = governance_log(store, "demo")
    newest_first = [e.id for e in reversed(everything)]
    first = lists.log_page(store, "demo", None, None, "", 1, 4)
    second = lists.log_page(store, "demo", None, None, "", 2, 4)
    assert first.total == len(everything)
    assert [e.id for e in (*first.items, *second.items)] == newest_first[:8]
    found = lists.log_page(store, "demo", None, None, "LOOKING AT", None, 0)
    assert found.total == 6 and all(e.actor == "rita" for e in found.items)
    assert lists.log_page(store, "nowhere", None, None, "", 1, 10).total == 0
