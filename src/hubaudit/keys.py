"""The shape of an item key per kind (DESIGN.md, "Keys"), to refuse a key that names no item.

``property:deals`` is a part of a portal, not an item: a change request or an ``impact`` that
took it would plan or look at nothing, and say so only by silence.
"""

from __future__ import annotations

from hubaudit.model.items import Kind

KEY_FORMS: dict[Kind, tuple[str, ...]] = {
    Kind.PROPERTY: ("objectType", "name"),
    Kind.PROPERTY_GROUP: ("objectType", "name"),
    Kind.PIPELINE: ("objectType", "pipelineId"),
    Kind.WORKFLOW: ("flowId",),
    Kind.LIFECYCLE_STAGE: ("objectType", "value"),
    Kind.OBJECT_SCHEMA: ("fullyQualifiedName",),
    Kind.ASSOCIATION_LABEL: ("fromTypeId", "toTypeId", "category", "typeId"),
    Kind.USER: ("id",),
    Kind.TEAM: ("id",),
    Kind.ROLE: ("id",),
}
"""The segments after ``kind:``; the last one takes the rest of the key."""

_EXAMPLES = {
    Kind.PROPERTY: "property:deals:amount",
    Kind.PROPERTY_GROUP: "property_group:deals:dealinformation",
    Kind.PIPELINE: "pipeline:deals:default",
    Kind.WORKFLOW: "workflow:1201025",
    Kind.LIFECYCLE_STAGE: "lifecycle_stage:contacts:lead",
    Kind.OBJECT_SCHEMA: "object_schema:p_cars",
    Kind.ASSOCIATION_LABEL: "association_label:0-3:0-2:USER_DEFINED:106",
    Kind.USER: "user:1001",
    Kind.TEAM: "team:2001",
    Kind.ROLE: "role:3001",
}


def key_form(kind: Kind) -> str:
    """``property:{objectType}:{name}``."""
    return ":".join([kind.value, *(f"{{{name}}}" for name in KEY_FORMS[kind])])


def key_problem(key: str) -> str | None:
    """Why ``key`` names no item (its kind unknown, or a segment missing); ``None`` if whole."""
    kind_name, _, rest = key.partition(":")
    try:
        kind = Kind(kind_name)
    except ValueError:
        kinds = ", ".join(k.value for k in Kind)
        return (
            f"{key!r} is not an item key: it starts with a kind ({kinds}), "
            "e.g. property:deals:amount"
        )
    names = KEY_FORMS[kind]
    segments = rest.split(":", len(names) - 1) if rest else []
    if len(segments) < len(names) or not all(segments):
        return (
            f"{key!r} is not a whole item key: a {kind.value} key is {key_form(kind)}, "
            f"e.g. {_EXAMPLES[kind]}"
        )
    return None


# Identity keys -------------------------------------------------------------------------------
# HubSpot gives each portal its own ids for pipelines, workflows, association labels, custom
# objects, users, teams and roles. An item planned for a portal that does not hold it yet (an item
# promoted from a sandbox) cannot be named by the id the portal will give it; it is named by what
# identifies it for a person instead, in braces where the id goes: ``workflow:{Renewal reminder}``,
# ``pipeline:deals:{Partner pipeline}``, ``user:{ada@example.com}``.

IDENTITY_FIELDS: dict[Kind, str] = {
    Kind.PIPELINE: "label",
    Kind.WORKFLOW: "name",
    Kind.ASSOCIATION_LABEL: "label",
    Kind.OBJECT_SCHEMA: "name",
    Kind.USER: "email",
    Kind.TEAM: "name",
    Kind.ROLE: "name",
}
"""Kinds whose key ends in an id the portal assigns, and the field that identifies an item."""


def identity_key(key_prefix: str, identity: str) -> str:
    """``workflow`` and ``Renewal reminder`` → ``workflow:{Renewal reminder}``."""
    return f"{key_prefix}:{{{identity}}}"


def split_identity_key(key: str) -> tuple[Kind, str, str] | None:
    """``pipeline:deals:{Partner}`` → (pipeline, ``pipeline:deals``, ``Partner``); ``None`` for a
    key that names its item by id."""
    kind_name, _, rest = key.partition(":")
    try:
        kind = Kind(kind_name)
    except ValueError:
        return None
    if kind not in IDENTITY_FIELDS:
        return None
    segments = rest.split(":", len(KEY_FORMS[kind]) - 1) if rest else []
    if len(segments) != len(KEY_FORMS[kind]):
        return None
    last = segments[-1]
    if len(last) < 3 or not (last.startswith("{") and last.endswith("}")):
        return None
    return kind, ":".join([kind_name, *segments[:-1]]), last[1:-1]


def identity_of(kind: Kind, payload: object) -> str | None:
    """What identifies an item of ``kind`` for a person (its label, name or email)."""
    field = IDENTITY_FIELDS.get(kind)
    if field is None or not isinstance(payload, dict):
        return None
    value = payload.get(field)
    if not isinstance(value, str) or not value:
        return None
    return value.casefold() if kind is Kind.USER else value


def names_item(planned_key: str, key: str, payload: object) -> bool:
    """Does a planned key name the item ``key`` whose payload is ``payload``? By its key, or by
    an identity key whose part and identity are the item's."""
    if planned_key == key:
        return True
    parts = split_identity_key(planned_key)
    if parts is None:
        return False
    kind, prefix, identity = parts
    if key.rsplit(":", 1)[0] != prefix:  # the portal's ids hold no colon
        return False
    wanted = identity.casefold() if kind is Kind.USER else identity
    return identity_of(kind, payload) == wanted
