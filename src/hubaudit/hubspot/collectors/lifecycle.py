"""``lifecycle_stage``: ``lifecycle_stage:{objectType}:{value}`` for contacts and companies.

The stages are the options of the ``lifecyclestage`` property (read with the properties, so no
extra call), completed with the stage metadata of the object's lifecycle pipeline. A stage is one
item: a renamed stage is one change, not one on the property and another on a pipeline (the
property's canonical form leaves its options to these items, and the pipeline reader skips the
lifecycle pipelines).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubaudit.analysis.canonical import with_defaults
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import PartResult, PerObjectType, Reading, items_from
from hubaudit.hubspot.collectors.properties import LIFECYCLE_PROPERTY, OPTION_DEFAULTS
from hubaudit.model.items import Kind

LIFECYCLE_OBJECT_TYPES = ("contacts", "companies")


def read_lifecycle_stages(reading: Reading, object_type: str) -> PartResult:
    raws = reading.raw_by_scope.get(f"property:{object_type}")
    if raws is None:
        raise KindUnreadable(
            f"the {object_type} {LIFECYCLE_PROPERTY} property could not be read, "
            "so neither could its stages",
            category="DEPENDENCY_FAILED",
        )
    prop = next((r for r in raws if r.get("name") == LIFECYCLE_PROPERTY), None)
    if prop is None:
        raise KindUnreadable(
            f"{object_type} has no {LIFECYCLE_PROPERTY} property", category="MALFORMED_RESPONSE"
        )
    note = None
    stages: dict[str, Mapping[str, Any]] = {}
    try:
        pipeline = reading.client.get(
            endpoints.PIPELINE,
            {"object_type": object_type, "pipeline_id": f"{object_type}-lifecycle-pipeline"},
        )
        stages = {str(s.get("id")): s for s in pipeline.get("stages") or []}
    except KindUnreadable as exc:
        if exc.status != 404:
            raise  # half-read stages would show their metadata as removed
        note = "no lifecycle pipeline: stages come from the lifecycleStage property alone"

    def canonical(option: Mapping[str, Any]) -> dict[str, Any]:
        body = with_defaults(option, OPTION_DEFAULTS)
        body.pop("value", None)
        stage = stages.get(str(option.get("value")))
        if stage is not None:
            body["pipelineMetadata"] = stage.get("metadata") or {}
        return body

    scope = f"lifecycle_stage:{object_type}"
    items = items_from(
        Kind.LIFECYCLE_STAGE, scope, prop.get("options") or [], lambda o: o.get("value"), canonical
    )
    return PartResult(items, note=note)


LIFECYCLE_STAGES = PerObjectType(
    Kind.LIFECYCLE_STAGE,
    2,  # after the properties, whose lifecyclestage options it reads
    lambda reading: [
        ot for ot in LIFECYCLE_OBJECT_TYPES if ot in reading.portal.property_object_types
    ],
    read_lifecycle_stages,
)
