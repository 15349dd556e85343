"""Collectors: one declarative module per kind; paging, pacing and retries live below them."""

from __future__ import annotations

from hubaudit.hubspot.collectors.associations import AssociationLabelsCollector
from hubaudit.hubspot.collectors.base import Collector, collect_portal
from hubaudit.hubspot.collectors.lifecycle import LIFECYCLE_STAGES
from hubaudit.hubspot.collectors.pipelines import PIPELINES
from hubaudit.hubspot.collectors.properties import PROPERTIES
from hubaudit.hubspot.collectors.property_groups import PROPERTY_GROUPS
from hubaudit.hubspot.collectors.schemas import SCHEMAS
from hubaudit.hubspot.collectors.users import ROLES, TEAMS, USERS
from hubaudit.hubspot.collectors.workflows import WORKFLOWS

DEFAULT_COLLECTORS: tuple[Collector, ...] = (
    SCHEMAS,
    PROPERTIES,
    PROPERTY_GROUPS,
    PIPELINES,
    AssociationLabelsCollector(),
    USERS,
    TEAMS,
    ROLES,
    WORKFLOWS,
    LIFECYCLE_STAGES,
)

__all__ = ["DEFAULT_COLLECTORS", "Collector", "collect_portal"]
