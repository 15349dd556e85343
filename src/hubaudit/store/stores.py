"""Every repository over one database, built in one place and handed to the use cases, so no
use case builds a sibling store of its own."""

from __future__ import annotations

from dataclasses import dataclass

from hubaudit.store.council import CouncilStore
from hubaudit.store.findings import FindingStore
from hubaudit.store.reports import ReportStore
from hubaudit.store.repository import Store


@dataclass(frozen=True)
class Stores:
    store: Store
    """snapshots, baselines, defects"""
    findings: FindingStore
    governance: CouncilStore
    """baseline proposals, change requests, waivers and the governance log"""
    reports: ReportStore
    """stored reports and change sightings"""

    @classmethod
    def over(cls, store: Store) -> Stores:
        return cls(store, FindingStore(store), CouncilStore(store), ReportStore(store))

    @classmethod
    def of(cls, store: Store | Stores) -> Stores:
        """``store`` as it is when it is already the bundle, else the bundle over it."""
        return store if isinstance(store, Stores) else cls.over(store)
