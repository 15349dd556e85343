"""Policies on properties: descriptions, internal names, likely duplicates, and groups.

"Custom" is what HubSpot does not define (``hubspotDefined`` false, which the canonical form
fills in when HubSpot omits it); archived properties are left out: they are out of use.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache

from hubaudit.model.changes import Severity
from hubaudit.model.findings import Breach
from hubaudit.model.items import ItemKey, Kind
from hubaudit.model.view import PortalView, ViewItem
from hubaudit.policies.base import Policy, Rules, object_type_of, wanted

DEFAULT_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_KEPT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_DROP_ASCII = {c: None for c in range(128) if chr(c) not in _KEPT}
"""``_NOT_ALNUM.sub("", text)`` for ASCII text, as a table: no regex for most names."""
_COPY_NUMBER = re.compile(r"(?:[\s_.\-]+\(?|\()[0-9]{1,2}\)?$")
MIN_TOKEN = 4
"""Shorter normalised names ("id", "url") say too little to call two properties duplicates."""


def _live(view: PortalView, rules: Rules) -> dict[str, list[ViewItem]]:
    """Live properties by object type, for the parts read completely that the policy covers
    (found once per snapshot for every policy that covers the same object types)."""
    only = rules.object_types()
    return view.memo(("live properties", only), lambda: _find_live(view, only))


def _find_live(view: PortalView, only: tuple[str, ...] | None) -> dict[str, list[ViewItem]]:
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
            name = str(item.canonical.get("name") or ItemKey.parse(item.key).name)
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


@lru_cache(maxsize=1 << 16)
def normalised(text: str, *, internal: bool) -> tuple[str, bool]:
    """What a name or label says once case, separators and a copy's number are gone, and
    whether a number went: "Lead Source", "lead_source_2" and "LeadSource" all say
    ``leadsource``. A number goes only after a separator and only if short (``_2``, ``(3)``):
    "Target Q1" keeps its Q1, and a year (``_2019``) stays."""
    lowered = text.lower().strip()
    if internal and lowered.startswith("hs_"):
        lowered = lowered[3:]
    # a copy's number ends the text: only then is there a number to look for
    numbered = lowered[-1:] in ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ")") and bool(
        _COPY_NUMBER.search(lowered)
    )
    kept = _COPY_NUMBER.sub("", lowered) if numbered else lowered
    return (kept.translate(_DROP_ASCII) if kept.isascii() else _NOT_ALNUM.sub("", kept)), numbered


def _tokens(item: ViewItem) -> dict[str, bool]:
    """Each word the item's name and label say, and whether it only came by dropping a copy's
    number (``address_line_1`` says ``addressline``, numbered)."""
    tokens: dict[str, bool] = {}
    name = item.canonical.get("name") or ItemKey.parse(item.key).name
    label = item.canonical.get("label")
    for text, internal in ((name, True), (label, False)):
        if isinstance(text, str):
            token, numbered = normalised(text, internal=internal)
            if len(token) >= MIN_TOKEN:
                tokens[token] = tokens.get(token, True) and numbered
    return tokens


def duplicate_sets(items: Iterable[ViewItem]) -> list[tuple[str, list[ViewItem]]]:
    """Properties whose names or labels say the same thing, with the word they share. A set
    counts only when a custom property is in it (HubSpot's own pairs are HubSpot's business)
    and one of them says the word without a number: ``address_line_1`` and ``address_line_2``
    are a series, ``lead_source`` and ``lead_source_2`` a copy."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    by_key = {item.key: item for item in items}
    tokens = {key: _tokens(item) for key, item in by_key.items()}
    for key, words in tokens.items():
        for token in words:
            parent[find(key)] = find(f"~{token}")
    groups: dict[str, list[ViewItem]] = defaultdict(list)
    for item in by_key.values():
        groups[find(item.key)].append(item)
    result = []
    for members in groups.values():
        if len(members) < 2 or not any(_custom(m) for m in members):
            continue
        said = Counter(t for m in members for t in tokens[m.key])
        shared = sorted(
            t
            for t, count in said.items()
            if count > 1 and any(tokens[m.key].get(t) is False for m in members)
        )
        if shared:
            result.append((shared[0], sorted(members, key=lambda m: m.key)))
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
            found[object_type][ItemKey.parse(item.key).name] = item
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
        per_item=False,
    ),
    Policy(
        "group-empty",
        Severity.LOW,
        "an empty group clutters every record page and property picker",
        "every property group holds a live property",
        check_empty_groups,
        per_item=False,
    ),
    Policy(
        "group-missing",
        Severity.MEDIUM,
        "a property in a group that does not exist is hard to find and to govern",
        "every property's group exists",
        check_missing_groups,
    ),
)
