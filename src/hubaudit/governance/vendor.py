"""HubSpot's own changes (DESIGN.md rule 10): what HubSpot did to its own definitions is
``vendor``, reported apart, not the team's defect.

How a change is told to be HubSpot's, from the evidence a snapshot holds:

1. The item is HubSpot-defined: a property with ``hubspotDefined: true``, or an association label
   of category ``HUBSPOT_DEFINED``. Nothing else is ever ``vendor`` (a lifecycle stage, a
   pipeline, a custom property: the team's).
2. Such an item that appears or disappears is HubSpot's: a team can neither create a
   HubSpot-defined item nor delete one (HubSpot rolls out a new default property to every
   portal, or retires one).
3. A field of such an item changes: it is HubSpot's when HubSpot owns the field (the text,
   type and display of its definition, :data:`HUBSPOT_OWNED`; a property's options when HubSpot
   marks them read-only) *and* HubSpot's attribution names no user as the item's editor
   (HubSpot records ``updatedUserId`` for a user's edit, none for its own). A field the team
   sets (``hidden``, ``groupName``, ``options``, ``displayOrder``, ``formField``, an
   association limit) is the team's edit, and so is any change a user is named for.
4. ``[governance] vendor_governed`` names items the team governs even so (key globs such as
   ``property:contacts:*``, or a whole kind): HubSpot's changes to them are defects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from hubaudit.model.changes import Change, ChangeOp
from hubaudit.model.items import ItemKey, Kind

HUBSPOT_OWNED: Mapping[Kind, frozenset[str]] = {
    Kind.PROPERTY: frozenset(
        {
            "label",
            "description",
            "type",
            "fieldType",
            "calculated",
            "calculationFormula",
            "externalOptions",
            "hasUniqueValue",
            "referencedObjectType",
            "showCurrencySymbol",
            "currencyPropertyName",
            "numberDisplayHint",
            "textDisplayHint",
            "dateDisplayHint",
            "dataSensitivity",
            "sensitiveDataCategories",
            "modificationMetadata",
        }
    ),
    Kind.ASSOCIATION_LABEL: frozenset({"label"}),
}
"""Top-level fields of a HubSpot-defined item that HubSpot writes and a team does not."""

_NOUN = {Kind.PROPERTY: "default property", Kind.ASSOCIATION_LABEL: "association label"}


def hubspot_defined(kind: Kind, payload: Mapping[str, Any] | None) -> bool:
    """Is this item one of HubSpot's own definitions?"""
    if payload is None:
        return False
    if kind is Kind.PROPERTY:
        return payload.get("hubspotDefined") is True
    if kind is Kind.ASSOCIATION_LABEL:
        return payload.get("category") == "HUBSPOT_DEFINED"
    return False


def governed_by_team(key: str, patterns: Sequence[str]) -> str | None:
    """The ``vendor_governed`` pattern that names this item, if one does."""
    kind = ItemKey.parse(key).kind.value
    return next((p for p in patterns if p == kind or fnmatchcase(key, p)), None)


def vendor_note(
    change: Change, payload: Mapping[str, Any] | None, governed: Sequence[str] = ()
) -> str | None:
    """Why ``change`` is HubSpot's own (the ``vendor`` classification's note), or ``None`` when
    it is the team's. ``payload`` is the item's canonical payload in the snapshot (in the
    baseline for a removed item)."""
    if not hubspot_defined(change.kind, payload) or governed_by_team(change.key, governed):
        return None
    noun = _NOUN[change.kind]
    if change.op is ChangeOp.ADDED:
        return f"HubSpot added this {noun} (HubSpot-defined)"
    if change.op is ChangeOp.REMOVED:
        return f"HubSpot retired this {noun} (HubSpot-defined)"
    field = change.path[0] if change.path else None
    owned = field in HUBSPOT_OWNED.get(change.kind, frozenset())
    if field == "options" and payload is not None:
        metadata = payload.get("modificationMetadata")
        owned = isinstance(metadata, Mapping) and metadata.get("readOnlyOptions") is True
    if not owned:
        return None
    if change.attribution.user_id is not None:
        return None  # HubSpot names a user as its editor: the team's change
    return f"HubSpot changed its own {field} of this {noun} (no user edited it)"
