"""``association_label``: association types between two object types, in each direction, with
their labels and limits: ``association_label:{fromTypeId}:{toTypeId}:{category}:{typeId}``.

Per ordered pair, two reads: the labels, and the definition configurations that carry the
user-set limit (``userEnforcedMaxToObjectIds``). HubSpot exempts both from the ten-secondly limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import Part, PartResult, Reading, items_from
from hubaudit.model import Kind

# objectTypeIds of HubSpot's standard objects (API-NOTES §8).
STANDARD_TYPE_IDS = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "tickets": "0-5",
    "products": "0-7",
    "line_items": "0-8",
    "quotes": "0-14",
    "calls": "0-48",
    "emails": "0-49",
    "meetings": "0-47",
    "notes": "0-46",
    "tasks": "0-27",
    "leads": "0-136",
}


def read_pair(reading: Reading, from_id: str, to_id: str) -> PartResult:
    params = {"from_type": from_id, "to_type": to_id}
    labels = reading.client.list_results(endpoints.ASSOCIATION_LABELS, params)
    limits = {
        (str(c.get("category")), str(c.get("typeId"))): c
        for c in reading.client.list_results(endpoints.ASSOCIATION_LIMITS, params)
    }

    def canonical(raw: Mapping[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in raw.items() if k not in ("fromObjectTypeId", "toObjectTypeId")}
        limit = limits.get((str(raw.get("category")), str(raw.get("typeId"))), {})
        body["userEnforcedMaxToObjectIds"] = limit.get("userEnforcedMaxToObjectIds")
        return body

    scope = f"association_label:{from_id}:{to_id}"
    return PartResult(
        items_from(
            Kind.ASSOCIATION_LABEL,
            scope,
            labels,
            lambda raw: f"{raw.get('category')}:{raw.get('typeId')}",
            canonical,
        )
    )


class AssociationLabelsCollector:
    """One part per ordered pair of object types, so it is neither per type nor whole."""

    kind = Kind.ASSOCIATION_LABEL
    phase = 1

    def parts(self, reading: Reading) -> list[Part]:
        type_ids = [
            STANDARD_TYPE_IDS[name]
            for name in reading.portal.association_object_types
            if name in STANDARD_TYPE_IDS
        ] + [c.object_type_id for c in reading.custom_objects]
        return [
            Part(self.kind, f"association_label:{a}:{b}", partial(read_pair, reading, a, b))
            for a in type_ids
            for b in type_ids
        ]
