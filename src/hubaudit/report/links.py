"""Links into HubSpot's UI, where one can be built from what the report holds.

Only for what HubSpot's URLs are known for: a property's edit panel
(``/property-settings/{hub}/properties?type={objectTypeId}&action=edit&property={name}``) and a
workflow's editor (``/workflows/{hub}/platform/flow/{flowId}/edit``), on the account's own UI
host (``uiDomain``, checked to be one of HubSpot's when it was read).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from hubaudit.model.audit_result import AuditResult
from hubaudit.model.items import STANDARD_OBJECT_TYPE_IDS

_TYPE_IDS = {name: type_id for type_id, name in STANDARD_OBJECT_TYPE_IDS.items()}


def record_url(result: AuditResult, key: str) -> str | None:
    hub = result.hub
    if hub is None:
        return None
    kind, _, rest = key.partition(":")
    base = f"https://{hub.ui_domain}"
    if kind == "workflow" and rest.isdigit():
        return f"{base}/workflows/{hub.portal_id}/platform/flow/{rest}/edit"
    if kind == "property":
        object_type, _, name = rest.partition(":")
        type_id = _TYPE_IDS.get(object_type) or hub.object_type_ids.get(object_type)
        if type_id is None or not name:
            return None
        query = urlencode({"type": type_id, "action": "edit", "property": name}, quote_via=quote)
        return f"{base}/property-settings/{hub.portal_id}/properties?{query}"
    return None
