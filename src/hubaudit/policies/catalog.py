"""What the council can configure about policies and manual reviews, as plain facts: every
built-in policy's id with the options its ``[policies.<id>]`` table may set, and the parts of a
portal HubSpot exposes no API for. The config validates against these; it imports nothing of
ours but this, so reading a config stays fast."""

from __future__ import annotations

from collections.abc import Mapping

POLICY_OPTIONS: Mapping[str, frozenset[str]] = {
    "property-description": frozenset({"object_types"}),
    "property-naming": frozenset({"object_types", "patterns"}),
    "property-duplicates": frozenset({"object_types"}),
    "group-empty": frozenset({"object_types"}),
    "group-missing": frozenset({"object_types"}),
    "pipeline-closed-stages": frozenset({"object_types"}),
    "pipeline-probability-order": frozenset({"object_types"}),
    "pipeline-open-probability": frozenset({"object_types"}),
    "lifecycle-order": frozenset({"stages"}),
    "workflow-off": frozenset({"max_days"}),
    "workflow-conflicting-setters": frozenset(),
    "super-admins": frozenset({"max"}),
}
"""Every built-in policy's id and the options its ``[policies.<id>]`` table may set besides
``enabled``, ``severity`` and ``reason`` (the policies themselves live beside this module; a
test holds the two to the same ids)."""

MANUAL_AREAS: Mapping[str, tuple[str, str]] = {
    "conditional-stage-properties": (
        "Conditional stage properties",
        "properties a deal or ticket must have to enter a stage: no public API returns them",
    ),
    "pipeline-rules": (
        "Pipeline rules and stage edit permissions",
        "only a beta API (crm/pipelines-rules/2026-09-beta), not read by hubaudit",
    ),
    "dedupe-rules": (
        "Duplicate management rules",
        "HubSpot exposes no API for the duplicate-matching settings",
    ),
    "lead-scoring": (
        "Lead scoring criteria",
        "score properties are read, but not the criteria that compute them",
    ),
    "field-permissions": (
        "Field-level permissions",
        "who may view or edit each property (Enterprise): no public API",
    ),
    "permission-sets": (
        "Permission sets inside roles",
        "roles are read by name and id; the permissions they grant are not exposed",
    ),
    "record-layouts": (
        "Record page layouts and cards",
        "record page customisation has no public read API",
    ),
}
"""The parts of a portal's architecture HubSpot exposes no API for: governed by a periodic
manual sign-off (``[[signoff]]``) instead of nightly reads."""
