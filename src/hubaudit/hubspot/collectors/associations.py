"""``association_label``: association types between two object types, in each direction, with
their labels and limits: ``association_label:{fromTypeId}:{toTypeId}:{category}:{typeId}``.

Per ordered pair, one read of the labels; the user-set limits (``userEnforcedMaxToObjectIds``)
of every pair come in one read of all definition configurations, shared by the pairs. HubSpot
exempts both from the ten-secondly limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from hubaudit.errors import KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import Part, PartResult, Raw, Reading, items_from
from hubaudit.model.items import STANDARD_OBJECT_TYPE_IDS, Kind

# objectTypeIds of HubSpot's standard objects (API-NOTES §8).
STANDARD_TYPE_IDS = {name: type_id for type_id, name in STANDARD_OBJECT_TYPE_IDS.items()}

LimitKey = tuple[str, str]
"""(category, typeId): an association type's identity in HubSpot, whichever pair it joins."""


class AssociationLimits:
    """Every configured limit, from ``…/definitions/configurations/all``.

    The published response names no object types: a configuration belongs to the association
    type with its category and typeId. Where a response does name them, they are matched too.
    """

    def __init__(self, configurations: list[Raw]) -> None:
        self._by_type: dict[LimitKey, list[Raw]] = {}
        for config in configurations:
            key = (str(config.get("category")), str(config.get("typeId")))
            self._by_type.setdefault(key, []).append(config)

    def limit(self, from_id: str, to_id: str, category: object, type_id: object) -> Any:
        found = [
            c
            for c in self._by_type.get((str(category), str(type_id)), [])
            if c.get("fromObjectTypeId", from_id) == from_id
            and c.get("toObjectTypeId", to_id) == to_id
        ]
        values = {repr(c.get("userEnforcedMaxToObjectIds")) for c in found}
        if len(values) > 1:
            raise KindUnreadable(
                f"the association limits give {category}:{type_id} {len(values)} different limits",
                category="MALFORMED_RESPONSE",
            )
        return found[0].get("userEnforcedMaxToObjectIds") if found else None


def read_limits(reading: Reading) -> AssociationLimits:
    def read() -> AssociationLimits:
        return AssociationLimits(reading.client.list_results(endpoints.ASSOCIATION_LIMITS))

    limits: AssociationLimits = reading.read_once("association_limits", read)
    return limits


def read_pair(reading: Reading, from_id: str, to_id: str) -> PartResult:
    try:
        limits = read_limits(reading)
    except KindUnreadable as exc:
        raise KindUnreadable(
            f"association limits not read: {exc}",
            category=exc.category,
            status=exc.status,
            scopes=exc.scopes,
            unsupported=exc.unsupported,
        ) from exc
    params = {"from_type": from_id, "to_type": to_id}
    labels = reading.client.list_results(endpoints.ASSOCIATION_LABELS, params)

    def canonical(raw: Mapping[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in raw.items() if k not in ("fromObjectTypeId", "toObjectTypeId")}
        body["userEnforcedMaxToObjectIds"] = limits.limit(
            from_id, to_id, raw.get("category"), raw.get("typeId")
        )
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


def no_type_id(fully_qualified_name: str) -> PartResult:
    raise KindUnreadable(
        f"the schema of {fully_qualified_name} gives no objectTypeId, and its id does not "
        "imply one: its association labels cannot be asked for",
        category="MALFORMED_RESPONSE",
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
        ] + [c.object_type_id for c in reading.custom_objects if c.object_type_id is not None]
        unknown = [
            Part(
                self.kind,
                f"association_label:{c.fully_qualified_name}",
                partial(no_type_id, c.fully_qualified_name),
                first=True,
            )
            for c in reading.custom_objects
            if c.object_type_id is None
        ]
        return [
            # exempt from the ten-secondly limit: started first, never behind a paced wait
            Part(
                self.kind,
                f"association_label:{a}:{b}",
                partial(read_pair, reading, a, b),
                first=True,
            )
            for a in type_ids
            for b in type_ids
        ] + unknown
