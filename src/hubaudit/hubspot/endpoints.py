"""Every HubSpot endpoint hubaudit reads: its path for each API version, and its SDK call.

The path version comes from the portal's config (``api_versions``, by resource). ``v3``-style
versions use the classic path; HubSpot's date versions (``2026-03``) use the dated path where one
is known. Where the official SDK covers the classic path, the read goes through its generated API
class (sending through our transport); otherwise, and for every dated path, straight through the
transport.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hubaudit.config import API_RESOURCES

# The SDK call for an endpoint: (SDK client, path parameters, query) -> raw response.
SdkCall = Callable[[Any, Mapping[str, str], Mapping[str, str]], Any]


@dataclass(frozen=True)
class Endpoint:
    name: str
    resource: str
    classic: str
    dated: str | None = None
    sdk: SdkCall | None = None
    sdk_query: frozenset[str] = frozenset()
    """Query parameters the SDK call can send; a read with any other goes through raw paths."""
    exempt_from_burst_limit: bool = False
    """HubSpot's spec exempts these GETs from the ten-secondly limit."""

    def path(self, version: str, params: Mapping[str, str]) -> str:
        quoted = {name: quote(value, safe="") for name, value in params.items()}
        if version.startswith("v"):
            return self.classic.format(version=version, **quoted)
        if self.dated is None:
            raise ValueError(f"no date-versioned path is known for {self.resource}")
        return self.dated.format(version=version, **quoted)

    def uses_sdk(self, version: str, query: Mapping[str, str]) -> bool:
        return (
            self.sdk is not None
            and version == API_RESOURCES[self.resource]
            and set(query) <= self.sdk_query
        )


def _flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "false") == "true"


PROPERTIES = Endpoint(
    "properties",
    "properties",
    "/crm/{version}/properties/{object_type}",
    "/crm/properties/{version}/{object_type}",
    sdk=lambda sdk, p, q: sdk.crm.properties.core_api.get_all(
        p["object_type"], archived=_flag(q, "archived"), _preload_content=False
    ),
    sdk_query=frozenset({"archived"}),
)
PROPERTY_GROUPS = Endpoint(
    "property_groups",
    "properties",
    "/crm/{version}/properties/{object_type}/groups",
    "/crm/properties/{version}/{object_type}/groups",
    sdk=lambda sdk, p, _q: sdk.crm.properties.groups_api.get_all(
        p["object_type"], _preload_content=False
    ),
)
PIPELINES = Endpoint(
    "pipelines",
    "pipelines",
    "/crm/{version}/pipelines/{object_type}",
    "/crm/pipelines/{version}/{object_type}",
    sdk=lambda sdk, p, _q: sdk.crm.pipelines.pipelines_api.get_all(
        p["object_type"], _preload_content=False
    ),
)
PIPELINE = Endpoint(
    "pipeline",
    "pipelines",
    "/crm/{version}/pipelines/{object_type}/{pipeline_id}",
    "/crm/pipelines/{version}/{object_type}/{pipeline_id}",
    sdk=lambda sdk, p, _q: sdk.crm.pipelines.pipelines_api.get_by_id(
        p["object_type"], p["pipeline_id"], _preload_content=False
    ),
)
PIPELINE_AUDIT = Endpoint(
    "pipeline_audit",
    "pipelines",
    "/crm/{version}/pipelines/{object_type}/{pipeline_id}/audit",
    "/crm/pipelines/{version}/{object_type}/{pipeline_id}/audit",
    sdk=lambda sdk, p, _q: sdk.crm.pipelines.pipeline_audits_api.get_audit(
        p["object_type"], p["pipeline_id"], _preload_content=False
    ),
)
# Not through the SDK: its stage-audit call (SDK 12) takes no pipeline id, and the path needs one.
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
    sdk=lambda sdk, _p, q: sdk.crm.schemas.core_api.get_all(
        archived=_flag(q, "archived"), _preload_content=False
    ),
    sdk_query=frozenset({"archived"}),
)
ASSOCIATION_LABELS = Endpoint(
    "association_labels",
    "associations",
    "/crm/{version}/associations/{from_type}/{to_type}/labels",
    sdk=lambda sdk, p, _q: sdk.crm.associations.v4.schema.definitions_api.get_all(
        p["from_type"], p["to_type"], _preload_content=False
    ),
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
    "/settings/{version}/users/",
    sdk=lambda sdk, _p, q: sdk.settings.users.users_api.get_page(
        limit=int(q["limit"]), after=q.get("after"), _preload_content=False
    ),
    sdk_query=frozenset({"limit", "after"}),
)
TEAMS = Endpoint(
    "teams",
    "users",
    "/settings/{version}/users/teams",
    sdk=lambda sdk, _p, _q: sdk.settings.users.teams_api.get_all(_preload_content=False),
)
ROLES = Endpoint(
    "roles",
    "users",
    "/settings/{version}/users/roles",
    sdk=lambda sdk, _p, _q: sdk.settings.users.roles_api.get_all(_preload_content=False),
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
LEGACY_WORKFLOWS = Endpoint(
    "legacy_workflows",
    "automation",
    "/automation/v3/workflows",  # the only workflow API that says who edited a workflow
)
ACCOUNT_DETAILS = Endpoint(
    "account_details",
    "account",
    "/account-info/{version}/details",  # portalId and uiDomain: links into HubSpot's UI
    "/account-info/{version}/details",
)
