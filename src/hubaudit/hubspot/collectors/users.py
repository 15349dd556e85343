"""``user``, ``team`` and ``role``: who can do what in the portal (settings users API).

Users are paged; teams and roles come in one list each. Lists without order (role ids, team
members) are sorted, so a reorder is not a change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import PartResult, Raw, Reading, WholeKind, items_from
from hubaudit.hubspot.endpoints import Endpoint
from hubaudit.model.items import Kind

USERS_PAGE_SIZE = 100


def _sorted_lists(raw: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    body = dict(raw)
    for name in names:
        if isinstance(body.get(name), list):
            body[name] = sorted(body[name], key=str)
    return body


def canonical_user(raw: Mapping[str, Any]) -> dict[str, Any]:
    body = _sorted_lists(raw, ("roleIds", "secondaryTeamIds", "seatNames"))
    body.pop("sendWelcomeEmail", None)  # an instruction for creation, not a setting
    body.setdefault("superAdmin", False)
    return body


def canonical_team(raw: Mapping[str, Any]) -> dict[str, Any]:
    return _sorted_lists(raw, ("userIds", "secondaryUserIds"))


def read_users(reading: Reading) -> PartResult:
    raws = reading.client.paged_results(endpoints.USERS, USERS_PAGE_SIZE)
    return _items(Kind.USER, raws, canonical_user, lambda raw: raw.get("email"))


def _read_list(
    kind: Kind,
    endpoint: Endpoint,
    canonical: Callable[[Mapping[str, Any]], dict[str, Any]],
    reading: Reading,
) -> PartResult:
    return _items(kind, reading.client.list_results(endpoint), canonical, lambda r: r.get("name"))


def _items(
    kind: Kind,
    raws: list[Raw],
    canonical: Callable[[Mapping[str, Any]], dict[str, Any]],
    label: Callable[[Mapping[str, Any]], object],
) -> PartResult:
    return PartResult(items_from(kind, kind.value, raws, lambda r: r.get("id"), canonical, label))


USERS = WholeKind(Kind.USER, 1, read_users, first=True)  # paged: a chain, started first
TEAMS = WholeKind(Kind.TEAM, 1, partial(_read_list, Kind.TEAM, endpoints.TEAMS, canonical_team))
ROLES = WholeKind(Kind.ROLE, 1, partial(_read_list, Kind.ROLE, endpoints.ROLES, dict))
