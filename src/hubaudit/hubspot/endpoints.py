"""Every HubSpot endpoint hubaudit reads: its path for each API version.

Each path is the one HubSpot's published OpenAPI spec gives (``../shared/hubspot/openapi/``,
checked against the specs by ``tests/test_contract.py``). The path version comes from the
portal's config (``api_versions``, by resource): ``v3``-style versions use the classic path,
HubSpot's date versions (``2026-03``) the dated path where one is known. Where HubSpot still
serves an older spelling of a published path, the endpoint names it as ``legacy``: a 404 on the
published path falls back to it, once per run (:class:`~hubaudit.hubspot.client.HubSpotClient`).

Every request goes through the one transport (pacing, retries, logging); the official SDK is
never a second way to send the same GET.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Endpoint:
    name: str
    resource: str
    classic: str
    dated: str | None = None
    legacy: str | None = None
    """An older spelling of ``classic`` that HubSpot still serves: the fallback on a 404."""
    exempt_from_burst_limit: bool = False
    """HubSpot's spec exempts these GETs from the ten-secondly limit."""

    def path(self, version: str, params: Mapping[str, str]) -> str:
        quoted = {name: quote(value, safe="") for name, value in params.items()}
        if version.startswith("v"):
            return self.classic.format(version=version, **quoted)
        if self.dated is None:
            raise ValueError(f"no date-versioned path is known for {self.resource}")
        return self.dated.format(version=version, **quoted)

    def legacy_path(self, version: str, params: Mapping[str, str]) -> str | None:
        """The older spelling of :meth:`path`, if HubSpot has one for this version."""
        if self.legacy is None or not version.startswith("v"):
            return None
        quoted = {name: quote(value, safe="") for name, value in params.items()}
        return self.legacy.format(version=version, **quoted)


PROPERTIES = Endpoint(
    "properties",
    "properties",
    "/crm/{version}/properties/{object_type}",
    "/crm/properties/{version}/{object_type}",
)
PROPERTY_GROUPS = Endpoint(
    "property_groups",
    "properties",
    "/crm/{version}/properties/{object_type}/groups",
    "/crm/properties/{version}/{object_type}/groups",
)
PIPELINES = Endpoint(
    "pipelines",
    "pipelines",
    "/crm/{version}/pipelines/{object_type}",
    "/crm/pipelines/{version}/{object_type}",
)
PIPELINE = Endpoint(
    "pipeline",
    "pipelines",
    "/crm/{version}/pipelines/{object_type}/{pipeline_id}",
    "/crm/pipelines/{version}/{object_type}/{pipeline_id}",
)
PIPELINE_AUDIT = Endpoint(
    "pipeline_audit",
    "pipelines",
    "/crm/{version}/pipelines/{object_type}/{pipeline_id}/audit",
    "/crm/pipelines/{version}/{object_type}/{pipeline_id}/audit",
)
STAGE_AUDIT = Endpoint(
    "stage_audit",
    "pipelines",
    "/crm/{version}/pipelines/{object_type}/{pipeline_id}/stages/{stage_id}/audit",
    "/crm/pipelines/{version}/{object_type}/{pipeline_id}/stages/{stage_id}/audit",
)
SCHEMAS = Endpoint(
    "schemas",
    "schemas",
    "/crm-object-schemas/{version}/schemas",
    legacy="/crm/{version}/schemas",
)
ASSOCIATION_LABELS = Endpoint(
    "association_labels",
    "associations",
    "/crm/associations/{version}/{from_type}/{to_type}/labels",
    legacy="/crm/{version}/associations/{from_type}/{to_type}/labels",
    exempt_from_burst_limit=True,
)
# Every pair's limits in one read, rather than one read per ordered pair of object types.
ASSOCIATION_LIMITS = Endpoint(
    "association_limits",
    "associations",
    "/crm/associations/{version}/definitions/configurations/all",
    exempt_from_burst_limit=True,
)
USERS = Endpoint(
    "users",
    "users",
    "/settings/users/{version}",
    legacy="/settings/{version}/users/",
)
TEAMS = Endpoint(
    "teams",
    "users",
    "/settings/{version}/users/teams",
)
ROLES = Endpoint(
    "roles",
    "users",
    "/settings/{version}/users/roles",
)
FLOWS = Endpoint("flows", "automation", "/automation/{version}/flows")
FLOWS_BATCH_READ = Endpoint(
    "flows_batch_read", "automation", "/automation/{version}/flows/batch/read"
)
AUDIT_LOGS = Endpoint(
    "audit_logs",
    "account",
    "/account-info/{version}/activity/audit-logs",
    "/account-info/{version}/activity/audit-logs",
)
# The one path in no published spec: HubSpot's legacy v3 workflows API, read only for
# attribution, because it is the only workflow API that says who last edited a workflow
# (``updateSource.updatedByUser``). Nothing is snapshotted from it, and a refusal is a note.
LEGACY_WORKFLOWS = Endpoint("legacy_workflows", "automation", "/automation/v3/workflows")
ACCOUNT_DETAILS = Endpoint(
    "account_details",
    "account",
    "/account-info/{version}/details",  # portalId and uiDomain: links into HubSpot's UI
    "/account-info/{version}/details",
)
