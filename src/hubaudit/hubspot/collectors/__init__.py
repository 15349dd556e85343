"""Collectors: one declarative module per kind; paging, pacing and retries live below them."""

from __future__ import annotations

from hubaudit.hubspot.collectors.associations import AssociationLabelsCollector
from hubaudit.hubspot.collectors.base import Collector, collect_portal
from hubaudit.hubspot.collectors.lifecycle import LifecycleStagesCollector
from hubaudit.hubspot.collectors.pipelines import PipelinesCollector
from hubaudit.hubspot.collectors.properties import PropertiesCollector
from hubaudit.hubspot.collectors.property_groups import PropertyGroupsCollector
from hubaudit.hubspot.collectors.schemas import SchemasCollector
from hubaudit.hubspot.collectors.users import RolesCollector, TeamsCollector, UsersCollector
from hubaudit.hubspot.collectors.workflows import WorkflowsCollector

DEFAULT_COLLECTORS: tuple[Collector, ...] = (
    SchemasCollector(),
    PropertiesCollector(),
    PropertyGroupsCollector(),
    PipelinesCollector(),
    AssociationLabelsCollector(),
    UsersCollector(),
    TeamsCollector(),
    RolesCollector(),
    WorkflowsCollector(),
    LifecycleStagesCollector(),
)

__all__ = ["DEFAULT_COLLECTORS", "Collector", "collect_portal"]
