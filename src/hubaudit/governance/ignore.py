"""Ignore rules: known noise in drift, silenced on purpose and with a reason.

An ignore file is TOML, one ``[[ignore]]`` table per rule::

    [[ignore]]
    kind = "property"                    # optional: one kind of item
    key = "property:*"                   # optional glob on the item key (case-sensitive), "*"
    field = "options.*.displayOrder"     # optional path pattern; omitted: every change of the item
    op = ["modified"]                    # optional: some of added, removed, modified
    reason = "HubSpot renumbers option order when anyone drags an option"
    negate = false                       # true: take matching changes back out of earlier rules

Rules apply in file order, as in ``.gitignore``: the last rule that matches a change decides, and
a change it matches is ignored unless that rule is a negation.

``field`` is matched against the change's ``path`` tuple, never its dotted text, because keys may
hold dots. Written as a string it is split on ``.``; written as a list (``["options", "a.b",
"label"]``) each element is one segment, for keys with a dot or empty keys. Each segment is an
``fnmatch`` pattern over one whole path part (``*``, ``display*``; ``[*]`` is a literal star), and
a segment ``**`` stands for any number of parts, none included. A rule matches a change *at or
below* the path its pattern names (``options`` matches ``options.gold.label``). A change of a
whole item (added or removed, empty path) is matched only by a rule without ``field``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from hubaudit.config import TomlReader, Where, read_toml_text
from hubaudit.errors import ConfigError
from hubaudit.model.changes import Change, ChangeOp
from hubaudit.model.items import Kind

REASON_REQUIRED = "every ignore rule needs a reason: why is this drift acceptable?"
GLOBSTAR = "**"
_RULE_KEYS = {"kind", "key", "field", "op", "reason", "negate"}
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


def ignored_by(change: Change, rules: Sequence[IgnoreRule]) -> IgnoreRule | None:
    """The rule that ignores the change: the last rule matching it, unless that is a negation."""
    for rule in reversed(rules):
        if rule.matches(change):
            return None if rule.negate else rule
    return None


def load_ignore_rules(path: Path) -> tuple[IgnoreRule, ...]:
    return parse_ignore_rules(read_toml_text(path, "ignore file"), str(path))


def parse_ignore_rules(text: str, file: str) -> tuple[IgnoreRule, ...]:
    """The rules of an ignore file, in file order; every mistake is a ConfigError with its line."""
    reader = TomlReader(text, file)
    data = reader.loads()
    reader.only_keys(data, (), {"ignore"})
    raw_rules = data.get("ignore", [])
    if not isinstance(raw_rules, list):
        raise reader.error("must be an array of tables: write [[ignore]]", (), "ignore")
    return tuple(_parse_rule(reader, raw, index) for index, raw in enumerate(raw_rules))


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
    problem = _key_problem(key, kind)
    if problem:
        raise error(problem, "key")

    field = _field_pattern(raw.get("field"), lambda message: error(message, "field"))
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
    )


def _key_problem(key: str, kind: Kind | None) -> str | None:
    """Why a key glob can never match an item, judged by its literal prefix; None if it can.

    Every item key starts with its kind and a colon (``property:deals:dealname``)."""
    end = next((i for i, char in enumerate(key) if char in _GLOB_CHARS), len(key))
    literal = key[:end]

    def fits(kind_name: str) -> bool:
        prefix = f"{kind_name}:"
        if literal.startswith(prefix):
            return True
        # With no wildcard the glob is a whole key, which cannot stop before its kind's colon.
        return end < len(key) and prefix.startswith(literal)

    if kind is not None and not fits(kind.value):
        return f"can never match a {kind.value} item: their keys start with {kind.value}:"
    if kind is None and not any(fits(name) for name in _KINDS):
        return "can never match: item keys start with their kind, such as property: or pipeline:"
    return None


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


def suggest_rules(changes: Sequence[Change]) -> str:
    """Ignore rules, as TOML, that would silence the field changes drifting now.

    Field changes sharing kind, last path segment and path length become one rule, with ``*``
    where their paths differ and the narrowest key glob that holds every key. Each rule's reason
    is left empty on purpose: the file is refused until a person writes why."""
    if not changes:
        return "# nothing is drifting: there is no noise to suggest ignore rules for\n"
    groups: dict[tuple[Kind, str, int], list[Change]] = {}
    whole: list[Change] = []
    for change in changes:
        if change.path:
            shape = (change.kind, str(change.path[-1]), len(change.path))
            groups.setdefault(shape, []).append(change)
        else:
            whole.append(change)
    suggestions = []
    for group in groups.values():
        rule = _generalised(group)
        # Counted over every change, not just the group: a rule also covers changes below its
        # path, and a person deciding whether to keep it should see all it would silence.
        covered = [change for change in changes if rule.matches(change)]
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
        examples = {f"{c.key} {'.'.join(str(part) for part in c.path)}" for c in covered}
        out.extend(f"#   {_printable(example)}" for example in sorted(examples)[:3])
        out.append(text)
    if whole:
        out.append("")
        out.append(_NOT_SUGGESTED)
        for change in sorted(whole, key=lambda c: (c.key, c.op.value)):
            out.append(f"#   {change.op.value} {_printable(change.key)}")
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
