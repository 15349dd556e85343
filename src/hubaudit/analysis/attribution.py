"""Who made a change, when HubSpot knows it.

From what a snapshot already holds: a property's ``updatedUserId``/``updatedAt`` (or
``createdUserId`` for a new one) and a custom object schema's ``updatedByUserId``, joined to the
portal's users by id for an email. HubSpot records only the *last* editor of an item, so the
confidence says how sure the match is: ``medium`` when that edit happened after the baseline
was approved, ``low`` when it did not (the change may come from an edit HubSpot did not
attribute). A pipeline's change takes the latest entry of the pipeline's audit history, read
only for the pipelines that changed. The account audit log and the legacy workflows API are not
read yet: such changes say ``unknown``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hubaudit.model.changes import Attribution, Change, ChangeOp
from hubaudit.model.items import Kind

# (kind, user id field, time field) in the raw JSON of the item as HubSpot sent it
_SOURCES = {
    Kind.PROPERTY: ("updatedUserId", "updatedAt"),
    Kind.OBJECT_SCHEMA: ("updatedByUserId", "updatedAt"),
}
_CREATED = {Kind.PROPERTY: ("createdUserId", "createdAt")}


def attribute(
    changes: Sequence[Change],
    raw_after: Mapping[str, Mapping[str, Any]],
    user_emails: Mapping[str, str],
    baseline_approved_at: datetime,
) -> list[Change]:
    """Each change with its attribution: from the item's raw JSON in the snapshot, or unknown."""
    result = []
    for change in changes:
        attribution = item_attribution(
            change.kind, change.op, raw_after.get(change.key), user_emails, baseline_approved_at
        )
        result.append(replace(change, attribution=attribution))
    return result


def item_attribution(
    kind: Kind,
    op: ChangeOp,
    raw: Mapping[str, Any] | None,
    user_emails: Mapping[str, str],
    since: datetime,
) -> Attribution:
    """Who last edited one item, from its raw JSON; ``medium`` confidence if after ``since``."""
    fields = _SOURCES.get(kind)
    if op is ChangeOp.ADDED:
        fields = _CREATED.get(kind, fields)
    return _from_raw(raw, fields, user_emails, since)


def user_id_in(kind: Kind, op: ChangeOp, raw: Mapping[str, Any] | None) -> str | None:
    """The id of the user an item's raw JSON names as its last editor (or creator)."""
    fields = _CREATED.get(kind) if op is ChangeOp.ADDED else None
    fields = fields or _SOURCES.get(kind)
    if raw is None or fields is None or raw.get(fields[0]) in (None, ""):
        return None
    return str(raw[fields[0]])


History = Callable[[Change], Sequence[Attribution]]
"""What an audit trail says of a change's item: candidate attributions, newest wins."""


def attribute_from_history(
    changes: Sequence[Change],
    history: History,
    user_emails: Mapping[str, str],
    baseline_approved_at: datetime,
) -> list[Change]:
    """Changes still unattributed take the newest candidate their item's history gives."""
    result = []
    for change in changes:
        if change.attribution.user_id is None and change.op is not ChangeOp.REMOVED:
            candidates = [a for a in history(change) if a.at is not None and a.user_id]
            if candidates:
                latest = max(candidates, key=lambda a: a.at or baseline_approved_at)
                assert latest.at is not None and latest.user_id is not None
                after_approval = latest.at > baseline_approved_at
                change = replace(
                    change,
                    attribution=replace(
                        latest,
                        user_email=latest.user_email or user_emails.get(latest.user_id),
                        # a history matched by name, not by id, is never better than low
                        confidence="low"
                        if latest.confidence == "low" or not after_approval
                        else "medium",
                    ),
                )
        result.append(change)
    return result


def parse_time(value: Any) -> datetime | None:
    """HubSpot's times: ISO 8601 text, or epoch milliseconds."""
    return _parse_time(value)


def _from_raw(
    raw: Mapping[str, Any] | None,
    fields: tuple[str, str] | None,
    user_emails: Mapping[str, str],
    since: datetime,
) -> Attribution:
    if raw is None or fields is None or raw.get(fields[0]) in (None, ""):
        return Attribution()
    user_id = str(raw[fields[0]])
    at = _parse_time(raw.get(fields[1]))
    confidence = "medium" if at is not None and at > since else "low"
    return Attribution(
        user_id=user_id,
        user_email=user_emails.get(user_id),
        at=at,
        source=f"{fields[0]} of the item",
        confidence=confidence,
    )


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)  # epoch milliseconds
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
