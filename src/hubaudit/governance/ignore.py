"""Ignore rules: known noise in drift, silenced on purpose and with a reason.

An ignore file is TOML, one ``[[ignore]]`` table per rule::

    [[ignore]]
    kind = "property"                    # optional: one kind of item
    key = "property:*"                   # optional glob on the item key (case-sensitive), "*"
    field = "options.*.displayOrder"     # optional path pattern; omitted: every change of the item
    op = ["modified"]                    # optional: some of added, removed, modified
    reason = "HubSpot renumbers option order when anyone drags an option"
    negate = false                       # true: take matching changes back out of earlier rules
    allow_critical = false               # true (with critical_reason): may ignore critical drift
    critical_reason = "…"                # required with allow_critical, refused without it

Rules apply in file order, as in ``.gitignore``: the last rule that matches a change decides, and
a change it matches is ignored unless that rule is a negation.

A rule never ignores a **critical** change (its severity after the severity rules and the impact
raise) unless it says ``allow_critical = true`` and why, in ``critical_reason``: a broad rule
(``key = "property:deals:deal_source"``, no field) silences the noise it was written for, while
a type change it also matches stays a defect, and the report says the rule wanted to ignore it
(:func:`judge` gives the verdict, :func:`refusal_notes` the report's lines).

Globs are checked when the file is read: an unclosed ``[`` (``property:[deals:*``), which
``fnmatch`` would silently take as a literal, is refused, as is a field a kind's items never hold
(``fieldTyp`` on a property), for the kinds whose fields hubaudit knows (:data:`KNOWN_FIELDS`).

``field`` is matched against the change's ``path`` tuple, never its dotted text, because keys may
hold dots. Written as a string it is split on ``.``; written as a list (``["options", "a.b",
"label"]``) each element is one segment, for keys with a dot or empty keys. Each segment is an
``fnmatch`` pattern over one whole path part (``*``, ``display*``; ``[*]`` is a literal star), and
a segment ``**`` stands for any number of parts, none included. A rule matches a change *at or
below* the path its pattern names (``options`` matches ``options.gold.label``). A change of a
whole item (added or removed, empty path) is matched only by a rule without ``field``.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from hubaudit.config import ConfigErrors, TomlReader, Where, read_toml_text
from hubaudit.errors import ConfigError
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.items import Kind

REASON_REQUIRED = "every ignore rule needs a reason: why is this drift acceptable?"
CRITICAL_REASON_REQUIRED = (
    "allow_critical = true needs a critical_reason: why may this rule hide critical drift?"
)
GLOBSTAR = "**"
_RULE_KEYS = {"kind", "key", "field", "op", "reason", "negate", "allow_critical", "critical_reason"}
_GLOB_CHARS = frozenset("*?[")
_KINDS = tuple(kind.value for kind in Kind)
_OPS = tuple(op.value for op in ChangeOp)
_Fail = Callable[[str], ConfigError]
"""Builds the error for one key of the rule being read, from its message."""


@dataclass(frozen=True)
class IgnoreRule:
    """One ``[[ignore]]`` table; ``field`` holds segment patterns, ``**`` for any parts."""

    index: int
    """1-based position in the file."""
    reason: str
    kind: Kind | None = None
    key: str = "*"
    field: tuple[str, ...] | None = None
    ops: frozenset[ChangeOp] | None = None
    negate: bool = False
    file: str | None = None
    line: int | None = None
    """The line of the rule's ``[[ignore]]`` header."""
    allow_critical: bool = False
    critical_reason: str | None = None
    """Why critical drift may be ignored: required with ``allow_critical``."""

    def matches(self, change: Change) -> bool:
        """Does this rule speak about the change (whether to ignore it or, negated, not)?"""
        if self.kind is not None and change.kind != self.kind:
            return False
        if self.ops is not None and change.op not in self.ops:
            return False
        if not fnmatchcase(change.key, self.key):
            return False
        if self.field is None:
            return True
        # A field pattern speaks about fields: it never matches a whole item added or removed.
        return bool(change.path) and _matches_a_prefix(self.field, change.path)

    def describe(self) -> str:
        """``ignore.toml:12 rule 3 (property:* options.*.displayOrder)``; ``!`` for a negation."""
        where = ":".join(str(part) for part in (self.file, self.line) if part is not None)
        key = self.key
        if self.kind is not None and not key.startswith(f"{self.kind.value}:"):
            key = f"{self.kind.value} {key}"
        body = [_printable(key)]
        if self.field is not None:
            body.append(_field_text(self.field))
        if self.ops is not None:
            body.append("op=" + ",".join(op.value for op in ChangeOp if op in self.ops))
        text = f"rule {self.index} ({'!' if self.negate else ''}{' '.join(body)})"
        return f"{_printable(where)} {text}" if where else text


@dataclass(frozen=True)
class IgnoreVerdict:
    """What the rules say about one change: the rule that decides (the last one matching it,
    ``None`` when none does) and whether the change is ignored."""

    rule: IgnoreRule | None = None
    ignored: bool = False

    @property
    def refused(self) -> bool:
        """The deciding rule would ignore the change, but it is critical and the rule does not
        say ``allow_critical = true``: the change stays what it is, and the report says so."""
        return self.rule is not None and not self.rule.negate and not self.ignored


def judge(change: Change, rules: Sequence[IgnoreRule]) -> IgnoreVerdict:
    """The last rule matching the change decides: a negation keeps it; any other rule ignores
    it, except a critical change, which only a rule with ``allow_critical`` ignores. An earlier
    rule that allows critical drift does not step in for a later one that does not."""
    for rule in reversed(rules):
        if rule.matches(change):
            if rule.negate:
                return IgnoreVerdict(rule)
            critical = change.severity is Severity.CRITICAL
            return IgnoreVerdict(rule, ignored=rule.allow_critical or not critical)
    return IgnoreVerdict()


def ignored_by(change: Change, rules: Sequence[IgnoreRule]) -> IgnoreRule | None:
    """The rule that ignores the change, if one does (see :func:`judge`)."""
    verdict = judge(change, rules)
    return verdict.rule if verdict.ignored else None


def ignored_note(rule: IgnoreRule) -> str:
    """Why a change is ``ignored``: the rule, its reason (and why critical drift may be)."""
    note = f"ignored by {rule.describe()}: {rule.reason}"
    if rule.allow_critical and rule.critical_reason:
        note += f" (critical drift allowed: {rule.critical_reason})"
    return note


def refused_note(rule: IgnoreRule) -> str:
    """Why a critical change a rule matches is still reported."""
    return (
        f"{rule.describe()} would ignore this critical change but has no allow_critical = "
        "true: still reported"
    )


def refusal_notes(changes: Iterable[Change], rules: Sequence[IgnoreRule]) -> tuple[str, ...]:
    """One line per rule that wanted to ignore critical changes it may not: the report's notes,
    so that a rule too broad to be safe is seen, never silently half-applied."""
    refused: dict[IgnoreRule, list[Change]] = {}
    for change in changes:
        verdict = judge(change, rules)
        if verdict.refused and verdict.rule is not None:
            refused.setdefault(verdict.rule, []).append(change)
    lines = []
    for rule, matched in ((rule, refused[rule]) for rule in rules if rule in refused):
        places = sorted({place(change) for change in matched})
        shown = ", ".join(places[:5]) + (f" and {len(places) - 5} more" if len(places) > 5 else "")
        count = f"{len(matched)} critical change" + ("" if len(matched) == 1 else "s")
        lines.append(
            f"ignore {rule.describe()} matches {count} it may not ignore ({shown}): they are "
            "still reported; add allow_critical = true and a critical_reason to the rule if "
            "that drift is truly acceptable, or narrow the rule"
        )
    return tuple(lines)


@dataclass(frozen=True)
class RuleMatches:
    """What one rule decides among some changes (those it is the last rule to match)."""

    rule: IgnoreRule
    ignores: tuple[Change, ...] = ()
    refused: tuple[Change, ...] = ()
    """Critical changes it would ignore but may not (no ``allow_critical``)."""
    keeps: tuple[Change, ...] = ()
    """For a negation: the changes it takes back from earlier rules (or keeps as they are)."""


def rule_matches(rules: Sequence[IgnoreRule], changes: Iterable[Change]) -> tuple[RuleMatches, ...]:
    """Each rule, in file order, with the changes it decides: what ``ignore check`` shows."""
    decided: dict[IgnoreRule, dict[str, list[Change]]] = {
        rule: {"ignores": [], "refused": [], "keeps": []} for rule in rules
    }
    for change in changes:
        verdict = judge(change, rules)
        if verdict.rule is None:
            continue
        outcome = "keeps" if verdict.rule.negate else "ignores" if verdict.ignored else "refused"
        decided[verdict.rule][outcome].append(change)
    return tuple(
        RuleMatches(rule, *(tuple(decided[rule][name]) for name in ("ignores", "refused", "keeps")))
        for rule in rules
    )


def place(change: Change) -> str:
    """``property:deals:amount label`` for a field change, ``removed property:deals:x`` for a
    whole item; printable on one line."""
    path = ".".join(str(part) for part in change.path)
    return _printable(f"{change.key} {path}" if path else f"{change.op.value} {change.key}")


def load_ignore_rules(path: Path) -> tuple[IgnoreRule, ...]:
    return parse_ignore_rules(read_toml_text(path, "ignore file"), str(path))


def parse_ignore_rules(text: str, file: str) -> tuple[IgnoreRule, ...]:
    """The rules of an ignore file, in file order. A mistake is a ConfigError with its file,
    line and key; the first mistake of every rule is reported at once (ConfigErrors)."""
    reader = TomlReader(text, file)
    data = reader.loads()
    reader.only_keys(data, (), {"ignore"})
    raw_rules = data.get("ignore", [])
    if not isinstance(raw_rules, list):
        raise reader.error("must be an array of tables: write [[ignore]]", (), "ignore")
    rules: list[IgnoreRule] = []
    problems: list[ConfigError] = []
    for index, raw in enumerate(raw_rules):
        try:
            rules.append(_parse_rule(reader, raw, index))
        except ConfigError as exc:
            problems.append(exc)
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems)
    return tuple(rules)


def _parse_rule(reader: TomlReader, raw: Any, index: int) -> IgnoreRule:
    where: Where = ("ignore", index)
    if not isinstance(raw, dict):
        raise reader.error("each entry must be a table: write [[ignore]]", (), "ignore")

    def error(message: str, key: str | None) -> ConfigError:
        found = reader.error(message, where, key)
        if found.line is not None:
            return found
        # An inline `ignore = [{…}]` has no [[ignore]] header: point at its `ignore =` line.
        line = reader.locate((), "ignore")
        return ConfigError(message, file=reader.file, line=line, key=found.key)

    for name in raw:
        if name not in _RULE_KEYS:
            raise error(f"unknown key; known keys: {', '.join(sorted(_RULE_KEYS))}", name)

    reason = raw.get("reason")
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        raise error(REASON_REQUIRED, "reason")
    if not isinstance(reason, str):
        raise error("must be a string saying why this drift is acceptable", "reason")

    kind: Kind | None = None
    if "kind" in raw:
        if raw["kind"] not in _KINDS:
            raise error(f"unknown kind; known kinds: {', '.join(_KINDS)}", "kind")
        kind = Kind(raw["kind"])

    key = raw.get("key", "*")
    if not isinstance(key, str) or not key.strip():
        raise error('must be a non-empty key glob such as "property:deals:*"', "key")
    problem = glob_problem(key) or _key_problem(key, kind)
    if problem:
        raise error(problem, "key")

    field = _field_pattern(raw.get("field"), lambda message: error(message, "field"))
    if field is not None:
        kinds = (kind,) if kind is not None else kinds_of_key(key)
        problem = next(filter(None, map(glob_problem, field)), None) or field_problem(field, kinds)
        if problem:
            raise error(problem, "field")
    ops = _ops(raw.get("op"), lambda message: error(message, "op"))
    if field is not None and ops is not None and ChangeOp.MODIFIED not in ops:
        raise error(
            "a rule with a field only matches modified fields (a whole item added or removed "
            "has no field): add modified or leave field out",
            "op",
        )

    negate = raw.get("negate", False)
    if not isinstance(negate, bool):
        raise error("must be true or false", "negate")

    allow_critical = raw.get("allow_critical", False)
    if not isinstance(allow_critical, bool):
        raise error("must be true or false", "allow_critical")
    if allow_critical and negate:
        raise error("a negation ignores nothing: it has no critical drift to allow", "negate")
    critical_reason = raw.get("critical_reason")
    if critical_reason is not None and not allow_critical:
        raise error(
            "only a rule with allow_critical = true ignores critical drift: say it, or leave "
            "critical_reason out",
            "critical_reason",
        )
    if allow_critical and (not isinstance(critical_reason, str) or not critical_reason.strip()):
        raise error(CRITICAL_REASON_REQUIRED, "critical_reason")

    header = reader.locate(where, None)
    return IgnoreRule(
        index=index + 1,
        reason=reason.strip(),
        kind=kind,
        key=key,
        field=field,
        ops=ops,
        negate=negate,
        file=reader.file,
        line=header if header is not None else reader.locate((), "ignore"),
        allow_critical=allow_critical,
        critical_reason=critical_reason.strip() if isinstance(critical_reason, str) else None,
    )


def _key_problem(key: str, kind: Kind | None) -> str | None:
    """Why a key glob can never match an item, judged by its literal prefix; None if it can.

    Every item key starts with its kind and a colon (``property:deals:dealname``)."""
    kinds = kinds_of_key(key)
    if kind is not None and kind not in kinds:
        return f"can never match a {kind.value} item: their keys start with {kind.value}:"
    if not kinds:
        return "can never match: item keys start with their kind, such as property: or pipeline:"
    return None


def kinds_of_key(key: str) -> tuple[Kind, ...]:
    """The kinds whose items a key glob may match, judged by its literal prefix."""
    end = next((i for i, char in enumerate(key) if char in _GLOB_CHARS), len(key))
    literal = key[:end]

    def fits(kind: Kind) -> bool:
        prefix = f"{kind.value}:"
        if literal.startswith(prefix):
            return True
        # With no wildcard the glob is a whole key, which cannot stop before its kind's colon.
        return end < len(key) and prefix.startswith(literal)

    return tuple(kind for kind in Kind if fits(kind))


def glob_problem(pattern: str) -> str | None:
    """Why ``fnmatch`` would not read the glob as written: an unclosed ``[``, which it takes
    as a literal ``[`` (so ``property:[deals:*`` would match almost nothing, silently)."""
    at, end = 0, len(pattern)
    while at < end:
        char = pattern[at]
        at += 1
        if char != "[":
            continue
        # fnmatch's own reading: "!" negates, and a "]" first in the set is one of its members
        close = at
        if close < end and pattern[close] == "!":
            close += 1
        if close < end and pattern[close] == "]":
            close += 1
        close = pattern.find("]", close)
        if close < 0:
            return (
                f"is not a valid glob: the [ at character {at} opens a set that is never "
                "closed with ]; write [[] for a literal ["
            )
        at = close + 1
    return None


# The fields of each kind's canonical payload, where HubSpot publishes them (its OpenAPI
# schemas, less the volatile fields hubaudit drops, plus what real responses and hubaudit's own
# canonical form add: "<siblings> order" where the order of a map's entries is reported).
# Workflows are left out: a flow's fields depend on its type and grow with HubSpot's API.
# fmt: off
_OPTION_FIELDS = frozenset({"label", "value", "description", "displayOrder", "hidden"})
_STAGE_FIELDS = frozenset({"label", "displayOrder", "metadata", "archived", "writePermissions"})
KNOWN_FIELDS: Mapping[Kind, frozenset[str]] = {
    Kind.PROPERTY: frozenset({
        "name", "label", "type", "fieldType", "description", "groupName", "options",
        "options order", "displayOrder", "calculated", "calculationFormula",
        "currencyPropertyName", "dataSensitivity", "dateDisplayHint", "externalOptions",
        "externalOptionsReferenceType", "formField", "hasUniqueValue", "hidden", "hubspotDefined",
        "modificationMetadata", "numberDisplayHint", "optionSortStrategy", "referencedObjectType",
        "searchableInGlobalSearch", "sensitiveDataCategories", "showCurrencySymbol",
        "textDisplayHint", "archived",
    }),
    Kind.PROPERTY_GROUP: frozenset({"name", "label", "displayOrder", "archived"}),
    Kind.PIPELINE: frozenset({
        "id", "label", "displayOrder", "archived", "stages", "stages order", "pipelines order",
    }),
    Kind.LIFECYCLE_STAGE: _OPTION_FIELDS | {"pipelineMetadata", "stages order"},
    Kind.OBJECT_SCHEMA: frozenset({
        "id", "name", "labels", "description", "fullyQualifiedName", "objectTypeId",
        "primaryDisplayProperty", "secondaryDisplayProperties", "requiredProperties",
        "searchableProperties", "allowsSensitiveProperties", "archived", "restorable",
        "metaType", "portalId",
    }),
    Kind.ASSOCIATION_LABEL: frozenset({
        "category", "typeId", "label", "inverseLabel", "userEnforcedMaxToObjectIds",
    }),
    Kind.USER: frozenset({
        "id", "email", "firstName", "lastName", "superAdmin", "roleId", "roleIds",
        "primaryTeamId", "secondaryTeamIds", "seatNames",
    }),
    Kind.TEAM: frozenset({"id", "name", "userIds", "secondaryUserIds"}),
    Kind.ROLE: frozenset({"id", "name", "requiresBillingWrite"}),
}
# fmt: on
"""Top-level fields by kind; a kind missing here is not checked."""
ENTRY_FIELDS: Mapping[tuple[Kind, str], frozenset[str]] = {
    (Kind.PROPERTY, "options"): _OPTION_FIELDS,
    (Kind.PIPELINE, "stages"): _STAGE_FIELDS,
}
"""The fields of each entry of a map (``options.{value}.label``), by kind and map."""


def field_problem(field: tuple[str, ...], kinds: Sequence[Kind]) -> str | None:
    """Why a field pattern can hold no field of the rule's kinds (those a key glob allows when
    the rule names none); None if it can, or if one of the kinds' fields is not known."""
    if not kinds or any(kind not in KNOWN_FIELDS for kind in kinds):
        return None
    names = frozenset().union(*(KNOWN_FIELDS[kind] for kind in kinds))
    head = field[0]
    if head == GLOBSTAR:
        return None
    if not any(fnmatchcase(name, head) for name in names):
        whose = kinds[0].value if len(kinds) == 1 else "these kinds'"
        return _unknown(head, names, f"no {whose} item has a field {head!r}")
    entries = [ENTRY_FIELDS[(kind, head)] for kind in kinds if (kind, head) in ENTRY_FIELDS]
    if not entries or len(field) < 3 or GLOBSTAR in field[1:3]:
        return None
    known = frozenset().union(*entries)
    if not any(fnmatchcase(name, field[2]) for name in known):
        return _unknown(field[2], known, f"no entry of {head} has a field {field[2]!r}")
    return None


def _unknown(name: str, known: Iterable[str], message: str) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{_printable(message)}: {hint}known fields: {', '.join(sorted(known))}"


def _field_pattern(value: Any, error: _Fail) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise error("must not be empty: leave field out to match every change of the item")
        segments = tuple(value.split("."))
        if "" in segments:
            raise error(
                "has an empty segment; for a key that is empty or holds a dot use the list "
                'form, such as ["options", "a.b", "label"]'
            )
        return segments
    if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
        # The list form is for literal keys, so an empty segment is an empty key, not a typo.
        return tuple(value)
    raise error(
        'must be a path pattern such as "options.*.displayOrder" or a non-empty list of '
        'segments such as ["options", "a.b", "label"]'
    )


def _ops(value: Any, error: _Fail) -> frozenset[ChangeOp] | None:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise error(f"must be one of {', '.join(_OPS)}, or a non-empty list of them")
    for name in names:
        if name not in _OPS:
            raise error(f"must be one of {', '.join(_OPS)}, or a non-empty list of them")
    return frozenset(ChangeOp(name) for name in names)


def _matches_a_prefix(pattern: tuple[str, ...], path: tuple[str | int, ...]) -> bool:
    """Does the pattern match ``path[:n]`` for some n? The set of reachable positions keeps
    ``**`` linear instead of backtracking."""
    parts = [str(part) for part in path]
    reachable = {0}
    for segment in pattern:
        if segment == GLOBSTAR:
            reachable = set(range(min(reachable), len(parts) + 1))
        else:
            reachable = {
                at + 1 for at in reachable if at < len(parts) and fnmatchcase(parts[at], segment)
            }
        if not reachable:
            return False
    return True


def _field_text(field: tuple[str, ...]) -> str:
    """The field pattern as a person would write it, dotted when that is unambiguous."""
    if all(segment and "." not in segment for segment in field):
        return _printable(".".join(field))
    return "[" + ", ".join(_toml_string(segment, check=False) for segment in field) + "]"


# ---- suggestions ------------------------------------------------------------------------------

_NOT_SUGGESTED = (
    "# not suggested: whole items added or removed are real architecture changes;\n"
    "# accept them into a baseline or revert them:"
)
_NOT_SUGGESTED_CRITICAL = (
    "# not suggested: critical drift is never noise; revert it or accept it into a baseline\n"
    "# (a rule ignores it only with allow_critical = true and a critical_reason):"
)
_NOT_SUGGESTED_UNKNOWN = (
    "# not suggested: fields hubaudit does not know for their kind, which an ignore rule\n"
    "# cannot name yet:"
)


def suggest_rules(changes: Sequence[Change]) -> str:
    """Ignore rules, as TOML, that would silence the field changes drifting now.

    Field changes sharing kind, last path segment and path length become one rule, with ``*``
    where their paths differ and the narrowest key glob that holds every key. Each rule's reason
    is left empty on purpose: the file is refused until a person writes why. Critical drift is
    never suggested (nor ignored by a suggested rule), nor whole items added or removed."""
    if not changes:
        return "# nothing is drifting: there is no noise to suggest ignore rules for\n"
    groups: dict[tuple[Kind, str, int], list[Change]] = {}
    whole: list[Change] = []
    critical: list[Change] = []
    for change in changes:
        if change.severity is Severity.CRITICAL:
            critical.append(change)
        elif change.path:
            shape = (change.kind, str(change.path[-1]), len(change.path))
            groups.setdefault(shape, []).append(change)
        else:
            whole.append(change)
    suggestions = []
    unknown: list[Change] = []
    for group in groups.values():
        rule = _generalised(group)
        assert rule.field is not None
        if field_problem(rule.field, (group[0].kind,)):
            unknown += group
            continue
        # Counted over every change, not just the group: a rule also covers changes below its
        # path, and a person deciding whether to keep it should see all it would silence.
        covered = [change for change in changes if judge(change, (rule,)).ignored]
        suggestions.append((covered, _rule_toml(rule)))
    suggestions.sort(key=lambda suggestion: (-len(suggestion[0]), suggestion[1]))
    out = [
        f"# Ignore rules suggested from {_count(len(changes))} drifting now.",
        '# Every rule needs a reason: hubaudit refuses this file until each reason = "" says',
        "# why that drift is acceptable. Delete the rules for drift that is not noise.",
    ]
    for covered, text in suggestions:
        out.append("")
        out.append(f"# covers {_count(len(covered))}, e.g.:")
        out.extend(f"#   {example}" for example in sorted({place(c) for c in covered})[:3])
        out.append(text)
    for heading, left_out in (
        (_NOT_SUGGESTED_CRITICAL, critical),
        (_NOT_SUGGESTED_UNKNOWN, unknown),
        (_NOT_SUGGESTED, whole),
    ):
        if left_out:
            out += ["", heading]
            out += [f"#   {where}" for _, where in sorted({(c.key, place(c)) for c in left_out})]
    return "\n".join(out) + "\n"


def _count(n: int) -> str:
    return f"{n} current change" if n == 1 else f"{n} current changes"


def _generalised(group: Sequence[Change]) -> IgnoreRule:
    """One rule for changes of one kind, leaf and path length: ``*`` where their paths differ."""
    rows = [[str(part) for part in change.path] for change in group]
    field = tuple(
        _fnmatch_literal(column[0]) if len(set(column)) == 1 else "*"
        for column in zip(*rows, strict=True)
    )
    key = _key_glob({change.key for change in group})
    return IgnoreRule(index=0, reason="", kind=group[0].kind, key=key, field=field)


def _rule_toml(rule: IgnoreRule) -> str:
    assert rule.kind is not None and rule.field is not None
    dotted = ".".join(rule.field)
    if all(segment and "." not in segment for segment in rule.field) and dotted.strip():
        field = _toml_string(dotted)
    else:
        field = f"[{', '.join(_toml_string(segment) for segment in rule.field)}]"
    return "\n".join(
        [
            "[[ignore]]",
            f"kind = {_toml_string(rule.kind.value)}",
            f"key = {_toml_string(rule.key)}",
            f"field = {field}",
            'reason = ""',
        ]
    )


def _key_glob(keys: set[str]) -> str:
    """The exact key for one item; else the longest run of ``:``-separated parts all keys share
    (``property:deals:*``), never a whole key, since ``*`` needs a part after it."""
    if len(keys) == 1:
        return _fnmatch_literal(next(iter(keys)))
    split = [key.split(":") for key in keys]
    limit = min(len(parts) for parts in split) - 1
    common: list[str] = []
    for column in zip(*split, strict=False):
        if len(common) == limit or len(set(column)) != 1:
            break
        common.append(column[0])
    return _fnmatch_literal(":".join(common)) + ":*" if common else "*"


def _fnmatch_literal(text: str) -> str:
    """A pattern matching exactly ``text``, as far as TOML can hold it.

    A lone surrogate (from JSON such as ``"\\ud800"``) cannot be written in TOML at all, not even
    escaped, so it becomes ``?``, which matches it."""
    return "".join(
        f"[{char}]" if char in _GLOB_CHARS else "?" if unicodedata.category(char) == "Cs" else char
        for char in text
    )


_TOML_ESCAPES: Mapping[str, str] = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
# Control characters are not allowed raw in TOML; line separators are, but would split the line
# for a person reading the file, so they are escaped too.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def _toml_string(text: str, *, check: bool = True) -> str:
    """A TOML basic string holding ``text`` exactly. A lone surrogate has no TOML form: with
    ``check`` it is refused, without (for display only) it is shown as ``\\udXXX``."""
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            if check:
                raise ValueError("a lone surrogate cannot be written in TOML")
            out.append(f"\\u{ord(char):04x}")
        elif char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif category in _ESCAPED_CATEGORIES:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _printable(text: str) -> str:
    """Text safe on one comment line and in any terminal: backslash, control characters, line
    separators and lone surrogates are written as escapes."""
    return "".join(
        "\\\\"
        if char == "\\"
        else f"\\u{ord(char):04x}"
        if unicodedata.category(char) in _ESCAPED_CATEGORIES | {"Cs"}
        else char
        for char in text
    )
