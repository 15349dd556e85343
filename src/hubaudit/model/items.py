"""Config items, kinds and snapshots: what a read of a portal holds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

JSONValue = Any
"""A value as it comes out of ``json.loads``: dict, list, str, int, float, bool or None."""


STANDARD_OBJECT_TYPE_IDS: Mapping[str, str] = {
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-5": "tickets",
    "0-7": "products",
    "0-8": "line_items",
    "0-14": "quotes",
    "0-27": "tasks",
    "0-46": "notes",
    "0-47": "meetings",
    "0-48": "calls",
    "0-49": "emails",
    "0-136": "leads",
    "0-123": "orders",
    "0-162": "services",
    "0-410": "courses",
    "0-420": "listings",
    "0-421": "appointments",
}
"""HubSpot's objectTypeIds of the standard objects (API-NOTES §8); custom objects are ``2-…``."""


def schema_object_type_id(schema: Mapping[str, Any]) -> str | None:
    """A custom object schema's objectTypeId: as given, else derived from its ``id``.

    The spec makes ``objectTypeId`` optional (HubSpot's own example has none) and describes
    ``id`` as ``{meta-type}-{unique ID}``; in that example the id is the bare number and the
    associations say ``2-{id}``, so a bare number gets the custom objects' meta-type ``2``.
    ``None`` when neither says it: never the text ``None`` in a path or a key.
    """
    given = schema.get("objectTypeId")
    if isinstance(given, str) and _TYPE_ID.match(given):
        return given
    ident = schema.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if isinstance(ident, str):
        if _TYPE_ID.match(ident):
            return ident
        if ident.isascii() and ident.isdigit():
            return f"2-{ident}"
    return None


_TYPE_ID = re.compile(r"^[0-9]+-[0-9]+$")


class Kind(StrEnum):
    PROPERTY = "property"
    PROPERTY_GROUP = "property_group"
    PIPELINE = "pipeline"
    WORKFLOW = "workflow"
    LIFECYCLE_STAGE = "lifecycle_stage"
    OBJECT_SCHEMA = "object_schema"
    ASSOCIATION_LABEL = "association_label"
    USER = "user"
    TEAM = "team"
    ROLE = "role"


@dataclass(frozen=True)
class ItemKey:
    """An item key (or a part's scope) parsed once into its kind and the rest:
    ``property:deals:amount`` is ``ItemKey(Kind.PROPERTY, "deals:amount")``; ``workflow`` (a
    part) has no rest. Its text is the key, unchanged."""

    kind: Kind
    rest: str = ""

    @classmethod
    def parse(cls, key: str) -> ItemKey:
        """Raises ``ValueError`` when the key starts with no known kind."""
        kind, _, rest = key.partition(":")
        return cls(Kind(kind), rest)

    @property
    def segments(self) -> tuple[str, ...]:
        """What follows the kind, segment by segment (``("deals", "amount")``)."""
        return tuple(self.rest.split(":")) if self.rest else ()

    @property
    def object_type(self) -> str:
        """The first segment: the object type of a property, group, pipeline or stage."""
        return self.rest.split(":", 1)[0]

    @property
    def name(self) -> str:
        """The rest after the object type (``amount`` of ``property:deals:amount``)."""
        return self.rest.split(":", 1)[-1]

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.rest}" if self.rest else self.kind.value


def kind_of(key: str) -> Kind:
    """The kind an item key or a scope starts with."""
    return ItemKey.parse(key).kind


class CoverageStatus(StrEnum):
    COMPLETE = "complete"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)  # a portal's worth of them at once
class ConfigItem:
    """One thing of one kind: its stable key, canonical payload (compared) and raw JSON (kept).

    ``raw`` is ``None`` when the read let it go because the store holds that raw JSON already
    (its ``raw_hash`` is a stored payload): on a night when little changed, holding every raw
    dict until the snapshot is written would be most of the audit's memory."""

    kind: Kind
    key: str
    canonical: Mapping[str, JSONValue]
    raw: Mapping[str, JSONValue] | None
    canonical_hash: str
    raw_hash: str
    label: str | None = None


@dataclass(frozen=True)
class KindCoverage:
    """How completely one part of a portal was read.

    ``scope`` is a key prefix (``property:deals``): every item whose key starts with
    ``scope + ":"`` was read by this part (``compare.scope_of`` finds a key's part). A part
    that is not ``complete`` is *not verified*: its baseline items are never reported removed.
    """

    kind: Kind
    scope: str
    status: CoverageStatus
    items: int = 0
    reason: str | None = None
    unverified: tuple[str, ...] = ()
    """``field=value`` filters: items of this part matching one were not read (e.g.
    ``dataSensitivity=sensitive`` when the token lacks the sensitive-data scope) and must not
    be reported as removed."""
    scopes: tuple[str, ...] = ()
    """The private-app scopes HubSpot said would make a failed part readable."""


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    portal: str
    taken_at: datetime
    coverage: tuple[KindCoverage, ...]
    item_count: int


@dataclass(frozen=True, slots=True)  # two snapshots' worth of them in an audit
class StoredItem:
    """An item as a snapshot or baseline holds it: key and content hashes, payloads on demand."""

    kind: Kind
    key: str
    canonical_hash: str
    raw_hash: str


@dataclass(frozen=True)
class ItemVersion:
    """One version of an item, held by the portal's snapshots from ``valid_from`` (a snapshot
    id) up to, not including, ``valid_until`` (``None``: still held by the latest snapshot)."""

    kind: Kind
    key: str
    canonical_hash: str
    raw_hash: str
    valid_from: int
    valid_until: int | None
    first_seen_at: datetime

    def holds(self, snapshot_id: int) -> bool:
        """Is this the version the portal's snapshot ``snapshot_id`` holds?"""
        return self.valid_from <= snapshot_id and (
            self.valid_until is None or snapshot_id < self.valid_until
        )


@dataclass(frozen=True)
class SnapshotStamp:
    """A snapshot's id and time, without its coverage: for listing years of them cheaply."""

    id: int
    taken_at: datetime


@dataclass(frozen=True)
class PruneResult:
    """What retention deleted from one portal's history (or would delete, in a dry run)."""

    portal: str
    kept: int
    deleted: tuple[SnapshotStamp, ...]
    versions_deleted: int
    payloads_deleted: int
    bytes_freed: int
    dry_run: bool
