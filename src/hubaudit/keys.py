"""The shape of an item key per kind (DESIGN.md, "Keys"), to refuse a key that names no item.

``property:deals`` is a part of a portal, not an item: a change request or an ``impact`` that
took it would plan or look at nothing, and say so only by silence.
"""

from __future__ import annotations

from hubaudit.model import Kind

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
