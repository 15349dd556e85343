"""The people of the web app: accounts, their roles and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """``viewer`` reads; ``revops`` triages; ``council`` decides; ``admin`` does all and
    manages the accounts."""

    VIEWER = "viewer"
    REVOPS = "revops"
    COUNCIL = "council"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"
    TRIAGE = "triage"
    """Acknowledge, waive, resolve and accept defects; waive findings; create change requests."""
    DECIDE = "decide"
    """Approve or reject baseline versions and change requests."""
    MANAGE_USERS = "manage_users"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.REVOPS: frozenset({Permission.READ, Permission.TRIAGE}),
    Role.COUNCIL: frozenset({Permission.READ, Permission.DECIDE}),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class User:
    """An account. ``has_password`` is false for a person who signs in through the proxy."""

    id: int
    username: str
    display_name: str
    role: Role
    disabled: bool
    has_password: bool
    created_at: datetime

    def may(self, permission: Permission) -> bool:
        return not self.disabled and permission in ROLE_PERMISSIONS[self.role]


@dataclass(frozen=True)
class WebSession:
    """A signed-in session: whose, its CSRF token, when it was last used."""

    user: User
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
