"""Policy on lifecycle stages: the approved list, in the approved order.

The approved list is the council's (``[policies.lifecycle-order] stages``); without one it is
HubSpot's default eight for contacts and companies. Hidden stages are not offered to users, so
they are not part of the order.
"""

from __future__ import annotations

from collections.abc import Mapping

from hubaudit.model.changes import Severity
from hubaudit.model.findings import Breach
from hubaudit.model.items import ItemKey, Kind
from hubaudit.model.view import PortalView
from hubaudit.policies.base import Policy, Rules, object_type_of

HUBSPOT_DEFAULT_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)


def approved_stages(rules: Rules) -> Mapping[str, tuple[str, ...]]:
    return rules.settings.stages or {
        "contacts": HUBSPOT_DEFAULT_STAGES,
        "companies": HUBSPOT_DEFAULT_STAGES,
    }


def check_lifecycle_order(view: PortalView, rules: Rules) -> list[Breach]:
    breaches = []
    for object_type, approved in sorted(approved_stages(rules).items()):
        scope = f"lifecycle_stage:{object_type}"
        if not view.read(scope):
            continue
        stages = [
            item
            for item in view.of_kind(Kind.LIFECYCLE_STAGE)
            if object_type_of(item.key) == object_type and item.canonical.get("hidden") is not True
        ]
        stages.sort(key=lambda i: (_order(i.canonical.get("displayOrder")), i.key))
        actual = tuple(ItemKey.parse(item.key).name for item in stages)
        if actual == approved:
            continue
        problems = []
        missing = [v for v in approved if v not in actual]
        extra = [v for v in actual if v not in approved]
        if missing:
            problems.append("missing " + ", ".join(missing))
        if extra:
            problems.append("not approved " + ", ".join(extra))
        if not missing and not extra:
            problems.append("in another order: " + " > ".join(actual))
        breaches.append(
            rules.breach(
                scope,
                scope,
                f"{object_type} lifecycle stages differ from the approved list: "
                + "; ".join(problems),
                [scope],
                {"actual": list(actual), "approved": list(approved)},
            )
        )
    return breaches


def _order(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 1 << 30


POLICIES = (
    Policy(
        "lifecycle-order",
        Severity.HIGH,
        "funnel reports and handovers depend on one agreed sequence of lifecycle stages",
        "lifecycle stages are the approved list, in the approved order",
        check_lifecycle_order,
        per_item=False,
    ),
)
