"""What a collector is, and the loop that runs the collectors of one portal."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hubaudit.config import PortalConfig
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.logs import get_logger
from hubaudit.model import ConfigItem, CoverageStatus, Kind, KindCoverage
from hubaudit.snapshot import make_item

log = get_logger(__name__)


@dataclass(frozen=True)
class ListCollector:
    """A kind read from an unpaged list endpoint, once per object type.

    It names its endpoint (``api``/``resource``, with the path version taken from the portal's
    config), the object types it reads, how to key an item, and its canonical form.
    """

    kind: Kind
    api: str
    resource: str
    identity: str
    object_types: Callable[[PortalConfig], tuple[str, ...]]
    canonical: Callable[[Mapping[str, Any]], dict[str, Any]]
    label_field: str = "label"
    params: Mapping[str, str] = field(default_factory=dict)

    def scope(self, object_type: str) -> str:
        return f"{self.kind}:{object_type}"

    def key(self, object_type: str, raw: Mapping[str, Any]) -> str:
        return f"{self.scope(object_type)}:{raw[self.identity]}"

    def read(
        self, client: HubSpotClient, portal: PortalConfig, object_type: str
    ) -> list[ConfigItem]:
        version = portal.api_versions.get(self.resource, "v3")
        results = client.list_results(self.api, self.resource, version, object_type, self.params)
        items: dict[str, ConfigItem] = {}
        for raw in results:
            ident = raw.get(self.identity)
            if not isinstance(ident, str | int) or isinstance(ident, bool) or ident == "":
                raise KindUnreadable(
                    f"an item in {self.resource}/{object_type} has no {self.identity!r}",
                    category="MALFORMED_RESPONSE",
                )
            key = self.key(object_type, raw)
            if key in items:
                raise KindUnreadable(
                    f"{self.resource}/{object_type} lists {self.identity} {ident!r} twice",
                    category="MALFORMED_RESPONSE",
                )
            label = raw.get(self.label_field)
            items[key] = make_item(
                self.kind,
                key,
                raw,
                self.canonical(raw),
                label=label if isinstance(label, str) else None,
            )
        return list(items.values())


def collect_portal(
    client: HubSpotClient, portal: PortalConfig, collectors: Iterable[ListCollector]
) -> tuple[list[ConfigItem], list[KindCoverage]]:
    """Read every part of the portal. A part that cannot be read is a coverage value, not an abort.

    Fatal errors (a refused token, the DAILY limit) propagate: they stop the whole run.
    """
    items: list[ConfigItem] = []
    coverage: list[KindCoverage] = []
    for collector in collectors:
        for object_type in collector.object_types(portal):
            scope = collector.scope(object_type)
            try:
                part = collector.read(client, portal, object_type)
            except KindUnreadable as exc:
                status = CoverageStatus.UNSUPPORTED if exc.unsupported else CoverageStatus.FAILED
                reason = f"{exc.category}: {exc}" if exc.category else str(exc)
                log.warning("collect.part_failed", portal=portal.name, scope=scope, reason=reason)
                coverage.append(KindCoverage(collector.kind, scope, status, 0, reason))
                continue
            items.extend(part)
            coverage.append(KindCoverage(collector.kind, scope, CoverageStatus.COMPLETE, len(part)))
    return items, coverage
