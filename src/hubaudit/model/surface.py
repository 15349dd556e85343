"""The governed surface of a portal and the hub it is on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SurfaceGovernance(StrEnum):
    """How a part of a portal's architecture is governed."""

    READ = "read"
    """hubaudit reads it from HubSpot."""
    MANUAL = "manual"
    """HubSpot exposes no API for it: a periodic sign-off in the config governs it."""


class SurfaceStatus(StrEnum):
    """How a part of the governed surface stands (the first four for read parts)."""

    READ = "read"
    PARTLY_READ = "partly read"
    NOT_VERIFIED = "not verified"
    NOT_READ = "not read"
    SIGNED_OFF = "signed off"
    OVERDUE = "overdue"
    NEVER_SIGNED_OFF = "never signed off"


@dataclass(frozen=True)
class SurfaceArea:
    """One part of a portal's architecture and how it is governed.

    ``read`` areas are what hubaudit reads (their ``status`` from the snapshot's coverage);
    ``manual`` areas are those HubSpot exposes no API for, governed by a periodic sign-off in
    the config: ``signed off``, ``overdue`` or ``never signed off``."""

    id: str
    name: str
    governed: SurfaceGovernance
    status: SurfaceStatus
    detail: str = ""
    signed_off_by: str | None = None
    signed_off_on: datetime | None = None
    due: datetime | None = None


@dataclass(frozen=True)
class HubInfo:
    """The HubSpot account behind a portal, from ``/account-info/v3/details``: enough to link
    to its records in HubSpot's UI."""

    portal_id: int
    ui_domain: str
    object_type_ids: Mapping[str, str] = field(default_factory=dict)
    """objectTypeId by object type name, for the portal's custom objects."""
