"""``object_schema``: custom object definitions, ``object_schema:{fullyQualifiedName}``.

Read first (phase 0): the custom object types it finds are read by the other collectors too. Its
properties and associations are left out of the canonical form: they are ``property`` and
``association_label`` items of their own, so a change to one is reported once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubaudit.analysis.canonical import with_defaults, without
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import (
    CustomObject,
    PartResult,
    Reading,
    WholeKind,
    items_from,
)
from hubaudit.logs import get_logger
from hubaudit.model.items import Kind, schema_object_type_id

log = get_logger(__name__)

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
    keyed = [raw for raw in raws if _fully_qualified_name(raw) is not None]
    # A schema without its key (optional in the spec) fails alone, by name; the others are read.
    unkeyed = [raw for raw in raws if _fully_qualified_name(raw) is None]
    reading.custom_objects[:] = [
        CustomObject(
            str(raw.get("name")), str(raw["fullyQualifiedName"]), schema_object_type_id(raw)
        )
        for raw in keyed
        if not raw.get("archived", False)
    ]
    unverified = [f"name={raw.get('name')}" for raw in unkeyed if isinstance(raw.get("name"), str)]
    if len(unverified) < len(unkeyed):
        raise KindUnreadable(
            "a custom object schema has neither a fullyQualifiedName nor a name",
            category="MALFORMED_RESPONSE",
        )
    for raw in unkeyed:
        log.warning("collect.schema_without_key", scope="object_schema", name=raw.get("name"))
    note = (
        "not read, no fullyQualifiedName: " + ", ".join(str(raw.get("name")) for raw in unkeyed)
        if unkeyed
        else None
    )
    items = items_from(
        Kind.OBJECT_SCHEMA,
        "object_schema",
        keyed,
        lambda raw: raw.get("fullyQualifiedName"),
        canonical_schema,
        lambda raw: (raw.get("labels") or {}).get("singular"),
    )
    return PartResult(items, tuple(unverified), note)


def _fully_qualified_name(raw: Mapping[str, Any]) -> str | None:
    name = raw.get("fullyQualifiedName")
    return name if isinstance(name, str) and name else None


SCHEMAS = WholeKind(
    Kind.OBJECT_SCHEMA, 0, read_schemas, lambda reading: reading.portal.include_custom_objects
)
