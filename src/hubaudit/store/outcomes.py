"""Run outcomes: what each run did to the defects and findings, recorded in the same transaction.

A run can die (``kill -9``, a lost machine) after its defects are committed and before it has
published them: its report stored, its files written, its notifications sent. The defects it
opened are then no longer new to the run that takes it over, which would see them "again" and
tell no one. So the outcome (the ids of the defects and findings opened, reopened and resolved,
and of the waivers that ran out) is written with the defects, and a later run of the portal
includes every outcome not yet published: the run that takes a dead one over (same run id), or,
if that run failed, the portal's next run. Including is idempotent (a union of ids, each kept
only while it still says what happens now), so a run that dies twice loses nothing either.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from hubaudit.model.runs import RunStatus
from hubaudit.store.tables import RunOutcomeRow, RunRow

Ids = Mapping[str, Sequence[int]]
"""One outcome: ``opened``, ``seen_again``, ``reopened``, ``resolved``, ``expired_waivers``."""

_FIELDS = ("opened", "seen_again", "reopened", "resolved", "expired_waivers")
_OPEN = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)


def include_earlier(now: Ids, earlier: Sequence[Ids]) -> dict[str, tuple[int, ...]]:
    """This run's outcome with the unpublished ``earlier`` ones included.

    A defect (or finding) an earlier run opened or reopened and this run sees again is opened
    or reopened by this run; one an earlier run resolved stays resolved unless this run sees it
    again; waivers that ran out earlier ran out for this run too."""
    result = {name: list(now.get(name, ())) for name in _FIELDS}
    seen = set(result["seen_again"])
    for outcome in earlier:
        for name in ("opened", "reopened"):
            carried = [i for i in outcome.get(name, ()) if i in seen]
            result[name] += carried
            seen -= set(carried)
    result["seen_again"] = [i for i in result["seen_again"] if i in seen]
    present = set(result["opened"]) | set(result["reopened"]) | set(result["seen_again"])
    for outcome in earlier:
        result["resolved"] += [i for i in outcome.get("resolved", ()) if i not in present]
        result["expired_waivers"] += list(outcome.get("expired_waivers", ()))
    return {name: tuple(dict.fromkeys(ids)) for name, ids in result.items()}


def record_outcome(
    session: Session,
    portal_id: int,
    run_id: int,
    part: Literal["defects", "findings"],
    now: Ids,
    at: datetime,
) -> dict[str, tuple[int, ...]]:
    """Record this run's outcome for ``part`` with every unpublished earlier outcome of the
    portal included, in the caller's transaction (the one that wrote the defects or findings,
    holding the portal's row). Returns the outcome to publish."""
    column = RunOutcomeRow.defects_json if part == "defects" else RunOutcomeRow.findings_json
    rows = session.execute(
        select(RunOutcomeRow.run_id, column)
        .join(RunRow, RunOutcomeRow.run_id == RunRow.id)
        .where(
            RunOutcomeRow.portal_id == portal_id,
            or_(
                RunOutcomeRow.run_id == run_id,  # an earlier attempt of this very run
                RunOutcomeRow.carried_into == run_id,
                and_(
                    RunOutcomeRow.published_at.is_(None),
                    RunOutcomeRow.carried_into.is_(None),
                    RunRow.status.not_in(_OPEN),
                ),
            ),
        )
        .order_by(RunOutcomeRow.run_id)
    ).all()
    earlier = [json.loads(text) for _id, text in rows if text is not None]
    merged = include_earlier(now, earlier)
    document = json.dumps(merged, separators=(",", ":"))
    own = session.get(RunOutcomeRow, run_id)
    if own is None:
        session.add(
            RunOutcomeRow(
                run_id=run_id, portal_id=portal_id, recorded_at=at, **{part + "_json": document}
            )
        )
    else:
        setattr(own, part + "_json", document)
        own.recorded_at = at
    others = [other for other, _text in rows if other != run_id]
    if others:
        session.execute(
            update(RunOutcomeRow)
            .where(RunOutcomeRow.run_id.in_(others))
            .values(carried_into=run_id)
        )
    session.flush()
    return merged


def mark_published(session: Session, run_id: int, at: datetime) -> None:
    session.execute(
        update(RunOutcomeRow).where(RunOutcomeRow.run_id == run_id).values(published_at=at)
    )
