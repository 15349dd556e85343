"""What a portal's token can read: every part read once, nothing stored.

The coverage of a read (which parts were read, how many items, why a part failed and which
scopes would make it readable) is one document, the same whether it comes from checking a
portal or from a stored snapshot: :func:`coverage_document`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hubaudit.model.items import CoverageStatus, KindCoverage

if TYPE_CHECKING:
    from hubaudit.config import Config


@dataclass(frozen=True)
class PortalCheck:
    """One read of every part of a portal, with what it cost."""

    portal: str
    api_calls: int
    parts: tuple[KindCoverage, ...]

    @property
    def failed(self) -> tuple[KindCoverage, ...]:
        return tuple(part for part in self.parts if part.status is CoverageStatus.FAILED)

    @property
    def readable(self) -> bool:
        """Could the token read every part it was asked to?"""
        return not self.failed

    @property
    def missing_scopes(self) -> list[str]:
        """The scopes HubSpot named for the parts that failed, sorted, each once."""
        return sorted({scope for part in self.failed for scope in part.scopes})

    def by_kind(self) -> dict[str, KindParts]:
        """The parts grouped by kind, in the order they were read."""
        grouped: dict[str, list[KindCoverage]] = {}
        for part in self.parts:
            grouped.setdefault(part.kind.value, []).append(part)
        return {kind: KindParts(kind, tuple(parts)) for kind, parts in grouped.items()}


@dataclass(frozen=True)
class KindParts:
    """The parts of one kind (``property`` reads one part per object type)."""

    kind: str
    parts: tuple[KindCoverage, ...]

    @property
    def items(self) -> int:
        return sum(part.items for part in self.parts)

    @property
    def status(self) -> CoverageStatus:
        """Failed if any part failed; unsupported if every part is; else complete."""
        statuses = {part.status for part in self.parts}
        if CoverageStatus.FAILED in statuses:
            return CoverageStatus.FAILED
        if statuses == {CoverageStatus.UNSUPPORTED}:
            return CoverageStatus.UNSUPPORTED
        return CoverageStatus.COMPLETE


def check_portal_access(config: Config, portal_name: str) -> PortalCheck:
    """Read every part of the portal without storing anything: what can its token read?"""
    from hubaudit.config import resolve_token
    from hubaudit.services.audit_run import check_portal, open_client

    portal = config.portal(portal_name)
    client = open_client(portal, resolve_token(portal))
    try:
        parts = check_portal(portal, client)
        calls = client.api_calls
    finally:
        client.close()
    return PortalCheck(portal.name, calls, tuple(parts))


def coverage_document(parts: Iterable[KindCoverage]) -> list[dict[str, Any]]:
    """The parts of a read, one entry each (``snapshot --json`` and ``portals check --json``)."""
    return [
        {
            "kind": part.kind.value,
            "scope": part.scope,
            "status": part.status.value,
            "items": part.items,
            "reason": part.reason,
            "scopes": list(part.scopes),
        }
        for part in parts
    ]


def check_document(check: PortalCheck) -> dict[str, Any]:
    """``portals check --json``."""
    return {
        "portal": check.portal,
        "api_calls": check.api_calls,
        "readable": check.readable,
        "missing_scopes": check.missing_scopes,
        "parts": coverage_document(check.parts),
    }
