"""What an architecture policy is: an id, a default severity and reason, and a check.

A check is a pure function of a snapshot's :class:`~hubaudit.model.PortalView` and the
council's settings for it; it returns the breaches it finds. It judges only parts of the portal
that were read completely, and names them on each breach, so that a part that could not be
read never makes a finding appear or resolve. Each policy lives in the module of what it looks
at (``properties.py``, ``pipelines.py``…); ``builtin.py`` lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hubaudit.config import PolicySettings
from hubaudit.model.changes import Severity
from hubaudit.model.findings import Breach
from hubaudit.model.items import JSONValue
from hubaudit.model.view import PortalView


@dataclass(frozen=True)
class Rules:
    """A policy's effective settings: the council's ``[policies.<id>]`` table over defaults."""

    id: str
    severity: Severity
    reason: str
    settings: PolicySettings

    def breach(
        self,
        subject: str,
        key: str,
        message: str,
        scopes: Sequence[str],
        detail: Mapping[str, JSONValue] | None = None,
        label: str | None = None,
    ) -> Breach:
        return Breach(
            policy=self.id,
            subject=subject,
            key=key,
            message=message,
            severity=self.severity,
            scopes=tuple(sorted(set(scopes))),
            detail=dict(detail or {}),
            label=label,
            reason=self.reason,
        )

    def object_types(self, default: Sequence[str] | None = None) -> tuple[str, ...] | None:
        """The object types the council limited the policy to (``None``: every one)."""
        if self.settings.object_types is not None:
            return self.settings.object_types
        return tuple(default) if default is not None else None


Check = Callable[[PortalView, Rules], list[Breach]]


@dataclass(frozen=True)
class Policy:
    id: str
    severity: Severity
    reason: str
    checks: str
    """One line: what the policy looks at, for ``policies list``."""
    check: Check
    per_item: bool = True
    """Is each breach about one item alone? Then a part read without some of its (sensitive)
    items still says whether that item breaks the policy. A breach about several items (a set
    of duplicates, an empty group, a count of super admins) is only judged, resolved or told
    apart from its waiver when every item of its parts was read."""

    def rules(self, settings: PolicySettings | None) -> Rules:
        given = settings or PolicySettings(self.id)
        return Rules(
            self.id,
            Severity(given.severity) if given.severity else self.severity,
            given.reason or self.reason,
            given,
        )


def object_type_of(key: str) -> str:
    """``contacts`` of ``property:contacts:email`` (and of ``pipeline:contacts:x``): what
    ``ItemKey.parse(key).object_type`` says, without building the key for every item."""
    return key.partition(":")[2].split(":", 1)[0]


def wanted(object_type: str, only: tuple[str, ...] | None) -> bool:
    return only is None or object_type in only
