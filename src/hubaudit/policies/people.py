"""Policy on users: how many super admins the portal has."""

from __future__ import annotations

from hubaudit.model.changes import Severity
from hubaudit.model.findings import Breach
from hubaudit.model.items import Kind
from hubaudit.model.view import PortalView
from hubaudit.policies.base import Policy, Rules

DEFAULT_MAX_SUPER_ADMINS = 3


def check_super_admins(view: PortalView, rules: Rules) -> list[Breach]:
    if not view.fully_read("user"):
        return []
    allowed = rules.settings.max if rules.settings.max is not None else DEFAULT_MAX_SUPER_ADMINS
    admins = sorted(
        (u for u in view.of_kind(Kind.USER) if u.canonical.get("superAdmin") is True),
        key=lambda u: u.key,
    )
    if len(admins) <= allowed:
        return []
    names = ", ".join(u.label or u.key for u in admins)
    return [
        rules.breach(
            "user:super-admins",
            "user",
            f"{len(admins)} super admins, {allowed} allowed: {names}",
            ["user"],
            {"super_admins": [u.key for u in admins], "allowed": allowed},
        )
    ]


POLICIES = (
    Policy(
        "super-admins",
        Severity.HIGH,
        "a super admin can change anything, including every setting hubaudit watches",
        "no more super admins than allowed",
        check_super_admins,
        per_item=False,
    ),
)
