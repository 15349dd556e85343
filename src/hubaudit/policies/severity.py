"""Severity of a change: the first rule that matches, from an ordered table.

These defaults are what a RevOps architect would sign off for the kinds read today; the drift
engine will make them overridable in config by kind, key glob and field path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from functools import lru_cache

from hubaudit.config import SeverityOverride
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.items import Kind


@dataclass(frozen=True)
class SeverityRule:
    severity: Severity
    kind: Kind | None = None
    op: ChangeOp | None = None
    field: str = "**"
    """Pattern on the field path, segment by segment: ``*`` is one segment, ``**`` any number
    (none included); ``""`` matches only whole-item changes."""
    gone: bool | None = None
    """True: only when the value disappeared (after is absent); False: only when it appeared."""
    key: str = "*"
    """Glob on the item's key (``property:deals:*``)."""

    def matches(self, change: Change) -> bool:
        if self.kind is not None and change.kind is not self.kind:
            return False
        if self.key != "*" and not fnmatchcase(change.key, self.key):
            return False
        if self.op is not None and change.op is not self.op:
            return False
        if not path_matches(_segments(self.field), tuple(str(p) for p in change.path)):
            return False
        if self.gone is True and change.after is not None:
            return False
        return not (self.gone is False and change.before is not None)


DEFAULT_RULES: tuple[SeverityRule, ...] = (
    # properties
    SeverityRule(Severity.HIGH, Kind.PROPERTY, ChangeOp.REMOVED, ""),
    SeverityRule(Severity.MEDIUM, Kind.PROPERTY, ChangeOp.ADDED, ""),
    SeverityRule(Severity.CRITICAL, Kind.PROPERTY, field="type"),
    SeverityRule(Severity.CRITICAL, Kind.PROPERTY, field="fieldType"),
    SeverityRule(Severity.HIGH, Kind.PROPERTY, field="archived"),
    SeverityRule(Severity.HIGH, Kind.PROPERTY, field="options.*", gone=True),
    SeverityRule(Severity.MEDIUM, Kind.PROPERTY, field="options.*.hidden"),
    SeverityRule(Severity.LOW, Kind.PROPERTY, field="options.*", gone=False),
    SeverityRule(Severity.MEDIUM, Kind.PROPERTY, field="options.*.value"),
    SeverityRule(Severity.HIGH, Kind.PROPERTY, field="hasUniqueValue"),
    SeverityRule(Severity.HIGH, Kind.PROPERTY, field="calculationFormula"),
    SeverityRule(Severity.MEDIUM, Kind.PROPERTY, field="groupName"),
    SeverityRule(Severity.LOW, Kind.PROPERTY, field="label"),
    SeverityRule(Severity.LOW, Kind.PROPERTY, field="description"),
    SeverityRule(Severity.LOW, Kind.PROPERTY, field="displayOrder"),
    SeverityRule(Severity.LOW, Kind.PROPERTY, field="options.*.label"),
    SeverityRule(Severity.LOW, Kind.PROPERTY, field="options.*.description"),
    SeverityRule(Severity.LOW, Kind.PROPERTY, field="options.*.displayOrder"),
    # pipelines
    SeverityRule(Severity.CRITICAL, Kind.PIPELINE, ChangeOp.REMOVED, ""),
    SeverityRule(Severity.MEDIUM, Kind.PIPELINE, ChangeOp.ADDED, ""),
    SeverityRule(Severity.CRITICAL, Kind.PIPELINE, field="stages.*", gone=True),
    SeverityRule(Severity.MEDIUM, Kind.PIPELINE, field="stages.*", gone=False),
    SeverityRule(Severity.HIGH, Kind.PIPELINE, field="stages.*.metadata.probability"),
    SeverityRule(Severity.HIGH, Kind.PIPELINE, field="stages.*.metadata.isClosed"),
    SeverityRule(Severity.HIGH, Kind.PIPELINE, field="stages.*.archived"),
    SeverityRule(Severity.HIGH, Kind.PIPELINE, field="archived"),
    SeverityRule(Severity.LOW, Kind.PIPELINE, field="label"),
    SeverityRule(Severity.LOW, Kind.PIPELINE, field="displayOrder"),
    SeverityRule(Severity.LOW, Kind.PIPELINE, field="stages.*.label"),
    SeverityRule(Severity.LOW, Kind.PIPELINE, field="stages.*.displayOrder"),
    # lifecycle stages
    SeverityRule(Severity.CRITICAL, Kind.LIFECYCLE_STAGE, ChangeOp.REMOVED, ""),
    SeverityRule(Severity.HIGH, Kind.LIFECYCLE_STAGE, ChangeOp.ADDED, ""),
    SeverityRule(Severity.HIGH, Kind.LIFECYCLE_STAGE, field="hidden"),
    SeverityRule(Severity.LOW, Kind.LIFECYCLE_STAGE, field="label"),
    SeverityRule(Severity.LOW, Kind.LIFECYCLE_STAGE, field="displayOrder"),
    # workflows
    SeverityRule(Severity.HIGH, Kind.WORKFLOW, ChangeOp.REMOVED, ""),
    SeverityRule(Severity.MEDIUM, Kind.WORKFLOW, ChangeOp.ADDED, ""),
    SeverityRule(Severity.HIGH, Kind.WORKFLOW, field="isEnabled"),
    SeverityRule(Severity.HIGH, Kind.WORKFLOW, field="actions.**"),
    SeverityRule(Severity.HIGH, Kind.WORKFLOW, field="enrollmentCriteria.**"),
    SeverityRule(Severity.LOW, Kind.WORKFLOW, field="name"),
    SeverityRule(Severity.LOW, Kind.WORKFLOW, field="description"),
    # custom object schemas
    SeverityRule(Severity.CRITICAL, Kind.OBJECT_SCHEMA, ChangeOp.REMOVED, ""),
    SeverityRule(Severity.MEDIUM, Kind.OBJECT_SCHEMA, ChangeOp.ADDED, ""),
    SeverityRule(Severity.HIGH, Kind.OBJECT_SCHEMA, field="requiredProperties"),
    SeverityRule(Severity.LOW, Kind.OBJECT_SCHEMA, field="labels.**"),
    SeverityRule(Severity.LOW, Kind.OBJECT_SCHEMA, field="description"),
    # association labels
    SeverityRule(Severity.HIGH, Kind.ASSOCIATION_LABEL, ChangeOp.REMOVED, ""),
    SeverityRule(Severity.LOW, Kind.ASSOCIATION_LABEL, ChangeOp.ADDED, ""),
    SeverityRule(Severity.MEDIUM, Kind.ASSOCIATION_LABEL, field="userEnforcedMaxToObjectIds"),
    SeverityRule(Severity.LOW, Kind.ASSOCIATION_LABEL, field="label"),
    # property groups
    SeverityRule(Severity.MEDIUM, Kind.PROPERTY_GROUP, ChangeOp.REMOVED, ""),
    SeverityRule(Severity.LOW, Kind.PROPERTY_GROUP),
    # people and permissions
    SeverityRule(Severity.CRITICAL, Kind.USER, field="superAdmin"),
    SeverityRule(Severity.HIGH, Kind.USER, field="roleIds"),
    SeverityRule(Severity.HIGH, Kind.USER, field="roleId"),
    SeverityRule(Severity.MEDIUM, Kind.USER, ChangeOp.ADDED, ""),
    SeverityRule(Severity.MEDIUM, Kind.USER, ChangeOp.REMOVED, ""),
    SeverityRule(Severity.LOW, Kind.USER),
    SeverityRule(Severity.HIGH, Kind.ROLE, ChangeOp.ADDED, ""),
    SeverityRule(Severity.HIGH, Kind.ROLE, ChangeOp.REMOVED, ""),
    SeverityRule(Severity.LOW, Kind.TEAM),
)


def severity_of(change: Change, rules: Sequence[SeverityRule] = DEFAULT_RULES) -> Severity:
    for rule in rules:
        if rule.matches(change):
            return rule.severity
    return Severity.MEDIUM


def with_severity(change: Change, rules: Sequence[SeverityRule] = DEFAULT_RULES) -> Change:
    return replace(change, severity=severity_of(change, rules))


@lru_cache(maxsize=256)
def _segments(pattern: str) -> tuple[str, ...]:
    return tuple(pattern.split(".")) if pattern else ()


def path_matches(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(path_matches(rest, path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatchcase(path[0], head) and path_matches(rest, path[1:])


def rules_with(overrides: Sequence[SeverityOverride]) -> tuple[SeverityRule, ...]:
    """The config's ``[[severity]]`` rules first, in their order, then the built-in table."""
    configured = tuple(
        SeverityRule(
            o.severity,
            o.kind,
            o.op,
            o.field,
            key=o.key,
        )
        for o in overrides
    )
    return configured + DEFAULT_RULES
