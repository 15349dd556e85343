"""A snapshot as the architecture policies read it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hubaudit.model.items import JSONValue, Kind


@dataclass(frozen=True)
class ViewItem:
    """One item of a snapshot with its canonical payload (and raw JSON where a policy reads it)."""

    kind: Kind
    key: str
    canonical: Mapping[str, JSONValue]
    raw: Mapping[str, JSONValue] | None = None

    @property
    def label(self) -> str | None:
        for name in ("label", "name", "email"):
            value = self.canonical.get(name)
            if isinstance(value, str) and value:
                return value
        labels = self.canonical.get("labels")
        if isinstance(labels, Mapping) and isinstance(labels.get("singular"), str):
            return str(labels["singular"])
        return None


@dataclass(frozen=True)
class PastVersion:
    """One stored version of an item: when hubaudit first saw it, and what it held."""

    first_seen_at: datetime
    canonical: Mapping[str, JSONValue]
    raw: Mapping[str, JSONValue]


def _no_past(_key: str) -> list[PastVersion]:
    return []


@dataclass(frozen=True)
class PortalView:
    """A snapshot's items with their payloads: what policies and the dependency graph read.

    ``complete`` maps each part read completely to its filters of items not read
    (``dataSensitivity=sensitive`` without the scope): a policy judges only such parts."""

    portal: str
    snapshot_id: int
    taken_at: datetime
    items: Mapping[str, ViewItem]
    complete: Mapping[str, tuple[str, ...]]
    past: Callable[[str], list[PastVersion]] = _no_past
    """An item's stored versions up to this snapshot, oldest first (read on demand)."""

    def of_kind(self, kind: Kind) -> list[ViewItem]:
        return [item for item in self.items.values() if item.kind is kind]

    def read(self, scope: str) -> bool:
        """Was this part read completely (perhaps without some sensitive items)?"""
        return scope in self.complete

    def fully_read(self, scope: str) -> bool:
        """Was every item of this part read?"""
        return scope in self.complete and not self.complete[scope]
