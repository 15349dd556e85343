"""Which item keys a portal has ever held: in any stored snapshot or any baseline version.

A key held nowhere is a typo until shown otherwise; these answer that, and offer the keys it
may have meant."""

from __future__ import annotations

from difflib import get_close_matches

from sqlalchemy import exists, select, union

from hubaudit.model.items import Kind, kind_of
from hubaudit.store.reads import StoreReader
from hubaudit.store.schema import baseline_items, baselines, item_versions, portals


def key_ever_held(store: StoreReader, portal: str, key: str) -> bool:
    """Does any stored snapshot or baseline version of ``portal`` hold ``key``?"""
    in_snapshots = exists().where(
        item_versions.c.portal_id == portals.c.id, item_versions.c.key == key
    )
    in_baselines = exists().where(
        baselines.c.portal_id == portals.c.id,
        baseline_items.c.baseline_id == baselines.c.id,
        baseline_items.c.key == key,
    )
    with store.connection() as connection:
        found = connection.scalar(
            select(portals.c.id).where(portals.c.name == portal, in_snapshots | in_baselines)
        )
    return found is not None


def keys_ever_held(store: StoreReader, portal: str, kind: Kind) -> list[str]:
    """Every key of ``kind`` a stored snapshot or baseline version of ``portal`` holds."""
    held = union(
        select(item_versions.c.key)
        .join(portals, item_versions.c.portal_id == portals.c.id)
        .where(portals.c.name == portal, item_versions.c.kind == kind.value),
        select(baseline_items.c.key)
        .join(baselines, baseline_items.c.baseline_id == baselines.c.id)
        .join(portals, baselines.c.portal_id == portals.c.id)
        .where(portals.c.name == portal, baseline_items.c.kind == kind.value),
    )
    with store.connection() as connection:
        return sorted(connection.scalars(select(held.subquery().c.key)))


def unknown_key(store: StoreReader, portal: str, key: str) -> str:
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
