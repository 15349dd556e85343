from __future__ import annotations

from datetime import UTC, datetime

from hubaudit.analysis.attribution import attribute
from hubaudit.model.changes import Change, ChangeOp
from hubaudit.model.items import Kind

APPROVED = datetime(2026, 11, 1, tzinfo=UTC)


def change(key: str, op: ChangeOp = ChangeOp.MODIFIED, kind: Kind = Kind.PROPERTY) -> Change:
    return Change(kind, key, op, "label", ("label",), "a", "b")


def test_the_last_editor_after_approval_is_a_medium_confidence_match() -> None:
    raw = {
        "property:deals:x": {"updatedUserId": "7", "updatedAt": "2026-11-20T10:00:00Z"},
        "property:deals:y": {"updatedUserId": "8", "updatedAt": "2026-10-01T10:00:00Z"},
        "object_schema:p1_x": {"updatedByUserId": 7, "updatedAt": "2026-11-20T10:00:00Z"},
    }
    x, y, schema, pipeline = attribute(
        [
            change("property:deals:x"),
            change("property:deals:y"),
            change("object_schema:p1_x", kind=Kind.OBJECT_SCHEMA),
            change("pipeline:deals:default", kind=Kind.PIPELINE),
        ],
        raw,
        {"7": "ada@example.com"},
        APPROVED,
    )
    assert (x.attribution.user_email, x.attribution.confidence) == ("ada@example.com", "medium")
    assert (y.attribution.user_id, y.attribution.user_email, y.attribution.confidence) == (
        "8",
        None,
        "low",  # edited before approval, and not a known user
    )
    assert schema.attribution.user_id == "7"
    assert (pipeline.attribution.source, pipeline.attribution.confidence) == ("unknown", "unknown")
