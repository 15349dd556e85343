"""``pipeline``: one per pipeline of each object type, keyed ``pipeline:{objectType}:{pipelineId}``.

Every object type that can have pipelines is read, custom objects included; HubSpot's 400
(``Unable to infer object type``) or a 403 that is not about scopes says the portal's
subscription lacks the type, and the part is ``unsupported`` rather than failed.

Stages become a map by stage id, so reordering stages is a ``displayOrder`` change; stage
``metadata`` is kept exactly as HubSpot sends it (strings such as ``"0.2"``). The lifecycle
pipelines of contacts and companies are lifecycle stages, read as ``lifecycle_stage`` items.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubaudit.analysis.canonical import keyed_by, with_defaults, without
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import (
    PartResult,
    PerObjectType,
    Reading,
    items_from,
    unsupported_if_unknown_type,
)
from hubaudit.model.items import Kind

VOLATILE_FIELDS = ("createdAt", "updatedAt", "archivedAt")
LIFECYCLE_PIPELINE_SUFFIX = "-lifecycle-pipeline"


def canonical_stage(raw: Mapping[str, Any]) -> dict[str, Any]:
    return with_defaults(without(raw, VOLATILE_FIELDS), {"archived": False, "metadata": {}})


def canonical_pipeline(raw: Mapping[str, Any]) -> dict[str, Any]:
    body = with_defaults(without(raw, VOLATILE_FIELDS), {"archived": False})
    body["stages"] = keyed_by(raw.get("stages") or [], "id", canonical_stage)
    return body


def read_pipelines(reading: Reading, object_type: str) -> PartResult:
    try:
        raws = reading.client.list_results(endpoints.PIPELINES, {"object_type": object_type})
    except KindUnreadable as exc:
        raise unsupported_if_unknown_type(exc) from exc
    raws = [r for r in raws if not str(r.get("id", "")).endswith(LIFECYCLE_PIPELINE_SUFFIX)]
    scope = f"pipeline:{object_type}"
    return PartResult(
        items_from(Kind.PIPELINE, scope, raws, lambda raw: raw.get("id"), canonical_pipeline)
    )


def pipeline_object_types(reading: Reading) -> tuple[str, ...]:
    """The configured types (by default every standard one that can have pipelines) and every
    custom object: a type the portal lacks is read as ``unsupported``, not failed."""
    custom = tuple(c.fully_qualified_name for c in reading.custom_objects)
    configured = reading.portal.pipeline_object_types
    return configured + tuple(name for name in custom if name not in configured)


PIPELINES = PerObjectType(Kind.PIPELINE, 1, pipeline_object_types, read_pipelines)
