"""Findings: breaches of architecture policies, their waivers and updates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hubaudit.model.changes import Severity
from hubaudit.model.items import JSONValue


class FindingStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    WAIVED = "waived"


@dataclass(frozen=True)
class Breach:
    """What one policy found in one snapshot, before it is tracked as a finding.

    ``subject`` is what the breach is about, stable from night to night (an item key, or
    ``property:contacts:leadsource`` for a set of likely duplicates); with the policy it makes
    the fingerprint. ``scopes`` are the parts it was judged from: while one of them is not read
    completely, its finding is neither seen again nor resolved."""

    policy: str
    subject: str
    key: str
    message: str
    severity: Severity
    scopes: tuple[str, ...]
    detail: Mapping[str, JSONValue] = field(default_factory=dict)
    label: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class FindingWaiver:
    by: str
    at: datetime
    reason: str
    until: datetime


@dataclass(frozen=True)
class Finding:
    """A policy breach tracked over time by its fingerprint (portal, policy, subject)."""

    id: int
    portal: str
    fingerprint: str
    policy: str
    subject: str
    key: str
    status: FindingStatus
    severity: Severity
    message: str
    detail: Mapping[str, JSONValue]
    scopes: tuple[str, ...]
    first_seen_at: datetime
    last_seen_at: datetime
    occurrences: int
    label: str | None = None
    reason: str = ""
    resolution: str | None = None
    resolved_at: datetime | None = None
    waiver: FindingWaiver | None = None


@dataclass(frozen=True)
class FindingUpdate:
    """What one evaluation did to the findings table."""

    opened: tuple[int, ...] = ()
    seen_again: tuple[int, ...] = ()
    reopened: tuple[int, ...] = ()
    resolved: tuple[int, ...] = ()
    expired_waivers: tuple[int, ...] = ()
