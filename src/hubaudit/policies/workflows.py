"""Policies on workflows: long-disabled ones, and properties set by several active ones.

How long a workflow has been off is the earliest moment it is known to have been off: over the
stored versions that end in the current one and are all disabled, the earliest of HubSpot's
``updatedAt`` and the night hubaudit first saw each. HubSpot bumps ``updatedAt`` on its own
housekeeping, so its latest value alone would keep an old workflow looking freshly edited.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from hubaudit.analysis.dependencies import flows_with_uses
from hubaudit.model.changes import Severity
from hubaudit.model.findings import Breach
from hubaudit.model.items import STANDARD_OBJECT_TYPE_IDS, Kind
from hubaudit.model.view import PastVersion, PortalView, ViewItem
from hubaudit.policies.base import Policy, Rules, object_type_of

DEFAULT_MAX_DAYS_OFF = 90


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def off_since(view: PortalView, flow: ViewItem, past: list[PastVersion] | None = None) -> datetime:
    """The earliest moment the (disabled) workflow is known to have been off since, from its
    stored versions (``past``; read from the view when not given).

    Once hubaudit has seen it on, it was turned off after that: only the night hubaudit first
    saw it off is known, whatever ``updatedAt`` says (HubSpot may not move it for a toggle)."""
    candidates = [view.taken_at]
    edits = [_moment((flow.raw or {}).get("updatedAt"))]
    seen_on = False
    versions = view.past(flow.key) if past is None else past
    for version in reversed(versions):
        if version.canonical.get("isEnabled") is not False:
            seen_on = True
            break
        candidates.append(version.first_seen_at)
        edits.append(_moment(version.raw.get("updatedAt")))
    if not seen_on:
        candidates += [edited for edited in edits if edited is not None]
    return min(candidates)


def check_disabled(view: PortalView, rules: Rules) -> list[Breach]:
    if not view.read("workflow"):
        return []
    allowed = rules.settings.max_days or DEFAULT_MAX_DAYS_OFF
    breaches = []
    disabled = sorted(
        (f for f in view.of_kind(Kind.WORKFLOW) if f.canonical.get("isEnabled") is False),
        key=lambda f: f.key,
    )
    pasts = view.past_of([flow.key for flow in disabled])  # in one read, not one per workflow
    for flow in disabled:
        since = off_since(view, flow, pasts[flow.key])
        days = (view.taken_at - since).days
        if days > allowed:
            breaches.append(
                rules.breach(
                    flow.key,
                    flow.key,
                    f"off since {since:%Y-%m-%d} at the latest ({days} days; {allowed} allowed): "
                    "turn it back on or delete it",
                    ["workflow"],
                    {"off_since": since.date().isoformat()},
                    flow.label,
                )
            )
    return breaches


def check_conflicting_setters(view: PortalView, rules: Rules) -> list[Breach]:
    if not view.read("workflow"):
        return []
    setters: dict[str, dict[str, ViewItem]] = defaultdict(dict)
    values: dict[str, set[str]] = defaultdict(set)
    standard = set(STANDARD_OBJECT_TYPE_IDS.values())
    for flow, _object_type, uses in flows_with_uses(view):
        if flow.canonical.get("isEnabled") is not True:
            continue
        for use in uses:
            if use.relation == "writes":
                target = f"property:{use.object_type}:{use.property}"
                setters[target][flow.key] = flow
                values[target].update(use.values)
    breaches = []
    for target, flows in sorted(setters.items()):
        if len(flows) < 2:
            continue
        names = sorted(f.label or f.key for f in flows.values())
        shown = ", ".join(repr(n) for n in names[:5]) + (
            f" and {len(names) - 5} more" if len(names) > 5 else ""
        )
        breaches.append(
            rules.breach(
                target,
                target,
                f"set by {len(flows)} active workflows ({shown}); "
                f"values: {', '.join(sorted(values[target])) or 'copied or computed'}",
                # a custom object's workflows are known as such only from the schemas
                ["workflow"] + ([] if object_type_of(target) in standard else ["object_schema"]),
                {"workflows": sorted(flows), "values": sorted(values[target])},
            )
        )
    return breaches


POLICIES = (
    Policy(
        "workflow-off",
        Severity.LOW,
        "a workflow left off for months is either dead weight or a process nobody runs",
        "no workflow has been off for more than max_days (default 90)",
        check_disabled,
    ),
    Policy(
        "workflow-conflicting-setters",
        Severity.HIGH,
        "two active workflows setting one property overwrite each other's work",
        "at most one active workflow sets each property",
        check_conflicting_setters,
        per_item=False,
    ),
)
