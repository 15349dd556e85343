"""A snapshot as the architecture policies read it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

from hubaudit.model.items import JSONValue, Kind

T = TypeVar("T")
Owner = TypeVar("Owner")


class _Once(Generic[Owner, T]):
    """``functools.cached_property`` without its lock (Python 3.11 takes one on every first
    read, several times the cost of a label): computed on first read into the instance's
    ``__dict__``, which later reads find before this descriptor. Racing threads may both
    compute it; they compute the same value."""

    def __init__(self, compute: Callable[[Owner], T]) -> None:
        self.compute = compute
        self.name = compute.__name__

    @overload
    def __get__(self, instance: None, owner: type[Owner]) -> _Once[Owner, T]: ...

    @overload
    def __get__(self, instance: Owner, owner: type[Owner]) -> T: ...

    def __get__(self, instance: Owner | None, owner: type[Owner]) -> T | _Once[Owner, T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


@dataclass(frozen=True)
class ViewItem:
    """One item of a snapshot with its canonical payload (and raw JSON where a policy reads it)."""

    kind: Kind
    key: str
    canonical: Mapping[str, JSONValue]
    raw: Mapping[str, JSONValue] | None = None

    @_Once
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
    pasts: Callable[[Collection[str]], Mapping[str, list[PastVersion]]] | None = None
    """The same for many items at once (in one read), where the view can."""
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def past_of(self, keys: Collection[str]) -> dict[str, list[PastVersion]]:
        """Each item's stored versions up to this snapshot, oldest first."""
        if self.pasts is not None:
            found = self.pasts(keys)
            return {key: list(found.get(key, [])) for key in keys}
        return {key: self.past(key) for key in keys}

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, once per view and ``key``: what several policies derive alike (the
        live properties by object type) is derived once per snapshot."""
        if key not in self._memo:
            self._memo[key] = compute()
        value: T = self._memo[key]
        return value

    def of_kind(self, kind: Kind) -> list[ViewItem]:
        return self.memo(("of_kind", kind), lambda: self._of_kind(kind))

    def _of_kind(self, kind: Kind) -> list[ViewItem]:
        return [item for item in self.items.values() if item.kind is kind]

    def read(self, scope: str) -> bool:
        """Was this part read completely (perhaps without some sensitive items)?"""
        return scope in self.complete

    def fully_read(self, scope: str) -> bool:
        """Was every item of this part read?"""
        return scope in self.complete and not self.complete[scope]
