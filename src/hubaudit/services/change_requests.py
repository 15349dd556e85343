"""Change requests: planned changes the council approves before they happen, and how far the
portal has come with each (by the latest snapshot against the latest approved baseline)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from hubaudit.analysis.compare import scope_of
from hubaudit.errors import UsageError
from hubaudit.governance.change_requests import DONE, PlannedState, Progress, planned_state
from hubaudit.keys import names_item, split_identity_key
from hubaudit.model.change_requests import ChangeRequest, CRStatus, PlannedChange
from hubaudit.model.changes import ChangeOp
from hubaudit.model.items import CoverageStatus, JSONValue
from hubaudit.services.actor import Actor
from hubaudit.services.terms import Clock, note_for, optional_note, utc_now
from hubaudit.store.council import CouncilStore
from hubaudit.store.repository import Store


@dataclass(frozen=True)
class RequestDraft:
    """What a change request asks for: a title, the planned changes and the window they may
    happen in."""

    title: str
    changes: tuple[PlannedChange, ...]
    valid_from: datetime
    valid_until: datetime
    note: str = ""


def create_request(
    store: Store, portal: str, draft: RequestDraft, actor: Actor, clock: Clock = utc_now
) -> ChangeRequest:
    """Record a proposed change request; it plans nothing until approved."""
    from hubaudit.store.keys import key_ever_held, unknown_key

    title = draft.title.strip()
    if not title:
        raise UsageError("a change request needs a title")
    if not draft.changes:
        raise UsageError("a change request needs at least one planned change")
    # only an added item may be new to a portal hubaudit has read: a typo plans nothing
    read = store.latest_snapshot(portal) is not None
    modified = [c.key for c in draft.changes if c.op is not ChangeOp.ADDED] if read else []
    for key in modified:
        if not key_ever_held(store, portal, key):
            raise UsageError(unknown_key(store, portal, key))
    keys = [c.key for c in draft.changes]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise UsageError(f"{twice[0]} is named twice; one planned change per item")
    problem = _value_problem(store, portal, draft.changes) if read else None
    if problem is not None:
        raise UsageError(problem)
    if draft.valid_until <= draft.valid_from:
        raise UsageError("a change request's window must end after it starts")
    return CouncilStore(store).create_request(
        portal,
        title=title,
        by=actor.name,
        at=clock(),
        valid_from=draft.valid_from,
        valid_until=draft.valid_until,
        changes=list(draft.changes),
        note=optional_note(draft.note),
    )


def _value_problem(store: Store, portal: str, changes: Sequence[PlannedChange]) -> str | None:
    """The first modification whose values cannot be its item's, by the latest snapshot (an
    item the snapshot does not hold is not checked: it was held once, and may come back)."""
    from hubaudit.governance.change_requests import value_problem
    from hubaudit.services.baselines import latest_items

    checked = [c for c in changes if c.op is ChangeOp.MODIFIED and c.expect]
    if not checked:
        return None
    resolved = resolve_identity_keys(store, portal, {c.key for c in checked})
    latest = latest_items(store, portal, set(resolved.values()))
    for planned in checked:
        payload = latest.payload(resolved[planned.key])
        if payload is None:
            continue
        problem = value_problem(planned, payload)
        if problem is not None:
            return problem
    return None


def decide_request(
    store: Store,
    portal: str,
    request_id: int,
    approve: bool,
    actor: Actor,
    note: str | None,
    clock: Clock = utc_now,
    single_approver: bool = False,
) -> ChangeRequest:
    """Approve or reject a proposed change request; its requester cannot approve it, unless
    ``single_approver`` (four eyes)."""
    note = note_for(note, "approving a change request" if approve else "rejecting a change request")
    return CouncilStore(store).decide_request(
        portal, request_id, approve, actor.name, note, clock(), single_approver
    )


def change_requests(
    store: Store, portal: str, ids: Collection[int] | None = None
) -> list[Progress]:
    """The portal's change requests (or those of ``ids``) with their progress."""
    return request_progress(store, portal, CouncilStore(store).requests(portal, ids))


def request_progress(
    store: Store, portal: str, requests: Sequence[ChangeRequest]
) -> list[Progress]:
    """How far the portal has come with each CR, by the latest snapshot against the latest
    approved baseline."""
    from hubaudit.services.baselines import latest_items
    from hubaudit.store.items import ItemSelection, baseline_items_in

    resolved = resolve_identity_keys(store, portal, {p.key for r in requests for p in r.changes})
    keys = set(resolved.values())
    latest = latest_items(store, portal, keys)
    baseline = store.latest_baseline(portal)
    before: dict[str, JSONValue] = {}
    if baseline is not None:
        held = baseline_items_in(store, baseline.id, ItemSelection(keys=frozenset(keys)))
        payloads = store.load_payloads({i.canonical_hash for i in held.values()})
        before = {k: payloads[i.canonical_hash] for k, i in held.items()}
    snapshot = latest.snapshot
    complete = (
        set()
        if snapshot is None
        else {c.scope for c in snapshot.coverage if c.status is CoverageStatus.COMPLETE}
    )
    return [
        Progress(
            request,
            tuple(
                # released: its work is in an approved baseline, which the portal is
                # compared with from then on
                PlannedState(planned, DONE)
                if request.status is CRStatus.RELEASED
                else planned_state(
                    planned,
                    before.get(resolved[planned.key]),
                    latest.payload(resolved[planned.key]),
                    scope_of(resolved[planned.key], complete) is not None,
                )
                for planned in request.changes
            ),
        )
        for request in requests
    ]


def resolve_identity_keys(store: Store, portal: str, keys: Collection[str]) -> dict[str, str]:
    """Each key as the portal's latest snapshot holds it: a key that names an item by identity
    (``workflow:{Renewal reminder}``, planned before the portal held it) becomes the item's own
    key when exactly one item of its part has that identity; every other key stays itself."""
    from hubaudit.store.items import ItemSelection, snapshot_items_in

    found = {key: key for key in keys}
    wanted = {key: parts for key in keys if (parts := split_identity_key(key)) is not None}
    snapshot = store.latest_snapshot(portal) if wanted else None
    if snapshot is None:
        return found
    prefixes = {parts[1] for parts in wanted.values()}
    # the items of each named part only (in SQL), then those directly in it (no deeper part)
    items = snapshot_items_in(
        store, snapshot.id, ItemSelection(prefixes=frozenset(f"{p}:" for p in prefixes))
    )
    candidates = {k: i for k, i in items.items() if k.rsplit(":", 1)[0] in prefixes}
    payloads = store.load_payloads({i.canonical_hash for i in candidates.values()})
    for key in wanted:
        held = [k for k, i in candidates.items() if names_item(key, k, payloads[i.canonical_hash])]
        if len(held) == 1:
            found[key] = held[0]
    return found


def planned_changes(lines: Sequence[str]) -> tuple[PlannedChange, ...]:
    """Planned changes written one a line (``add property:deals:x type=date``); blank lines
    are skipped. Each mistake names its line."""
    from hubaudit.governance.change_requests import parse_planned_change

    return tuple(parse_planned_change(line.strip()) for line in lines if line.strip())
