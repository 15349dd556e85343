"""Human names for what hubaudit reports: items, field paths, values, links into HubSpot's UI,
summaries of added and removed items, and the value that puts a change back.

Keys and paths are exact but unreadable (``user:2305118``, ``stages.3``, a team's list of user
ids); a RevOps lead acts on ``sam.okafor@acme.com (Sam Okafor)``, ``stages["Waiting on us"]`` and
the team members' emails. :class:`Names` reads them from the canonical payloads of two points —
the current snapshot and the baseline — preferring the current one, so a removed item keeps the
name it had in the baseline. Anything it cannot name falls back to the raw key, path or value:
a name is an aid beside the key, never a replacement for it (JSON and tooltips keep raw keys).

Pure: it imports the model only, reads nothing, and indexes the payloads lazily (a read command
that names one item pays for one item)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

from hubaudit.model.changes import Change, ChangeNames, ChangeOp
from hubaudit.model.items import STANDARD_OBJECT_TYPE_IDS, JSONValue
from hubaudit.model.surface import HubInfo

Payload = Mapping[str, Any]
Payloads = Mapping[str, Payload]
Path = Sequence[str | int]
Summary = tuple[tuple[str, str], ...]

ORDER_SUFFIX = " order"
NONE_TEXT = "(none)"
_TYPE_IDS = {name: type_id for type_id, name in STANDARD_OBJECT_TYPE_IDS.items()}

# Which id a field of an item holds, by kind and field name: those values are named.
_ID_FIELDS: Mapping[str, Mapping[str, str]] = {
    "user": {
        "roleIds": "role",
        "roleId": "role",
        "primaryTeamId": "team",
        "secondaryTeamIds": "team",
    },
    "team": {"userIds": "user", "secondaryUserIds": "user"},
}
# A workflow sets or tests a CRM property; these properties hold the ids of config items.
_PROPERTY_IDS = {
    "dealstage": "stage",
    "hs_pipeline_stage": "stage",
    "pipeline": "pipeline",
    "hs_pipeline": "pipeline",
    "lifecyclestage": "lifecycle",
}
_PROPERTY_NAME_FIELDS = ("property_name", "property", "propertyName")
# Map-valued fields whose map keys are identities with labels: named in paths.
_LABELLED_MAPS = {"pipeline": "stages", "property": "options"}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _json(value: JSONValue) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class Names:
    """Names of one portal's items at two points: ``current`` (the snapshot) first, then
    ``baseline`` (for what the snapshot no longer holds). Both map key → canonical payload."""

    def __init__(self, current: Payloads, baseline: Payloads | None = None) -> None:
        self._current = current
        self._baseline: Payloads = baseline or {}

    def with_payloads(self, current: Payloads, baseline: Payloads | None = None) -> Names:
        """These names and more items (which win over what these names hold)."""
        return Names({**self._current, **current}, {**self._baseline, **(baseline or {})})

    # items -------------------------------------------------------------------------------
    def payload(self, key: str) -> Payload | None:
        found = self._current.get(key)
        return found if found is not None else self._baseline.get(key)

    def item(self, key: str) -> str:
        """The item's human name (``sam.okafor@acme.com (Sam Okafor)``), else its key."""
        return self.name_of(key) or key

    def name_of(self, key: str) -> str | None:
        """The item's human name, or ``None`` when it has none (unknown key, no label)."""
        payload = self.payload(key)
        if payload is None:
            return self._part_name(key)
        kind, _, rest = key.partition(":")
        namer = _ITEM_NAMERS.get(kind)
        return namer(self, rest, payload) if namer is not None else _text(payload.get("label"))

    def _part_name(self, key: str) -> str | None:
        """A part (``lifecycle_stage:contacts``, ``pipeline:deals``): its siblings' order."""
        kind, _, rest = key.partition(":")
        if not rest or ":" in rest:
            return None
        plural = {"lifecycle_stage": "lifecycle stages", "pipeline": "pipelines"}.get(kind)
        return f"{self.object_name(rest)} {plural}" if plural else None

    def _user(self, _rest: str, payload: Payload) -> str | None:
        email = _text(payload.get("email"))
        person = _joined(" ", payload.get("firstName"), payload.get("lastName"))
        if email and person:
            return f"{email} ({person})"
        return email or person or None

    def _property(self, rest: str, payload: Payload) -> str | None:
        label = _text(payload.get("label"))
        name = _text(payload.get("name")) or rest.rpartition(":")[2]
        if label is None:
            return None
        if _squash(label) == _squash(name):
            return label
        return f"{label} ({name})"

    def _named(self, _rest: str, payload: Payload) -> str | None:
        return _text(payload.get("name"))

    def _labelled(self, _rest: str, payload: Payload) -> str | None:
        return _text(payload.get("label"))

    def _object_schema(self, rest: str, payload: Payload) -> str | None:
        labels = payload.get("labels")
        if isinstance(labels, Mapping):
            return _text(labels.get("singular")) or _text(labels.get("plural"))
        return _text(payload.get("name"))

    def _association_label(self, rest: str, payload: Payload) -> str | None:
        pair = self._pair(rest.split(":"))
        label = _text(payload.get("label")) or "unlabelled"
        return f"{label} ({pair})" if pair else label

    def _pair(self, parts: Sequence[str]) -> str:
        """``companies → contacts``: an association's object types, from a key's parts."""
        if len(parts) < 2:
            return ""
        return f"{self.object_name(parts[0])} → {self.object_name(parts[1])}"

    # object types ------------------------------------------------------------------------
    @cached_property
    def _object_types(self) -> dict[str, str]:
        """Object type name by objectTypeId and by fullyQualifiedName (custom objects' plural
        label, standard objects' canonical name)."""
        names = dict(STANDARD_OBJECT_TYPE_IDS)
        for source in (self._baseline, self._current):  # the current one wins
            for key, payload in source.items():
                if not key.startswith("object_schema:"):
                    continue
                labels = payload.get("labels")
                plural = _text(labels.get("plural")) if isinstance(labels, Mapping) else None
                name = plural or _text(payload.get("name")) or key.partition(":")[2]
                type_id = _text(payload.get("objectTypeId"))
                if type_id:
                    names[type_id] = name
                names[key.partition(":")[2]] = name
        return names

    def object_name(self, object_type: str) -> str:
        """``contacts`` for ``0-1``, ``Subscriptions`` for a custom object's id or name."""
        return self._object_types.get(object_type, object_type)

    # ids ---------------------------------------------------------------------------------
    @cached_property
    def _ids(self) -> dict[str, dict[str, str]]:
        """Names of the ids items hold, by what they identify: users, teams, roles, pipelines
        and pipeline stages, lifecycle stages."""
        found: dict[str, dict[str, str]] = {
            "user": {},
            "email": {},
            "team": {},
            "role": {},
            "pipeline": {},
            "stage": {},
            "lifecycle": {},
        }
        for source in (self._baseline, self._current):
            for key, payload in source.items():
                kind, _, rest = key.partition(":")
                if kind in ("user", "team", "role"):
                    name = _ITEM_NAMERS[kind](self, rest, payload)
                    if name:
                        found[kind][rest] = name
                    email = _text(payload.get("email"))
                    if email:
                        found["email"][rest] = email
                elif kind == "pipeline":
                    pipeline_id = rest.partition(":")[2]
                    label = _text(payload.get("label"))
                    if label:
                        found["pipeline"][pipeline_id] = label
                    stages = payload.get("stages")
                    if isinstance(stages, Mapping):
                        for stage_id, stage in stages.items():
                            if isinstance(stage, Mapping) and _text(stage.get("label")):
                                found["stage"][str(stage_id)] = str(stage["label"])
                elif kind == "lifecycle_stage":
                    label = _text(payload.get("label"))
                    if label:
                        found["lifecycle"][rest.partition(":")[2]] = label
        return found

    def id_name(self, what: str, ident: object) -> str | None:
        """The name of a user, team, role, pipeline, stage or lifecycle stage id."""
        if isinstance(ident, bool) or not isinstance(ident, str | int):
            return None
        return self._ids.get(what, {}).get(str(ident))

    # paths -------------------------------------------------------------------------------
    def path(self, key: str, field_path: Path | str) -> str:
        """``stages["Waiting on us"].label`` for ``stages.3.label``; options by label too."""
        segments = _segments(field_path)
        kind = key.partition(":")[0]
        if segments and isinstance(segments[-1], str) and segments[-1].endswith(ORDER_SUFFIX):
            return ".".join(str(s) for s in segments)
        text = ""
        labelled = _LABELLED_MAPS.get(kind)
        for index, segment in enumerate(segments):
            label = None
            if index == 1 and labelled is not None and segments[0] == labelled:
                label = self._entry_label(key, labelled, str(segment))
            if label is not None:
                text += f"[{_json(label)}]"
            else:
                text += ("." if text else "") + str(segment)
        return text

    def _entry_label(self, key: str, field: str, ident: str) -> str | None:
        for source in (self._current, self._baseline):
            payload = source.get(key)
            entries = payload.get(field) if payload is not None else None
            entry = entries.get(ident) if isinstance(entries, Mapping) else None
            if isinstance(entry, Mapping) and _text(entry.get("label")):
                return str(entry["label"])
        return None

    # values ------------------------------------------------------------------------------
    def value(self, key: str, field_path: Path | str, value: JSONValue) -> str | None:
        """The value as text with names (team members by email, role ids by name, stage ids by
        label), or ``None`` when no name applies: show the raw value then."""
        segments = _segments(field_path)
        what = self._id_kind(key, segments)
        if what is not None:
            named = self._ids_text(what, value)
            if named is not None:
                return named
        if isinstance(value, Mapping):
            return self._entry_text(key, segments, value)
        return None

    def _id_kind(self, key: str, segments: Sequence[str | int]) -> str | None:
        kind = key.partition(":")[0]
        names = [s for s in segments if isinstance(s, str) and not s.isdigit()]
        last = names[-1] if names else None
        if last is None:
            return None
        by_field = _ID_FIELDS.get(kind, {}).get(last)
        if by_field is not None:
            return by_field
        if kind == "workflow":
            lowered = last.lower()
            if lowered.endswith(("userid", "userids", "user_id", "user_ids")):
                return "user"
            prop = self._tested_property(key, segments)
            if prop is not None:
                return _PROPERTY_IDS.get(prop)
        return None

    def _tested_property(self, key: str, segments: Sequence[str | int]) -> str | None:
        """The CRM property a workflow's action or filter at ``segments`` sets or tests."""
        for source in (self._current, self._baseline):
            node: Any = source.get(key)
            found = None
            for segment in segments:
                if isinstance(node, Mapping):
                    for name in _PROPERTY_NAME_FIELDS:
                        if isinstance(node.get(name), str):
                            found = node[name]
                    node = node.get(str(segment))
                elif isinstance(node, list) and isinstance(segment, int | str):
                    index = int(segment) if str(segment).isdigit() else -1
                    node = node[index] if 0 <= index < len(node) else None
                else:
                    break
            if found is not None:
                return str(found)
        return None

    def _ids_text(self, what: str, value: JSONValue) -> str | None:
        if isinstance(value, list):
            # a list of people by email alone: names would make a team's members unreadable
            each = "email" if what == "user" else what
            named = [self.id_name(each, v) for v in value]
            if not any(named):
                return None
            return ", ".join(n or str(v) for n, v in zip(named, value, strict=True)) or "[]"
        if isinstance(value, str) and ";" in value and what in ("stage", "lifecycle", "user"):
            parts = value.split(";")
            named = [self.id_name(what, p) for p in parts]
            if any(named):
                return ", ".join(n or p for n, p in zip(named, parts, strict=True))
        return self.id_name(what, value)

    def _entry_text(self, key: str, segments: Sequence[str | int], value: Payload) -> str | None:
        """A whole stage or option added or removed: its label and what matters of it."""
        label = _text(value.get("label"))
        if label is None:
            return None
        return _json(label) + _entry_details(value)

    # links -------------------------------------------------------------------------------
    def link(self, key: str, hub: HubInfo | None) -> str | None:
        return hubspot_url(key, hub)

    # summaries ---------------------------------------------------------------------------
    def summary(self, key: str, payload: Payload | None = None) -> Summary:
        """An added or removed item by the fields that matter for its kind."""
        body = payload if payload is not None else self.payload(key)
        if body is None:
            return ()
        kind, _, rest = key.partition(":")
        summarise = _SUMMARIES.get(kind)
        rows = summarise(self, rest, body) if summarise is not None else []
        return tuple((name, text) for name, text in rows if text)

    def _property_summary(self, rest: str, p: Payload) -> list[tuple[str, str]]:
        object_type, _, _name = rest.partition(":")
        group = _text(p.get("groupName"))
        group_name = self.name_of(f"property_group:{object_type}:{group}") if group else None
        if group_name == group:
            group_name = None
        options = p.get("options")
        return [
            ("label", _text(p.get("label")) or ""),
            ("type", "/".join(t for t in (_text(p.get("type")), _text(p.get("fieldType"))) if t)),
            ("group", f"{group_name} ({group})" if group_name and group else group or ""),
            ("options", _count(options)),
            ("description", _text(p.get("description")) or ""),
            ("hidden", "yes" if p.get("hidden") is True else ""),
            ("archived", "yes" if p.get("archived") is True else ""),
        ]

    def _pipeline_summary(self, rest: str, p: Payload) -> list[tuple[str, str]]:
        stages = p.get("stages")
        labels = []
        if isinstance(stages, Mapping):
            ordered = sorted(
                (s for s in stages.values() if isinstance(s, Mapping)),
                key=lambda s: _order(s.get("displayOrder")),
            )
            labels = [str(s.get("label")) for s in ordered]
        return [
            ("label", _text(p.get("label")) or ""),
            ("object", self.object_name(rest.partition(":")[0])),
            ("stages", f"{len(labels)}: {', '.join(labels)}" if labels else ""),
        ]

    def _workflow_summary(self, _rest: str, p: Payload) -> list[tuple[str, str]]:
        enabled = p.get("isEnabled")
        object_type = _text(p.get("objectTypeId"))
        return [
            ("name", _text(p.get("name")) or ""),
            ("enabled", "on" if enabled is True else "off" if enabled is False else ""),
            ("object", self.object_name(object_type) if object_type else ""),
            ("type", _text(p.get("flowType")) or ""),
            ("actions", _count(p.get("actions"))),
        ]

    def _user_summary(self, _rest: str, p: Payload) -> list[tuple[str, str]]:
        roles = _list(p.get("roleIds"))
        team = p.get("primaryTeamId")
        return [
            ("email", _text(p.get("email")) or ""),
            ("name", _joined(" ", p.get("firstName"), p.get("lastName"))),
            ("super admin", "yes" if p.get("superAdmin") is True else "no"),
            ("roles", self._ids_text("role", roles) or ", ".join(map(str, roles or []))),
            ("team", (self.id_name("team", team) or str(team)) if team else ""),
        ]

    def _team_summary(self, _rest: str, p: Payload) -> list[tuple[str, str]]:
        members = _list(p.get("userIds"))
        who = self._ids_text("user", members) or ", ".join(map(str, members))
        return [
            ("name", _text(p.get("name")) or ""),
            ("members", f"{len(members)}: {who}" if members else "0"),
        ]

    def _role_summary(self, _rest: str, p: Payload) -> list[tuple[str, str]]:
        return [("name", _text(p.get("name")) or "")]

    def _group_summary(self, rest: str, p: Payload) -> list[tuple[str, str]]:
        object_type, _, name = rest.partition(":")
        prefix = f"property:{object_type}:"
        held = sum(
            1
            for k, v in self._current.items()
            if k.startswith(prefix) and v.get("groupName") == name
        )
        return [
            ("label", _text(p.get("label")) or ""),
            ("name", _text(p.get("name")) or name),
            ("properties", str(held) if self._current else ""),
        ]

    def _lifecycle_summary(self, rest: str, p: Payload) -> list[tuple[str, str]]:
        order = p.get("displayOrder")
        return [
            ("label", _text(p.get("label")) or ""),
            ("object", self.object_name(rest.partition(":")[0])),
            ("position", str(order + 1) if isinstance(order, int) else ""),
            ("hidden", "yes" if p.get("hidden") is True else ""),
        ]

    def _schema_summary(self, _rest: str, p: Payload) -> list[tuple[str, str]]:
        labels = _as_payload(p.get("labels")) or {}
        required = p.get("requiredProperties")
        return [
            ("labels", _joined(" / ", labels.get("singular"), labels.get("plural"))),
            ("primary property", _text(p.get("primaryDisplayProperty")) or ""),
            ("required", ", ".join(map(str, required)) if isinstance(required, list) else ""),
        ]

    def _association_summary(self, rest: str, p: Payload) -> list[tuple[str, str]]:
        parts = rest.split(":")
        limit = p.get("userEnforcedMaxToObjectIds")
        return [
            ("label", _text(p.get("label")) or "unlabelled"),
            ("objects", self._pair(parts)),
            ("category", _text(p.get("category")) or ""),
            ("limit", str(limit) if isinstance(limit, int) else ""),
        ]

    # a change, named -----------------------------------------------------------------------
    def revert(self, change: Change) -> str | None:
        """How to put the change back, as text with names: the baseline value to restore."""
        name = self.item(change.key)
        if change.field is None:
            if change.op is ChangeOp.ADDED:
                return f"delete {name}"
            if change.op is ChangeOp.REMOVED:
                summary = self.summary(change.key, _as_payload(change.before))
                return f"recreate {name}" + _summary_tail(summary)
            return None
        path: Path = change.path or change.field
        where = self.path(change.key, path)
        before, after = change.before, change.after
        if change.field.endswith(ORDER_SUFFIX) and isinstance(before, list):
            return f"put {where} back as: " + ", ".join(str(v) for v in before)
        if before is None:
            return f"remove {where}"
        if after is None and isinstance(before, Mapping) and _text(before.get("label")):
            return f"restore {where}" + _entry_details(before)
        if isinstance(before, list) and isinstance(after, list):
            steps = []
            extra = [v for v in after if v not in before]
            gone = [v for v in before if v not in after]
            if extra:
                steps.append(f"remove {self._values_text(change.key, path, extra)} from {where}")
            if gone:
                steps.append(f"add {self._values_text(change.key, path, gone)} back to {where}")
            if steps:
                return "; ".join(steps)
        return f"set {where} back to {self._values_text(change.key, path, before)}"

    def _values_text(self, key: str, path: Path, value: JSONValue) -> str:
        return self.value(key, path, value) or _short(value, 200, quoted=True)

    def change(self, change: Change) -> Change:
        """The change with its names attached (``Change.names``)."""
        path: Path = change.path or (change.field or "")
        whole = change.field is None
        summary: Summary = ()
        if whole and change.op is not ChangeOp.MODIFIED:
            value = change.after if change.op is ChangeOp.ADDED else change.before
            summary = self.summary(change.key, _as_payload(value))
        return replace(
            change,
            names=ChangeNames(
                item=self.name_of(change.key),
                field=None if whole else self.path(change.key, path),
                before=None if whole else self.value(change.key, path, change.before),
                after=None if whole else self.value(change.key, path, change.after),
                revert=self.revert(change),
                summary=summary,
            ),
        )

    def changes(self, changes: Iterable[Change]) -> list[Change]:
        return [self.change(c) for c in changes]


_ITEM_NAMERS: Mapping[str, Callable[[Names, str, Payload], str | None]] = {
    "user": Names._user,
    "property": Names._property,
    "workflow": Names._named,
    "team": Names._named,
    "role": Names._named,
    "pipeline": Names._labelled,
    "property_group": Names._labelled,
    "lifecycle_stage": Names._labelled,
    "object_schema": Names._object_schema,
    "association_label": Names._association_label,
}
_SUMMARIES: Mapping[str, Callable[[Names, str, Payload], list[tuple[str, str]]]] = {
    "property": Names._property_summary,
    "pipeline": Names._pipeline_summary,
    "workflow": Names._workflow_summary,
    "user": Names._user_summary,
    "team": Names._team_summary,
    "role": Names._role_summary,
    "property_group": Names._group_summary,
    "lifecycle_stage": Names._lifecycle_summary,
    "object_schema": Names._schema_summary,
    "association_label": Names._association_summary,
}


def hubspot_url(key: str, hub: HubInfo | None) -> str | None:
    """The item's page in HubSpot's UI, on the account's own UI host, where HubSpot has one:
    a property's edit panel, a workflow's editor, a pipeline's settings, the users' settings."""
    if hub is None:
        return None
    kind, _, rest = key.partition(":")
    base = f"https://{hub.ui_domain}"
    if kind == "workflow" and rest.isdigit():
        return f"{base}/workflows/{hub.portal_id}/platform/flow/{rest}/edit"
    if kind in ("property", "pipeline"):
        object_type, _, ident = rest.partition(":")
        type_id = _TYPE_IDS.get(object_type) or hub.object_type_ids.get(object_type)
        if type_id is None or not ident:
            return None
        if kind == "pipeline":
            pipeline = quote(ident, safe="")
            return f"{base}/pipelines-settings/{hub.portal_id}/object/{type_id}/{pipeline}"
        query = urlencode({"type": type_id, "action": "edit", "property": ident}, quote_via=quote)
        return f"{base}/property-settings/{hub.portal_id}/properties?{query}"
    if kind == "user" and rest:
        return f"{base}/settings/{hub.portal_id}/users"
    return None


def _segments(field_path: Path | str) -> list[str | int]:
    if isinstance(field_path, str):
        return list(field_path.split(".")) if field_path else []
    return list(field_path)


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _joined(separator: str, *values: object) -> str:
    return separator.join(t for t in map(_text, values) if t)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _order(value: object) -> int:
    return value if isinstance(value, int) else 0


def _count(value: object) -> str:
    if isinstance(value, Mapping | list):
        return str(len(value))
    return ""


def _entry_details(entry: Payload) -> str:
    """`` (isClosed false, probability 0.9)``: a stage's metadata; nothing for an option."""
    metadata = entry.get("metadata")
    if not isinstance(metadata, Mapping) or not metadata:
        return ""
    return " (" + ", ".join(f"{k} {_short(v)}" for k, v in sorted(metadata.items())) + ")"


def _short(value: JSONValue, width: int = 60, quoted: bool = False) -> str:
    if value is None:
        text = NONE_TEXT
    else:
        text = value if isinstance(value, str) and not quoted else _json(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _as_payload(value: object) -> Payload | None:
    return value if isinstance(value, Mapping) else None


def _summary_tail(summary: Summary) -> str:
    return f" ({'; '.join(f'{name} {text}' for name, text in summary)})" if summary else ""
