"""Links into HubSpot's UI, where one can be built from what the report holds: the patterns
live in :func:`hubaudit.analysis.names.hubspot_url` (one place), on the account's own UI host
(``uiDomain``, checked to be one of HubSpot's when it was read)."""

from __future__ import annotations

from hubaudit.analysis.names import hubspot_url
from hubaudit.model.audit_result import AuditResult


def record_url(result: AuditResult, key: str) -> str | None:
    return hubspot_url(key, result.hub)
