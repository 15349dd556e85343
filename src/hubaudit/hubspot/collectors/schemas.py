"""``object_schema``: custom object definitions, ``object_schema:{fullyQualifiedName}``.

Read first (phase 0): the custom object types it finds are read by the other collectors too. Its
properties and associations are left out of the canonical form: they are ``property`` and
``association_label`` items of their own, so a change to one is reported once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import (
    CustomObject,
    PartResult,
    Reading,
    WholeKind,
    items_from,
)
from hubaudit.model import Kind
from hubaudit.snapshot import with_defaults, without

VOLATILE_FIELDS = ("createdAt", "updatedAt", "createdByUserId", "updatedByUserId")
OWNED_ELSEWHERE = ("properties", "associations")
UNORDERED_LISTS = ("requiredProperties", "searchableProperties")


def canonical_schema(raw: Mapping[str, Any]) -> dict[str, Any]:
    body = with_defaults(without(raw, VOLATILE_FIELDS + OWNED_ELSEWHERE), {"archived": False})
    for name in UNORDERED_LISTS:
        if isinstance(body.get(name), list):
            body[name] = sorted(body[name], key=str)
    return body


def read_schemas(reading: Reading) -> PartResult:
    raws = reading.client.list_results(endpoints.SCHEMAS)
    reading.custom_objects[:] = [
        CustomObject(
            str(raw.get("name")), str(raw["fullyQualifiedName"]), str(raw.get("objectTypeId"))
        )
        for raw in raws
        if raw.get("fullyQualifiedName") and not raw.get("archived", False)
    ]
    return PartResult(
        items_from(
            Kind.OBJECT_SCHEMA,
            "object_schema",
            raws,
            lambda raw: raw.get("fullyQualifiedName"),
            canonical_schema,
            lambda raw: (raw.get("labels") or {}).get("singular"),
        )
    )


SCHEMAS = WholeKind(
    Kind.OBJECT_SCHEMA, 0, read_schemas, lambda reading: reading.portal.include_custom_objects
)
