"""Change requests as pure functions: reading a planned change, matching drift to what a CR
approved, a CR's progress in the portal, and the items a release puts into the next baseline.

A change to an item that an approved CR in its window names is ``planned`` when it is what the CR
approved: the same operation and, where the CR states values, those values. Otherwise it stays a
defect and says how it differs ("implemented differently than approved").
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hubaudit.analysis.canonical import canonical_json
from hubaudit.analysis.compare import ORDER_SUFFIX, apply_changes, dotted, field_changes
from hubaudit.errors import UsageError
from hubaudit.keys import key_problem, names_item
from hubaudit.model.change_requests import (
    ChangeRequest,
    CRProgress,
    PlannedChange,
    PlannedChangeState,
)
from hubaudit.model.changes import Change, ChangeOp, Classification
from hubaudit.model.items import JSONValue, Kind

_OPS = {
    "add": ChangeOp.ADDED,
    "added": ChangeOp.ADDED,
    "remove": ChangeOp.REMOVED,
    "removed": ChangeOp.REMOVED,
    "modify": ChangeOp.MODIFIED,
    "modified": ChangeOp.MODIFIED,
}
_VERB = {ChangeOp.ADDED: "add", ChangeOp.REMOVED: "remove", ChangeOp.MODIFIED: "modify"}
_MISSING: Any = object()

CHANGE_HELP = (
    'OP KEY [FIELD=VALUE ...], e.g. "add property:deals:renewal_date type=date '
    'groupName=dealinformation"; OP is add, remove or modify; FIELD is a dotted field of the '
    "item's canonical form (as `hubaudit show` prints it); VALUE is JSON, or else text"
)


def parse_planned_change(text: str) -> PlannedChange:
    """``add property:deals:renewal_date type=date "label=Renewal date"`` → a planned change."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"--change {text!r}: {exc}") from exc
    if len(words) < 2 or words[0].lower() not in _OPS:
        raise UsageError(f"--change {text!r}: expected {CHANGE_HELP}")
    op = _OPS[words[0].lower()]
    key = words[1]
    problem = key_problem(key)
    if problem is not None:
        raise UsageError(f"--change {text!r}: {problem}")
    expect: dict[str, JSONValue] = {}
    for word in words[2:]:
        name, equals, value = word.partition("=")
        if not equals or not name or name.startswith(".") or name.endswith("."):
            raise UsageError(f"--change {text!r}: {word!r} is not FIELD=VALUE")
        if name in expect:
            raise UsageError(f"--change {text!r}: {name} is given twice")
        expect[name] = _value(value)
    if op is ChangeOp.REMOVED and expect:
        raise UsageError(f"--change {text!r}: a removal has no values to expect")
    return PlannedChange(op=op, key=key, expect=expect)


def _value(text: str) -> JSONValue:
    try:
        return json.loads(text)
    except ValueError:
        return text


def describe_planned(planned: PlannedChange) -> str:
    values = " ".join(f"{name}={json.dumps(v)}" for name, v in sorted(planned.expect.items()))
    return f"{_VERB[planned.op]} {planned.key}" + (f" {values}" if values else "")


def resolve_field(payload: JSONValue, field: str) -> JSONValue:
    """The value at a dotted field; a map key that itself holds dots is found too (the longest
    key that matches wins). ``_MISSING`` when there is none."""
    parts = field.split(".")
    return _resolve(payload, parts)


def _resolve(value: JSONValue, parts: list[str]) -> JSONValue:
    if not parts:
        return value
    if isinstance(value, Mapping):
        for end in range(len(parts), 0, -1):
            name = ".".join(parts[:end])
            if name in value:
                found = _resolve(value[name], parts[end:])
                if found is not _MISSING:
                    return found
        labelled = _labelled_child(value, parts[0])
        if labelled is not None:
            return _resolve(labelled, parts[1:])
        return _MISSING
    if isinstance(value, list) and parts[0].isdigit() and int(parts[0]) < len(value):
        return _resolve(value[int(parts[0])], parts[1:])
    return _MISSING


def _json_type(value: JSONValue) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return "null"


def value_problem(planned: PlannedChange, payload: JSONValue) -> str | None:
    """Why the values a modification expects cannot be the item's (``payload``, its canonical
    form in the latest snapshot): a field the item does not have, or a value of another JSON
    type than the item's (a null field takes any); ``None`` when they can."""
    for name, value in sorted(planned.expect.items()):
        held = resolve_field(payload, name)
        if held is _MISSING:
            fields = sorted(payload) if isinstance(payload, Mapping) else []
            shown = ", ".join(fields[:12]) + (", …" if len(fields) > 12 else "")
            return f"{planned.key} has no field {name!r} in the latest snapshot" + (
                f" (its fields: {shown})" if shown else ""
            )
        if held is None or value is None or _json_type(held) == _json_type(value):
            continue
        quoted = json.dumps(json.dumps(value, ensure_ascii=False), ensure_ascii=False)
        hint = f"; for the text, quote it: {name}='{quoted}'" if isinstance(held, str) else ""
        return (
            f"{planned.key}: {name} is {_json_type(held)} in the latest snapshot "
            f"({_shown(held)}), not {_json_type(value)} ({_shown(value)}){hint}"
        )
    return None


def _labelled_child(value: Mapping[str, JSONValue], part: str) -> JSONValue | None:
    """``{Legal review}``: the one child whose label is that (a stage promoted from another
    portal, which gives it an id of its own); ``None`` when no single child is."""
    if len(part) < 3 or not (part.startswith("{") and part.endswith("}")):
        return None
    found = [
        child
        for child in value.values()
        if isinstance(child, Mapping) and child.get("label") == part[1:-1]
    ]
    return found[0] if len(found) == 1 else None


def labelled_field(path: Sequence[str | int], payload: JSONValue) -> str | None:
    """A stage's field with the stage named by its label (``stages.{Legal review}.label``), as a
    change request promoted from another portal names it; ``None`` outside a stage."""
    if len(path) < 2 or path[0] != "stages" or not isinstance(payload, Mapping):
        return None
    stages = payload.get("stages")
    stage = stages.get(str(path[1])) if isinstance(stages, Mapping) else None
    label = stage.get("label") if isinstance(stage, Mapping) else None
    if not isinstance(label, str):
        return None
    return dotted(("stages", f"{{{label}}}", *path[2:]))


def _shown(value: JSONValue) -> str:
    return "absent" if value is _MISSING else json.dumps(value, ensure_ascii=False)


def _same(a: JSONValue, b: JSONValue) -> bool:
    return a is not _MISSING and canonical_json(a) == canonical_json(b)


def unmet(
    planned: PlannedChange, payload: JSONValue, fields: Sequence[str] | None = None
) -> list[str]:
    """The expected values the payload does not have (of ``fields`` only, if given)."""
    return [
        f"{name} is {_shown(resolve_field(payload, name))}, approved {_shown(expected)}"
        for name, expected in sorted(planned.expect.items())
        if (fields is None or name in fields) and not _same(resolve_field(payload, name), expected)
    ]


def _related(a: str, b: str) -> bool:
    """Is one dotted field the other or inside it?"""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _mismatch(change: Change, planned: PlannedChange, after: JSONValue) -> str | None:
    """How the change differs from the planned one; ``None`` when it is what was approved."""
    if planned.op is not change.op:
        return f"planned to {_VERB[planned.op]} it, but it was {change.op.value}"
    if change.op is ChangeOp.REMOVED:
        return None
    if change.op is ChangeOp.ADDED:
        problems = unmet(planned, after)
        return "; ".join(problems) if problems else None
    if not planned.expect:
        return None
    assert change.field is not None
    labelled = labelled_field(change.path, after)
    related = [
        name
        for name in planned.expect
        if _related(name, change.field) or (labelled is not None and _related(name, labelled))
    ]
    if not related:
        return f"{change.field} changed; it approved changes to {', '.join(sorted(planned.expect))}"
    problems = unmet(planned, after, related)
    return "; ".join(problems) if problems else None


def classify_planned(
    change: Change, requests: Sequence[ChangeRequest], after: JSONValue
) -> Change | None:
    """The change as planned by the first CR that approved it, or as a defect that says how it
    differs from the CRs that name its item; ``None`` when no CR names the item.

    ``requests`` are the CRs in force when the change was seen; ``after`` is the item's payload
    in the snapshot (``None`` when it was removed)."""
    naming = [
        (cr, p) for cr in requests for p in cr.changes if names_item(p.key, change.key, after)
    ]
    if not naming:
        return None
    problems = []
    for cr, planned in naming:
        problem = _mismatch(change, planned, after)
        if problem is None:
            return replace(
                change,
                classification=Classification.PLANNED,
                change_request=cr.id,
                note=f"planned by CR-{cr.id}: {cr.title}",
            )
        problems.append(f"CR-{cr.id}: {problem}")
    return replace(
        change,
        classification=Classification.DEFECT,
        change_request=naming[0][0].id,
        note="implemented differently than approved (" + "; ".join(problems) + ")",
    )


# progress -----------------------------------------------------------------------------------

DONE = PlannedChangeState.DONE
NOT_STARTED = PlannedChangeState.NOT_STARTED
NOT_VERIFIED = PlannedChangeState.NOT_VERIFIED


@dataclass(frozen=True)
class PlannedState:
    planned: PlannedChange
    status: PlannedChangeState
    problem: str = ""
    """how it differs from what was approved (``differs`` only)"""

    @property
    def state(self) -> str:
        """``done``, ``not started``, ``not verified`` or ``differs: …`` (how)."""
        if self.status is PlannedChangeState.DIFFERS:
            return f"{self.status.value}: {self.problem}"
        return self.status.value


@dataclass(frozen=True)
class Progress:
    """How far the portal has come with a CR: per planned change, and overall."""

    request: ChangeRequest
    states: tuple[PlannedState, ...]

    @property
    def summary(self) -> CRProgress:
        done = sum(1 for s in self.states if s.status is DONE)
        if done == len(self.states):
            return CRProgress.IMPLEMENTED
        if any(s.status is NOT_VERIFIED for s in self.states):
            return CRProgress.NOT_VERIFIED
        if done == 0 and all(s.status is NOT_STARTED for s in self.states):
            return CRProgress.NOT_STARTED
        return CRProgress.PARTIALLY_IMPLEMENTED


def planned_state(
    planned: PlannedChange, before: JSONValue, now: JSONValue, verified: bool
) -> PlannedState:
    """The state of one planned change: ``before`` is the item in the approved baseline, ``now``
    in the latest snapshot (``None`` for absent); ``verified`` says the snapshot read its part."""
    if not verified:
        return PlannedState(planned, NOT_VERIFIED)
    if planned.op is ChangeOp.REMOVED:
        return PlannedState(planned, DONE if now is None else NOT_STARTED)
    if now is None:
        if planned.op is ChangeOp.ADDED:
            return PlannedState(planned, NOT_STARTED)
        return PlannedState(planned, PlannedChangeState.DIFFERS, "the item is gone")
    if planned.op is ChangeOp.ADDED:
        problems = unmet(planned, now)
    elif not planned.expect:
        changed = before is None or canonical_json(before) != canonical_json(now)
        return PlannedState(planned, DONE if changed else NOT_STARTED)
    else:
        problems = unmet(planned, now)
        if problems and before is not None and canonical_json(before) == canonical_json(now):
            return PlannedState(planned, NOT_STARTED)
    if not problems:
        return PlannedState(planned, DONE)
    return PlannedState(planned, PlannedChangeState.DIFFERS, "; ".join(problems))


# release ------------------------------------------------------------------------------------


def released_payload(
    planned: PlannedChange, kind: Kind, base: JSONValue, now: JSONValue
) -> JSONValue:
    """The item as the next baseline holds it once the CR is released: taken from the portal,
    except that a modification with stated values takes in only the field changes those values
    cover, so that unapproved edits of the same item stay defects."""
    if planned.op is ChangeOp.REMOVED:
        return None
    if planned.op is ChangeOp.ADDED or not planned.expect or base is None:
        return now
    covered = [
        Change(kind, planned.key, ChangeOp.MODIFIED, dotted(path), path, old, new)
        for path, old, new in field_changes(base, now)
        if any(_related(name, dotted(path)) for name in planned.expect)
    ]
    return apply_changes(base, covered)


def accepted_payload(change: Change, base: JSONValue) -> JSONValue:
    """The item as the next baseline holds it once one defect's change is accepted."""
    if change.op is ChangeOp.ADDED:
        return change.after
    if change.op is ChangeOp.REMOVED:
        return None
    if base is None and change.field is not None and change.field.endswith(ORDER_SUFFIX):
        raise UsageError(
            f"the {change.field} of {change.key} is held by its items: approve a baseline from "
            "a snapshot to take it in (baseline approve --from-snapshot)"
        )
    if base is None:
        raise UsageError(
            f"{change.key} is not in the baseline, so its {change.field} change cannot be accepted"
        )
    return apply_changes(base, [change])
