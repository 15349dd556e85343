"""``property_group``: groups of properties, keyed ``property_group:{objectType}:{name}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubaudit.analysis.canonical import with_defaults
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


def canonical_group(raw: Mapping[str, Any]) -> dict[str, Any]:
    return with_defaults(raw, {"archived": False})


def read_groups(reading: Reading, object_type: str) -> PartResult:
    try:
        raws = reading.client.list_results(endpoints.PROPERTY_GROUPS, {"object_type": object_type})
    except KindUnreadable as exc:
        raise unsupported_if_unknown_type(exc) from exc
    scope = f"property_group:{object_type}"
    return PartResult(
        items_from(Kind.PROPERTY_GROUP, scope, raws, lambda raw: raw.get("name"), canonical_group)
    )


PROPERTY_GROUPS = PerObjectType(Kind.PROPERTY_GROUP, 1, Reading.property_object_types, read_groups)
