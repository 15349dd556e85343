"""The account behind a portal (``GET /account-info/v3/details``): its hub id and UI domain,
so reports can link to records in HubSpot's UI. Not needed for an audit: a refusal is a note."""

from __future__ import annotations

import re

from hubaudit.errors import KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.surface import HubInfo

# HubSpot's UI hosts (app.hubspot.com, app-eu1.hubspot.com…): a link goes nowhere else.
UI_DOMAIN = re.compile(r"^app(-[a-z0-9]+)?\.hubspot\.com$")


def read_hub(client: HubSpotClient, notes: list[str]) -> HubInfo | None:
    try:
        body = client.get(endpoints.ACCOUNT_DETAILS)
    except KindUnreadable as exc:
        notes.append(
            f"the account details were not read, so the report has no HubSpot links: {exc}"
        )
        return None
    portal_id = body.get("portalId") if isinstance(body, dict) else None
    domain = body.get("uiDomain") if isinstance(body, dict) else None
    if isinstance(portal_id, bool) or not isinstance(portal_id, int) or not isinstance(domain, str):
        notes.append("the account details had no portalId and uiDomain: no HubSpot links")
        return None
    if not UI_DOMAIN.match(domain):
        notes.append(f"the account's uiDomain {domain!r} is not a HubSpot host: no HubSpot links")
        return None
    return HubInfo(portal_id, domain)
