"""``property``: every property of every object type, keyed ``property:{objectType}:{name}``.

Per object type, six reads: live and archived properties at each ``dataSensitivity`` level
(HubSpot hides sensitive properties unless asked, and lists archived ones only when asked). The
live non-sensitive read decides whether the part is readable at all; when another read is refused
(a token without the sensitive-data scopes, say) the part is still complete for the rest, and its
coverage names what was not read so that nothing there is reported as removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubaudit.errors import KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import (
    PartResult,
    PerObjectType,
    Raw,
    Reading,
    items_from,
    unsupported_if_unknown_type,
)
from hubaudit.model import Kind
from hubaudit.snapshot import keyed_by, with_defaults, without

# Kept in the raw JSON for attribution, never compared.
VOLATILE_FIELDS = ("createdAt", "updatedAt", "archivedAt", "createdUserId", "updatedUserId")

# HubSpot omits these when they hold their default (seen in real portals' responses).
OMITTED_DEFAULTS = {
    "archived": False,
    "calculated": False,
    "externalOptions": False,
    "formField": False,
    "hasUniqueValue": False,
    "hidden": False,
    "hubspotDefined": False,
    "dataSensitivity": "non_sensitive",
}
OPTION_DEFAULTS = {"hidden": False, "description": ""}
SENSITIVITY_LEVELS = ("non_sensitive", "sensitive", "highly_sensitive")
LIFECYCLE_PROPERTY = "lifecyclestage"


def canonical_property(raw: Mapping[str, Any]) -> dict[str, Any]:
    body = with_defaults(without(raw, VOLATILE_FIELDS), OMITTED_DEFAULTS)
    body.setdefault("description", "")
    if raw.get("name") == LIFECYCLE_PROPERTY:
        # Its options are the lifecycle stages, governed (and reported) as lifecycle_stage items.
        body.pop("options", None)
        body["options"] = "governed as lifecycle_stage items"
        return body
    body["options"] = keyed_by(
        raw.get("options") or [], "value", lambda option: with_defaults(option, OPTION_DEFAULTS)
    )
    return body


def read_properties(reading: Reading, object_type: str) -> PartResult:
    client = reading.client
    params = {"object_type": object_type}
    raws: list[Raw] = []
    unverified: list[str] = []
    notes: list[str] = []
    for archived in ("false", "true"):
        for level in SENSITIVITY_LEVELS:
            query = {"archived": archived}
            if level != "non_sensitive":
                query["dataSensitivity"] = level
            try:
                raws += client.list_results(endpoints.PROPERTIES, params, query)
            except KindUnreadable as exc:
                if archived == "false" and level == "non_sensitive":
                    raise unsupported_if_unknown_type(exc) from exc
                # The narrowest filter that names what was not read.
                what = "archived=true" if level == "non_sensitive" else f"dataSensitivity={level}"
                if what not in unverified:
                    unverified.append(what)
                notes.append(f"{'archived' if archived == 'true' else level} not read: {exc}")
    reading.remember(f"property:{object_type}", raws)
    items = items_from(
        Kind.PROPERTY,
        f"property:{object_type}",
        raws,
        lambda raw: raw.get("name"),
        canonical_property,
    )
    return PartResult(items, tuple(unverified), "; ".join(notes) or None)


PROPERTIES = PerObjectType(Kind.PROPERTY, 1, Reading.property_object_types, read_properties)
