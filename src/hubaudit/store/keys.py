"""Which item keys a portal has ever held: in any stored snapshot or any baseline version.

A key held nowhere is a typo until shown otherwise; these answer that, and offer the keys it
may have meant."""

from __future__ import annotations

from difflib import get_close_matches

from sqlalchemy import exists, select, union

from hubaudit.model.items import Kind, kind_of
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


def unknown_key(store: Store, portal: str, key: str) -> str:
    """Why ``key`` is not one of the portal's, with the keys nearest to it that are."""
    held = keys_ever_held(store, portal, kind_of(key))
    scope, _, name = key.rpartition(":")
    # within its part, the name alone is compared: every key there shares the long prefix
    siblings = {k.rpartition(":")[2]: k for k in held if k.rpartition(":")[0] == scope}
    if siblings:
        close = [siblings[n] for n in get_close_matches(name, list(siblings), n=3, cutoff=0.6)]
    else:
        close = get_close_matches(key, held, n=3, cutoff=0.8)
    guess = f" (did you mean {' or '.join(repr(k) for k in close)}?)" if close else ""
    return f"unknown key {key!r}: no snapshot or baseline of {portal} holds it{guess}"
