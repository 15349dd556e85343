"""Who made a change, when HubSpot knows it.

From what a snapshot already holds: a property's ``updatedUserId``/``updatedAt`` (or
``createdUserId`` for a new one) and a custom object schema's ``updatedByUserId``, joined to the
portal's users by id for an email. HubSpot records only the *last* editor of an item, so the
confidence says how sure the match is: ``medium`` when that edit happened after the baseline
was approved, ``low`` when it did not (the change may come from an edit HubSpot did not
attribute). Pipeline audit history, the account audit log and the legacy workflows API are
not read yet: their changes say ``unknown``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from hubaudit.model import Attribution, Change, ChangeOp, Kind

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
        raw = raw_after.get(change.key)
        fields = _SOURCES.get(change.kind)
        if change.op is ChangeOp.ADDED:
            fields = _CREATED.get(change.kind, fields)
        attribution = _from_raw(raw, fields, user_emails, baseline_approved_at)
        result.append(replace(change, attribution=attribution))
    return result


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
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
