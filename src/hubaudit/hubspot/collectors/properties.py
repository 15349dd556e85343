"""``property``: one per property of each object type, keyed ``property:{objectType}:{name}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubaudit.hubspot.collectors.base import ListCollector
from hubaudit.model import Kind
from hubaudit.snapshot import keyed_by, with_defaults, without

# Kept in the raw JSON for attribution, never compared.
VOLATILE_FIELDS = ("createdAt", "updatedAt", "archivedAt", "createdUserId", "updatedUserId")

# HubSpot omits these flags when they are false (seen in real portals' responses).
OMITTED_MEANS_FALSE = {
    "archived": False,
    "calculated": False,
    "externalOptions": False,
    "formField": False,
    "hasUniqueValue": False,
    "hidden": False,
    "hubspotDefined": False,
}
OPTION_DEFAULTS = {"hidden": False, "description": ""}


def canonical_property(raw: Mapping[str, Any]) -> dict[str, Any]:
    body = with_defaults(without(raw, VOLATILE_FIELDS), OMITTED_MEANS_FALSE)
    body.setdefault("description", "")
    body["options"] = keyed_by(
        raw.get("options") or [], "value", lambda option: with_defaults(option, OPTION_DEFAULTS)
    )
    return body


PROPERTIES = ListCollector(
    kind=Kind.PROPERTY,
    api="crm",
    resource="properties",
    identity="name",
    object_types=lambda portal: portal.property_object_types,
    canonical=canonical_property,
)
