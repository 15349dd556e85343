"""What a collector is, and the engine that runs a portal's collectors.

A collector names the parts of the portal it reads (one per object type, or one for the whole
kind). Parts of one phase run concurrently, paced by the one transport; a later phase may use what
an earlier one read (custom object types come from the schemas; lifecycle stages from the
``lifecyclestage`` property). A part that cannot be read becomes a coverage value, never an
abort; fatal errors (a refused token, the DAILY limit) stop the whole run.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

from hubaudit.analysis.canonical import make_item
from hubaudit.config import PortalConfig
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.logs import get_logger
from hubaudit.model.items import ConfigItem, CoverageStatus, Kind, KindCoverage

log = get_logger(__name__)

Raw = dict[str, Any]


@dataclass(frozen=True)
class CustomObject:
    name: str
    fully_qualified_name: str
    object_type_id: str | None
    """``None`` when the schema neither gives nor implies it: its association parts fail."""


@dataclass
class Reading:
    """What the collectors of one run share: the client, the config, what earlier phases read."""

    client: HubSpotClient
    portal: PortalConfig
    custom_objects: list[CustomObject] = field(default_factory=list)
    raw_by_scope: dict[str, list[Raw]] = field(default_factory=dict)
    """The raw objects of a part that a later phase reads (only those: not the whole part)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _once: dict[str, _Once] = field(default_factory=dict)

    def remember(self, scope: str, raws: list[Raw]) -> None:
        with self._lock:
            self.raw_by_scope[scope] = raws

    def read_once(self, name: str, read: Callable[[], Any]) -> Any:
        """What ``read`` returns (or raises), read once per run however many parts ask: one
        call for a list that several parts share (the association limits)."""
        with self._lock:
            once = self._once.setdefault(name, _Once())
        return once.get(read)

    def property_object_types(self) -> tuple[str, ...]:
        custom = tuple(c.fully_qualified_name for c in self.custom_objects)
        return self.portal.property_object_types + custom


class _Once:
    """One read shared by concurrent parts: the first caller reads, the others wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False
        self._value: Any = None
        self._error: KindUnreadable | None = None

    def get(self, read: Callable[[], Any]) -> Any:
        with self._lock:
            if not self._done:
                try:
                    self._value = read()
                except KindUnreadable as exc:
                    self._error = exc
                self._done = True
        if self._error is not None:
            raise KindUnreadable(
                str(self._error),
                category=self._error.category,
                status=self._error.status,
                scopes=self._error.scopes,
                unsupported=self._error.unsupported,
            ) from self._error
        return self._value


@dataclass(frozen=True)
class PartResult:
    items: list[ConfigItem]
    unverified: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Part:
    """One read of one part of the portal: its scope (a key prefix) and how to read it."""

    kind: Kind
    scope: str
    read: Callable[[], PartResult]
    first: bool = False
    """Started before the other parts of its phase: a chain of calls that each wait for the one
    before (pages, batches of what a list named) or calls exempt from the ten-secondly limit.
    Started first, they run inside the first window's burst instead of after the window reopens,
    and never queue behind parts that wait for it."""


class Collector(Protocol):
    """Names the parts of a kind to read; phase orders kinds that depend on others."""

    @property
    def kind(self) -> Kind: ...

    @property
    def phase(self) -> int: ...

    def parts(self, reading: Reading) -> list[Part]: ...


@dataclass(frozen=True)
class PerObjectType:
    """A kind read once per object type: one part each, scoped ``{kind}:{objectType}``."""

    kind: Kind
    phase: int
    object_types: Callable[[Reading], Iterable[str]]
    read: Callable[[Reading, str], PartResult]
    first: bool = False

    def parts(self, reading: Reading) -> list[Part]:
        return [
            Part(self.kind, f"{self.kind}:{ot}", partial(self.read, reading, ot), self.first)
            for ot in self.object_types(reading)
        ]


@dataclass(frozen=True)
class WholeKind:
    """A kind read as one part, scoped by the kind's name (``user``, ``workflow``…)."""

    kind: Kind
    phase: int
    read: Callable[[Reading], PartResult]
    enabled: Callable[[Reading], bool] = lambda _reading: True
    first: bool = False

    def parts(self, reading: Reading) -> list[Part]:
        if not self.enabled(reading):
            return []
        return [Part(self.kind, self.kind.value, partial(self.read, reading), self.first)]


def items_from(
    kind: Kind,
    scope: str,
    raws: Iterable[Mapping[str, Any]],
    identity: Callable[[Mapping[str, Any]], object],
    canonical: Callable[[Mapping[str, Any]], dict[str, Any]],
    label: Callable[[Mapping[str, Any]], object] = lambda raw: raw.get("label"),
) -> list[ConfigItem]:
    """Key, canonicalise and hash raw objects; refuse a response whose identities are broken."""
    items: dict[str, ConfigItem] = {}
    for raw in raws:
        ident = identity(raw)
        if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
            raise KindUnreadable(
                f"an item of {scope} has no identity", category="MALFORMED_RESPONSE"
            )
        key = f"{scope}:{ident}"
        if key in items:
            raise KindUnreadable(f"{scope} lists {ident!r} twice", category="MALFORMED_RESPONSE")
        text = label(raw)
        items[key] = make_item(
            kind, key, raw, canonical(raw), label=text if isinstance(text, str) else None
        )
    return list(items.values())


def unsupported_if_unknown_type(exc: KindUnreadable) -> KindUnreadable:
    """HubSpot answers 400 for an object type the portal does not have (a tier without leads)."""
    if exc.status == 400 and "infer object type" in str(exc):
        return KindUnreadable(
            f"the portal has no such object type ({exc})",
            category=exc.category,
            status=exc.status,
            unsupported=True,
        )
    return exc


def coverage_for_failure(kind: Kind, scope: str, exc: KindUnreadable) -> KindCoverage:
    status = CoverageStatus.UNSUPPORTED if exc.unsupported else CoverageStatus.FAILED
    reason = f"{exc.category}: {exc}" if exc.category else str(exc)
    return KindCoverage(kind, scope, status, 0, reason, scopes=exc.scopes)


def collect_portal(
    client: HubSpotClient,
    portal: PortalConfig,
    collectors: Sequence[Collector],
    keep_raw: Callable[[ConfigItem], bool] | None = None,
) -> tuple[list[ConfigItem], list[KindCoverage]]:
    """Read every part of the portal, phase by phase, parts of a phase concurrently.

    Given ``keep_raw``, an item it refuses loses its raw JSON (``raw=None``) as soon as its
    part is read, not when the whole portal is: what the caller no longer needs (raw JSON the
    store holds already) is not held through the rest of the read."""
    reading = Reading(client, portal)
    items: list[ConfigItem] = []
    coverage: list[KindCoverage] = []
    for phase in sorted({c.phase for c in collectors}):
        parts = [p for c in collectors if c.phase == phase for p in c.parts(reading)]
        for part, outcome in _run_parts(parts, portal.concurrency, keep_raw):
            if isinstance(outcome, KindUnreadable):
                part_coverage = coverage_for_failure(part.kind, part.scope, outcome)
                # A part the portal does not have is a fact, not a problem.
                report = log.info if outcome.unsupported else log.warning
                report(
                    f"collect.part_{part_coverage.status.value}",
                    portal=portal.name,
                    scope=part.scope,
                    reason=str(outcome),
                )
                coverage.append(part_coverage)
                continue
            items.extend(outcome.items)
            coverage.append(
                KindCoverage(
                    part.kind,
                    part.scope,
                    CoverageStatus.COMPLETE,
                    len(outcome.items),
                    outcome.note,
                    outcome.unverified,
                )
            )
    coverage.sort(key=lambda c: c.scope)
    return items, coverage


def _without_raw(item: ConfigItem, keep_raw: Callable[[ConfigItem], bool]) -> ConfigItem:
    if item.raw is None or keep_raw(item):
        return item
    return ConfigItem(
        item.kind, item.key, item.canonical, None, item.canonical_hash, item.raw_hash, item.label
    )


def _run_parts(
    parts: list[Part], workers: int, keep_raw: Callable[[ConfigItem], bool] | None = None
) -> list[tuple[Part, PartResult | KindUnreadable]]:
    def attempt(part: Part) -> PartResult | KindUnreadable:
        try:
            result = part.read()
        except KindUnreadable as exc:
            return exc
        if keep_raw is None:
            return result
        return replace(result, items=[_without_raw(i, keep_raw) for i in result.items])

    # Parts marked ``first`` start ahead of the rest (a stable sort keeps each group as
    # declared); results come back in the declared order.
    started = sorted(parts, key=lambda part: not part.first)
    if workers <= 1 or len(parts) <= 1:
        outcomes = {id(part): attempt(part) for part in started}
        return [(part, outcomes[id(part)]) for part in parts]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hubaudit-read") as pool:
        submitted: dict[int, Future[PartResult | KindUnreadable]] = {
            # each part keeps the caller's log context (run id, portal)
            id(part): pool.submit(contextvars.copy_context().run, attempt, part)
            for part in started
        }
        futures = {submitted[id(part)]: part for part in parts}
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            error = future.exception()
            if error is not None:  # fatal: cancel what has not started, then stop the run
                for other in pending:
                    other.cancel()
                raise error
        return [(futures[f], f.result()) for f in futures]
