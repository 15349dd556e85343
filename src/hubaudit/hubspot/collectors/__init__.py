"""Collectors: one declarative description per kind; paging, pacing and retries live below them."""

from __future__ import annotations

from hubaudit.hubspot.collectors.base import ListCollector, collect_portal
from hubaudit.hubspot.collectors.pipelines import PIPELINES
from hubaudit.hubspot.collectors.properties import PROPERTIES

DEFAULT_COLLECTORS: tuple[ListCollector, ...] = (PROPERTIES, PIPELINES)

__all__ = ["DEFAULT_COLLECTORS", "ListCollector", "collect_portal"]
