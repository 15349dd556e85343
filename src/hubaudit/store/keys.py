"""Which item keys a portal has ever held: in any stored snapshot or any baseline version.

A key held nowhere is a typo until shown otherwise; these answer that, and offer the keys it
may have meant."""

from __future__ import annotations

from sqlalchemy import exists, select, union

from hubaudit.model import Kind
from hubaudit.store.repository import Store
from hubaudit.store.tables import BaselineItemRow, BaselineRow, ItemVersionRow, PortalRow


def key_ever_held(store: Store, portal: str, key: str) -> bool:
    """Does any stored snapshot or baseline version of ``portal`` hold ``key``?"""
    in_snapshots = exists().where(
        ItemVersionRow.portal_id == PortalRow.id, ItemVersionRow.key == key
    )
    in_baselines = exists().where(
        BaselineRow.portal_id == PortalRow.id,
        BaselineItemRow.baseline_id == BaselineRow.id,
        BaselineItemRow.key == key,
    )
    with store.session() as session:
        found = session.scalar(
            select(PortalRow.id).where(PortalRow.name == portal, in_snapshots | in_baselines)
        )
    return found is not None


def keys_ever_held(store: Store, portal: str, kind: Kind) -> list[str]:
    """Every key of ``kind`` a stored snapshot or baseline version of ``portal`` holds."""
    held = union(
        select(ItemVersionRow.key)
        .join(PortalRow, ItemVersionRow.portal_id == PortalRow.id)
        .where(PortalRow.name == portal, ItemVersionRow.kind == kind.value),
        select(BaselineItemRow.key)
        .join(BaselineRow, BaselineItemRow.baseline_id == BaselineRow.id)
        .join(PortalRow, BaselineRow.portal_id == PortalRow.id)
        .where(PortalRow.name == portal, BaselineItemRow.kind == kind.value),
    )
    with store.session() as session:
        return sorted(session.scalars(select(held.subquery().c.key)))
