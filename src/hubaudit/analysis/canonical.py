"""Canonical form and content hashing.

A canonical payload is what comparison sees: volatile fields removed, identifiable lists turned
into maps keyed by identity, omitted booleans filled with what HubSpot means by omitting them.
The raw JSON is kept beside it, losslessly. Both are stored once by their hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hubaudit.model.items import ConfigItem, JSONValue, Kind


def canonical_json(value: JSONValue) -> str:
    """One text per value: sorted keys, no spaces, non-ASCII escaped.

    Escaped rather than raw UTF-8: a label may hold a lone surrogate (valid JSON, not valid
    UTF-8), and it must be stored and hashed like any other text, not crash the run.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def storable(text: str | None) -> str | None:
    """Text a database column takes: a lone surrogate (half an emoji, cut by HubSpot) becomes
    U+FFFD instead of failing the whole write; everything else is kept as it is."""
    if text is None:
        return None
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def content_hash(value: JSONValue) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def without(payload: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    dropped = set(fields)
    return {key: value for key, value in payload.items() if key not in dropped}


def with_defaults(payload: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Fill the fields HubSpot omits when they hold their default (``hubspotDefined``…)."""
    return {**defaults, **payload}


def keyed_by(
    items: Iterable[Mapping[str, Any]],
    identity: str,
    transform: Callable[[Mapping[str, Any]], dict[str, Any]] = dict,
) -> dict[str, dict[str, Any]]:
    """Turn a list of identifiable objects into a map by identity, so a reorder is not a change.

    Entries that lack the identity keep their place under ``#<index>`` rather than being lost.
    """
    result: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(items):
        ident = item.get(identity)
        name = str(ident) if ident is not None else f"#{index}"
        body = transform(without(item, [identity]))
        while name in result:  # a duplicate identity is itself worth keeping visible
            name += "'"
        result[name] = body
    return result


def without_nulls(value: JSONValue) -> JSONValue:
    """A ``null`` field means no value, as an omitted one does: drop both the same way, so that
    in a canonical payload ``None`` can only mean absent."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def make_item(
    kind: Kind,
    key: str,
    raw: Mapping[str, JSONValue],
    canonical: Mapping[str, JSONValue],
    label: str | None = None,
) -> ConfigItem:
    canonical = without_nulls(dict(canonical))
    return ConfigItem(
        kind=kind,
        key=key,
        canonical=canonical,
        raw=raw,
        canonical_hash=content_hash(canonical),
        raw_hash=content_hash(raw),
        label=label,
    )
