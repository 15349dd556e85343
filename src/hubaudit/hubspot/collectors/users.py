"""``user``, ``team`` and ``role``: who can do what in the portal (settings users API).

Users are paged; teams and roles come in one list each. Lists without order (role ids, team
members) are sorted, so a reorder is not a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import Part, PartResult, Reading, items_from
from hubaudit.model import Kind

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


def _user_label(raw: Mapping[str, Any]) -> object:
    return raw.get("email")


class UsersCollector:
    kind = Kind.USER
    phase = 1

    def parts(self, reading: Reading) -> list[Part]:
        def read() -> PartResult:
            raws = reading.client.paged_results(endpoints.USERS, USERS_PAGE_SIZE)
            return PartResult(
                items_from(
                    Kind.USER, "user", raws, lambda r: r.get("id"), canonical_user, _user_label
                )
            )

        return [Part(self.kind, "user", read)]


class TeamsCollector:
    kind = Kind.TEAM
    phase = 1

    def parts(self, reading: Reading) -> list[Part]:
        def read() -> PartResult:
            raws = reading.client.list_results(endpoints.TEAMS)
            return PartResult(
                items_from(
                    Kind.TEAM,
                    "team",
                    raws,
                    lambda r: r.get("id"),
                    canonical_team,
                    lambda r: r.get("name"),
                )
            )

        return [Part(self.kind, "team", read)]


class RolesCollector:
    kind = Kind.ROLE
    phase = 1

    def parts(self, reading: Reading) -> list[Part]:
        def read() -> PartResult:
            raws = reading.client.list_results(endpoints.ROLES)
            return PartResult(
                items_from(
                    Kind.ROLE, "role", raws, lambda r: r.get("id"), dict, lambda r: r.get("name")
                )
            )

        return [Part(self.kind, "role", read)]
