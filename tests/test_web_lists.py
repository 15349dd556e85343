"""Long lists a page at a time (services/lists.py over store/lists.py), on SQLite and
Postgres: the defects in triage order, cut into pages that cover each defect once, filtered by
text; open defects counted by severity; the log newest first, filtered."""

from __future__ import annotations

from pathlib import Path

from hubaudit.model.defects import Defect, DefectStatus
from hubaudit.services import lists, triage
from hubaudit.services.actor import Actor
from hubaudit.services.log import governance_log
from hubaudit.services.triage import DefectQuery
from hubaudit.store.repository import Store

from .test_four_eyes import drifted  # noqa: F401 - a fixture

RITA = Actor("rita")


def triage_key(defect: Defect) -> tuple[bool, int, float, int]:
    return (
        defect.status not in lists.OPEN_STATES,
        -defect.severity.rank,
        -defect.last_seen_at.timestamp(),
        defect.id,
    )


def test_defects_come_in_triage_order_a_page_at_a_time(
    store: Store,
    drifted: list[int],  # noqa: F811
    tmp_path: Path,
) -> None:
    triage.resolve_defects(store, "demo", drifted[:2], RITA, "put back")
    triage.acknowledge_defects(store, "demo", drifted[2:4], RITA)
    everything = triage.list_defects(store, "demo")
    expected = [d.id for d in sorted(everything, key=triage_key)]
    assert len(expected) >= 10
    pages = []
    for number in range(1, 5):
        page = lists.defects_page(store, "demo", DefectQuery(), "", number, 7)
        assert page.total == len(expected)
        pages.extend(d.id for d in page.items)
    assert pages == expected  # every defect once, in triage order, resolved ones last

    open_only = lists.defects_page(
        store, "demo", DefectQuery(statuses=lists.OPEN_STATES), "", 1, 100
    )
    assert all(d.status is not DefectStatus.RESOLVED for d in open_only.items)
    assert open_only.total == len(expected) - 2

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
