"""``property``: every property of every object type, keyed ``property:{objectType}:{name}``.

Per object type, six reads: live and archived properties at each ``dataSensitivity`` level
(HubSpot hides sensitive properties unless asked, and lists archived ones only when asked). The
live non-sensitive read decides whether the part is readable at all; when another read is refused
(a token without the sensitive-data scopes, say) the part is still complete for the rest, and its
coverage names what was not read so that nothing there is reported as removed.

The reads overlap (a property may come back from two of them): identical copies are one
property; one read live and archived keeps the live definition (the coverage note says so); one
read twice with different definitions is left out of that night's snapshot alone, named in the
part's coverage as not verified, and the rest of the object type is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hubaudit.analysis.canonical import keyed_by, with_defaults, without
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
from hubaudit.logs import get_logger
from hubaudit.model.items import Kind

log = get_logger(__name__)

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


@dataclass(frozen=True)
class MergedReads:
    """The six reads of one object type's properties as one list, one property per name."""

    raws: list[Raw]
    shadowed: tuple[str, ...] = ()
    """Names read both live and archived: the live definition is kept."""
    contradicted: tuple[str, ...] = ()
    """Names read twice with different definitions (live twice, or archived twice): left out,
    not verified, so neither the one nor the other stands in for the property."""


def merge_reads(reads: Iterable[tuple[bool, list[Raw]]]) -> MergedReads:
    """Merge ``(archived, results)`` reads: identical duplicates are one property."""
    live: dict[str, list[Raw]] = {}
    archived: dict[str, list[Raw]] = {}
    nameless: list[Raw] = []
    for is_archived, raws in reads:
        for raw in raws:
            name = raw.get("name")
            if not isinstance(name, str) or not name:
                nameless.append(raw)  # refused, with the whole part, by items_from
                continue
            (archived if is_archived else live).setdefault(name, []).append(raw)
    kept: list[Raw] = []
    shadowed: list[str] = []
    contradicted: list[str] = []
    for name in list(live) + [n for n in archived if n not in live]:
        versions = live.get(name) or archived[name]
        if len({_definition(raw) for raw in versions}) > 1:
            contradicted.append(name)
            continue
        kept.append(versions[0])
        if name in live and name in archived:
            shadowed.append(name)
    return MergedReads(kept + nameless, tuple(shadowed), tuple(contradicted))


def _definition(raw: Mapping[str, Any]) -> str:
    return json.dumps(canonical_property(raw), sort_keys=True, default=str)


def read_properties(reading: Reading, object_type: str) -> PartResult:
    client = reading.client
    params = {"object_type": object_type}
    reads: list[tuple[bool, list[Raw]]] = []
    unverified: list[str] = []
    notes: list[str] = []
    for archived in ("false", "true"):
        for level in SENSITIVITY_LEVELS:
            query = {"archived": archived}
            if level != "non_sensitive":
                query["dataSensitivity"] = level
            try:
                reads.append(
                    (archived == "true", client.list_results(endpoints.PROPERTIES, params, query))
                )
            except KindUnreadable as exc:
                if archived == "false" and level == "non_sensitive":
                    raise unsupported_if_unknown_type(exc) from exc
                # The narrowest filter that names what was not read.
                what = "archived=true" if level == "non_sensitive" else f"dataSensitivity={level}"
                if what not in unverified:
                    unverified.append(what)
                notes.append(f"{'archived' if archived == 'true' else level} not read: {exc}")
    scope = f"property:{object_type}"
    merged = merge_reads(reads)
    if merged.shadowed:
        log.info("collect.property_live_and_archived", scope=scope, names=list(merged.shadowed))
        notes.append("read live and archived, the live one kept: " + ", ".join(merged.shadowed))
    if merged.contradicted:
        log.warning("collect.property_contradicted", scope=scope, names=list(merged.contradicted))
        notes.append("read twice, differently, not verified: " + ", ".join(merged.contradicted))
        unverified += [f"name={name}" for name in merged.contradicted]
    if LIFECYCLE_PROPERTY not in merged.contradicted:  # its stages are not read from either
        # only what a later phase reads (the lifecycle stages): the rest may go with its part
        reading.remember(scope, [r for r in merged.raws if r.get("name") == LIFECYCLE_PROPERTY])
    items = items_from(
        Kind.PROPERTY, scope, merged.raws, lambda raw: raw.get("name"), canonical_property
    )
    return PartResult(items, tuple(unverified), "; ".join(notes) or None)


PROPERTIES = PerObjectType(Kind.PROPERTY, 1, Reading.property_object_types, read_properties)
