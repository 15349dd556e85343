"""Policies on properties: descriptions, internal names, likely duplicates, and groups.

"Custom" is what HubSpot does not define (``hubspotDefined`` false, which the canonical form
fills in when HubSpot omits it); archived properties are left out: they are out of use.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import compress, repeat
from operator import and_, itemgetter, not_, or_

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
_DIGITS = frozenset("0123456789")
_NUMBER_ENDS = tuple("0123456789)")
_COPY_NUMBER_BACKWARDS = re.compile(r"\)?[0-9]{1,2}(?:\(?[\s_.\-]+|\()")
"""``_COPY_NUMBER`` for the text read backwards (its longest match, as the search's leftmost)."""
_BACKWARDS = itemgetter(slice(None, None, -1))
_BEFORE_NUMBER = frozenset("_.-(")
"""What may stand before a copy's number besides whitespace (``_COPY_NUMBER``)."""
MIN_TOKEN = 4
"""Shorter normalised names ("id", "url") say too little to call two properties duplicates."""


def _live(view: PortalView, rules: Rules) -> dict[str, list[ViewItem]]:
    """Live properties by object type, for the parts read completely that the policy covers.

    Every read part's live properties are found once per snapshot, in one pass shared by every
    policy; a policy limited to some object types takes those parts of it."""
    everything = view.memo("live properties", lambda: _find_live(view))
    only = rules.object_types()
    if only is None:
        return everything
    return {t: items for t, items in everything.items() if t in only}


def _find_live(view: PortalView) -> dict[str, list[ViewItem]]:
    found: dict[str, list[ViewItem]] = {}
    read: dict[str, list[ViewItem] | None] = {}  # each object type's list, None: not read
    for item in view.of_kind(Kind.PROPERTY):
        object_type = item.key.partition(":")[2].partition(":")[0]  # base.object_type_of
        if object_type in read:
            bucket = read[object_type]
        else:
            bucket = read[object_type] = (
                found.setdefault(object_type, []) if view.read(f"property:{object_type}") else None
            )
        if bucket is not None and item.canonical.get("archived") is not True:
            bucket.append(item)
    return {object_type: items for object_type, items in found.items() if items}


def _custom(item: ViewItem) -> bool:
    return item.canonical.get("hubspotDefined") is not True


def check_descriptions(view: PortalView, rules: Rules) -> list[Breach]:
    breaches = []
    for object_type, items in sorted(_live(view, rules).items()):
        for item in items:
            canonical = item.canonical
            if canonical.get("hubspotDefined") is True:  # not custom
                continue
            description = canonical.get("description")
            if not (isinstance(description, str) and description.strip()):
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
        search = re.compile(pattern).search
        for item in items:
            if not _custom(item):
                continue
            name = str(item.canonical.get("name") or ItemKey.parse(item.key).name)
            if not search(name):
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


def normalised(text: str, *, internal: bool) -> tuple[str, bool]:
    """What a name or label says once case, separators and a copy's number are gone, and
    whether a number went: "Lead Source", "lead_source_2" and "LeadSource" all say
    ``leadsource``. A number goes only after a separator and only if short (``_2``, ``(3)``):
    "Target Q1" keeps its Q1, and a year (``_2019``) stays."""
    lowered = text.lower().strip()
    if internal and lowered.startswith("hs_"):
        lowered = lowered[3:]
    numbered = _may_end_in_copy_number(lowered) and bool(_COPY_NUMBER.search(lowered))
    kept = _COPY_NUMBER.sub("", lowered) if numbered else lowered
    if kept.isascii():
        bare = kept.replace("_", "").replace(" ", "")  # the usual separators, without a table
        return (bare if bare.isalnum() else bare.translate(_DROP_ASCII)), numbered
    return _NOT_ALNUM.sub("", kept), numbered


def _may_end_in_copy_number(text: str) -> bool:
    """Could ``_COPY_NUMBER`` match? Only if the text ends in one or two digits (perhaps in
    parentheses) after a separator or an opening parenthesis: a scan of the last few
    characters that spares most names the regex (which still decides)."""
    end = len(text) - 1 if text[-1:] == ")" else len(text)
    start = end
    while start > 0 and end - start < 3 and text[start - 1] in _DIGITS:
        start -= 1
    if not 0 < end - start <= 2 or start == 0:
        return False
    before = text[start - 1]
    return before in _BEFORE_NUMBER or before.isspace()


def _tokens(item: ViewItem) -> dict[str, bool]:
    """Each word the item's name and label say, and whether it only came by dropping a copy's
    number (``address_line_1`` says ``addressline``, numbered)."""
    tokens: dict[str, bool] = {}
    canonical = item.canonical
    name = canonical.get("name") or ItemKey.parse(item.key).name
    if isinstance(name, str):
        token, numbered = normalised(name, internal=True)
        if len(token) >= MIN_TOKEN:
            tokens[token] = numbered
    label = canonical.get("label")
    if isinstance(label, str):
        token, numbered = normalised(label, internal=False)
        if len(token) >= MIN_TOKEN:
            tokens[token] = tokens.get(token, True) and numbered
    return tokens


def duplicate_sets(items: Iterable[ViewItem]) -> list[tuple[str, list[ViewItem]]]:
    """Properties whose names or labels say the same thing, with the word they share. A set
    counts only when a custom property is in it (HubSpot's own pairs are HubSpot's business)
    and one of them says the word without a number: ``address_line_1`` and ``address_line_2``
    are a series, ``lead_source`` and ``lead_source_2`` a copy.

    Items are joined through the words they share: a word only one item says joins nothing,
    so only the items that share a word with another (found for all at once by
    :func:`words`) go through the union-find."""
    by_key = {item.key: item for item in _sharing_a_word(items)}
    tokens = {key: _tokens(item) for key, item in by_key.items()}
    sayers: dict[str, list[str]] = defaultdict(list)
    for key, words in tokens.items():
        for token in words:
            sayers[token].append(key)
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for keys in sayers.values():
        if len(keys) > 1:
            root = find(keys[0])
            for key in keys[1:]:
                parent[find(key)] = root
    groups: dict[str, list[ViewItem]] = defaultdict(list)
    for key in parent:
        groups[find(key)].append(by_key[key])
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


def _sharing_a_word(items: Iterable[ViewItem]) -> list[ViewItem]:
    """The items one of whose words (of at least ``MIN_TOKEN`` letters) another item says too:
    the only ones that can be in a set of likely duplicates."""
    listed = list({item.key: item for item in items}.values())
    names = []
    for item in listed:
        name = item.canonical.get("name") or ItemKey.parse(item.key).name
        names.append(name if isinstance(name, str) else "")
    labels = [label if isinstance(label := i.canonical.get("label"), str) else "" for i in listed]
    said_by_name = words(names, internal=True)
    said_by_label = words(labels, internal=False)
    # each item counts once per word: a label saying what the name says adds nothing
    counts = Counter(said_by_name)
    counts.update(compress(said_by_label, map(str.__ne__, said_by_label, said_by_name)))
    shared = {word for word, count in counts.items() if count > 1 and len(word) >= MIN_TOKEN}
    if not shared:
        return []
    sharing = map(
        or_, map(shared.__contains__, said_by_name), map(shared.__contains__, said_by_label)
    )
    return list(compress(listed, sharing))


def words(texts: Sequence[str], *, internal: bool) -> list[str]:
    """``normalised(text, internal=internal)[0]`` of each text, found for all of them at once,
    each step run over the whole list (a property test holds the two to the same words)."""
    kept = list(map(str.strip, map(str.lower, texts)))
    if internal:
        for i in compress(range(len(kept)), map(str.startswith, kept, repeat("hs_"))):
            kept[i] = kept[i][3:]
    ending_in_number = list(
        compress(range(len(kept)), map(str.endswith, kept, repeat(_NUMBER_ENDS)))
    )
    # the copy's number read backwards, from the end: a match anchored there, not a search
    copies = list(
        map(_COPY_NUMBER_BACKWARDS.match, map(_BACKWARDS, map(kept.__getitem__, ending_in_number)))
    )
    for i, copy in zip(ending_in_number, copies, strict=True):
        if copy is not None:
            kept[i] = kept[i][: -copy.end()]
    bare = list(
        map(str.replace, map(str.replace, kept, repeat("_"), repeat("")), repeat(" "), repeat(""))
    )
    plain = map(and_, map(str.isascii, bare), map(str.isalnum, bare))
    for i in compress(range(len(bare)), map(not_, plain)):
        text = bare[i]
        bare[i] = text.translate(_DROP_ASCII) if text.isascii() else _NOT_ALNUM.sub("", text)
    return bare


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
