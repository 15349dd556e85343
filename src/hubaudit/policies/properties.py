"""Policies on properties: descriptions, internal names, likely duplicates, and groups.

"Custom" is what HubSpot does not define (``hubspotDefined`` false, which the canonical form
fills in when HubSpot omits it); archived properties are left out: they are out of use.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from hubaudit.model import Breach, Kind, PortalView, Severity, ViewItem
from hubaudit.policies.base import Policy, Rules, object_type_of, wanted

DEFAULT_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_TRAILING_DIGITS = re.compile(r"(?<![0-9])[0-9]{1,2}$")
MIN_TOKEN = 4
"""Shorter normalised names ("id", "url") say too little to call two properties duplicates."""


def _live(view: PortalView, rules: Rules) -> dict[str, list[ViewItem]]:
    """Live properties by object type, for the parts read completely that the policy covers."""
    only = rules.object_types()
    found: dict[str, list[ViewItem]] = defaultdict(list)
    for item in view.of_kind(Kind.PROPERTY):
        object_type = object_type_of(item.key)
        if (
            wanted(object_type, only)
            and view.read(f"property:{object_type}")
            and item.canonical.get("archived") is not True
        ):
            found[object_type].append(item)
    return found


def _custom(item: ViewItem) -> bool:
    return item.canonical.get("hubspotDefined") is not True


def check_descriptions(view: PortalView, rules: Rules) -> list[Breach]:
    breaches = []
    for object_type, items in sorted(_live(view, rules).items()):
        for item in items:
            description = item.canonical.get("description")
            if _custom(item) and not (isinstance(description, str) and description.strip()):
                breaches.append(
                    rules.breach(
                        item.key,
                        item.key,
                        "custom property has no description",
                        [f"property:{object_type}"],
                        label=item.label,
                    )
                )
    return breaches


def check_names(view: PortalView, rules: Rules) -> list[Breach]:
    patterns = rules.settings.patterns
    breaches = []
    for object_type, items in sorted(_live(view, rules).items()):
        pattern = patterns.get(object_type) or patterns.get("*") or DEFAULT_NAME_PATTERN
        compiled = re.compile(pattern)
        for item in items:
            name = str(item.canonical.get("name") or item.key.split(":", 2)[2])
            if _custom(item) and not compiled.search(name):
                breaches.append(
                    rules.breach(
                        item.key,
                        item.key,
                        f"internal name {name!r} does not follow {pattern}",
                        [f"property:{object_type}"],
                        {"name": name, "pattern": pattern},
                        item.label,
                    )
                )
    return breaches


def normalised(text: str, *, internal: bool) -> str:
    """What a name or label says once case, separators and a copy's number are gone:
    "Lead Source", "lead_source_2" and "LeadSource" all say ``leadsource``."""
    lowered = text.lower().strip()
    if internal and lowered.startswith("hs_"):
        lowered = lowered[3:]
    return _TRAILING_DIGITS.sub("", _NOT_ALNUM.sub("", lowered))


def _tokens(item: ViewItem) -> set[str]:
    tokens = set()
    name = item.canonical.get("name") or item.key.split(":", 2)[2]
    if isinstance(name, str):
        tokens.add(normalised(name, internal=True))
    label = item.canonical.get("label")
    if isinstance(label, str):
        tokens.add(normalised(label, internal=False))
    return {t for t in tokens if len(t) >= MIN_TOKEN}


def duplicate_sets(items: Iterable[ViewItem]) -> list[tuple[str, list[ViewItem]]]:
    """Properties whose names or labels say the same thing, with the word they share; a set
    counts only when a custom property is in it (HubSpot's own pairs are HubSpot's business)."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    by_key = {item.key: item for item in items}
    for item in by_key.values():
        for token in _tokens(item):
            parent[find(item.key)] = find(f"~{token}")
    groups: dict[str, list[ViewItem]] = defaultdict(list)
    for item in by_key.values():
        groups[find(item.key)].append(item)
    result = []
    for members in groups.values():
        if len(members) > 1 and any(_custom(m) for m in members):
            shared = set.intersection(*(_tokens(m) for m in members)) or set.union(
                *(_tokens(m) for m in members)
            )
            result.append((min(shared), sorted(members, key=lambda m: m.key)))
    return sorted(result, key=lambda pair: pair[0])


def check_duplicates(view: PortalView, rules: Rules) -> list[Breach]:
    breaches = []
    for object_type, items in sorted(_live(view, rules).items()):
        for token, members in duplicate_sets(items):
            names = ", ".join(f"{m.key.split(':', 2)[2]} ({m.label!r})" for m in members)
            breaches.append(
                rules.breach(
                    f"property:{object_type}:~{token}",
                    members[0].key,
                    f"{len(members)} {object_type} properties look like one: {names}",
                    [f"property:{object_type}"],
                    {"properties": [m.key for m in members]},
                    members[0].label,
                )
            )
    return breaches


def _groups(view: PortalView, rules: Rules) -> dict[str, dict[str, ViewItem]]:
    only = rules.object_types()
    found: dict[str, dict[str, ViewItem]] = defaultdict(dict)
    for item in view.of_kind(Kind.PROPERTY_GROUP):
        object_type = object_type_of(item.key)
        if wanted(object_type, only) and view.read(f"property_group:{object_type}"):
            found[object_type][item.key.split(":", 2)[2]] = item
    return found


def check_empty_groups(view: PortalView, rules: Rules) -> list[Breach]:
    properties = _live(view, rules)
    breaches = []
    for object_type, groups in sorted(_groups(view, rules).items()):
        # a group looks empty only if every one of its properties could be read
        if not view.fully_read(f"property:{object_type}"):
            continue
        used = {p.canonical.get("groupName") for p in properties.get(object_type, [])}
        for name, group in sorted(groups.items()):
            if name not in used and group.canonical.get("archived") is not True:
                breaches.append(
                    rules.breach(
                        group.key,
                        group.key,
                        "property group holds no live property",
                        [f"property:{object_type}", f"property_group:{object_type}"],
                        label=group.label,
                    )
                )
    return breaches


def check_missing_groups(view: PortalView, rules: Rules) -> list[Breach]:
    groups = _groups(view, rules)
    breaches = []
    for object_type, items in sorted(_live(view, rules).items()):
        if object_type not in groups and not view.read(f"property_group:{object_type}"):
            continue
        known = groups.get(object_type, {})
        for item in items:
            group = item.canonical.get("groupName")
            if isinstance(group, str) and group and group not in known:
                breaches.append(
                    rules.breach(
                        item.key,
                        item.key,
                        f"property is in group {group!r}, which does not exist",
                        [f"property:{object_type}", f"property_group:{object_type}"],
                        {"groupName": group},
                        item.label,
                    )
                )
    return breaches


POLICIES = (
    Policy(
        "property-description",
        Severity.LOW,
        "a custom property without a description cannot be used correctly by the next person",
        "custom properties have a description",
        check_descriptions,
    ),
    Policy(
        "property-naming",
        Severity.LOW,
        "internal names follow the naming convention, so integrations and reports can rely on them",
        "custom properties' internal names match a pattern per object type",
        check_names,
    ),
    Policy(
        "property-duplicates",
        Severity.MEDIUM,
        "two fields for one fact split the data and the reports built on it",
        "no two properties of an object type whose names or labels normalise to the same word",
        check_duplicates,
    ),
    Policy(
        "group-empty",
        Severity.LOW,
        "an empty group clutters every record page and property picker",
        "every property group holds a live property",
        check_empty_groups,
    ),
    Policy(
        "group-missing",
        Severity.MEDIUM,
        "a property in a group that does not exist is hard to find and to govern",
        "every property's group exists",
        check_missing_groups,
    ),
)
