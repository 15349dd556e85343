"""``pipeline``: one per pipeline of each object type, keyed ``pipeline:{objectType}:{pipelineId}``.

Stages become a map by stage id, so reordering stages is a ``displayOrder`` change; stage
``metadata`` is kept exactly as HubSpot sends it (strings such as ``"0.2"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubaudit.hubspot.collectors.base import ListCollector
from hubaudit.model import Kind
from hubaudit.snapshot import keyed_by, with_defaults, without

VOLATILE_FIELDS = ("createdAt", "updatedAt", "archivedAt")


def canonical_stage(raw: Mapping[str, Any]) -> dict[str, Any]:
    return with_defaults(without(raw, VOLATILE_FIELDS), {"archived": False, "metadata": {}})


def canonical_pipeline(raw: Mapping[str, Any]) -> dict[str, Any]:
    body = with_defaults(without(raw, VOLATILE_FIELDS), {"archived": False})
    body["stages"] = keyed_by(raw.get("stages") or [], "id", canonical_stage)
    return body


PIPELINES = ListCollector(
    kind=Kind.PIPELINE,
    api="crm",
    resource="pipelines",
    identity="id",
    object_types=lambda portal: portal.pipeline_object_types,
    canonical=canonical_pipeline,
)
