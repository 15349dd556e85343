"""A portal's configuration as the emulator serves it: files in, HubSpot-shaped bodies out.

The folder (every file optional; a missing one is an empty list)::

    properties/{objectType}.json  [Property]        archived ones and every sensitivity level
    groups/{objectType}.json      [PropertyGroup]
    pipelines/{objectType}.json   [Pipeline]        contacts/companies: the lifecycle pipeline
    schemas.json                  [ObjectSchema]    custom objects
    associations.json             [{fromObjectTypeId, toObjectTypeId, category, typeId, label,
                                    userEnforcedMaxToObjectIds?}]
    users.json, teams.json, roles.json
    flows.json                    [ApiFlow]         full definitions

An object type is in the portal when it has a properties or a pipelines file, or a schema; any
other (one the portal's subscription lacks: leads without Sales Hub Professional, say) gets
HubSpot's 400 ``Unable to infer object type``. A schema without ``objectTypeId`` is known by
the one its ``id`` implies (``2-{id}``). ``associations.json`` holds the limits as well, served
per pair and all at once (``…/definitions/configurations/all``).

Each handler is a function of the folder, the path parameters, the query and the body, and
returns ``(status, body)``.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubaudit.model.items import STANDARD_OBJECT_TYPE_IDS, schema_object_type_id

OBJECT_TYPE_IDS = STANDARD_OBJECT_TYPE_IDS
NAMES_TO_IDS = {name: type_id for type_id, name in OBJECT_TYPE_IDS.items()}
MAX_PAGE = 100
KNOWN_BY = ("properties", "pipelines")
"""A standard object type is in the portal when a file of one of these folders names it."""
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
FLOW_LISTING_FIELDS = (
    "id",
    "isEnabled",
    "flowType",
    "objectTypeId",
    "revisionId",
    "createdAt",
    "updatedAt",
    "name",
    "uuid",
)

Body = Any
Response = tuple[int, Body]


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }


@dataclass(frozen=True)
class Request:
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any


class PortalFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self, name: str) -> list[dict[str, Any]]:
        path = self.folder / name
        if not path.is_file():
            return []
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise ValueError(f"{path} must hold a JSON array")
        return data

    def object_type(self, given: str) -> str | None:
        """The canonical name of an object type given by name, id or custom-object name."""
        if not _SAFE_NAME.match(given):
            return None  # never a path outside the portal folder
        name = OBJECT_TYPE_IDS.get(given, given)
        if any((self.folder / part / f"{name}.json").is_file() for part in KNOWN_BY):
            return name
        for schema in self.load("schemas.json"):
            if given in (
                schema_object_type_id(schema),
                schema.get("fullyQualifiedName"),
                schema.get("name"),
            ):
                return str(schema["fullyQualifiedName"])
        return None

    def require_type(self, given: str) -> str:
        name = self.object_type(given)
        if name is None:
            raise _unknown_type(given)
        return name

    def type_id(self, given: str) -> str:
        name = self.require_type(given)
        if name in NAMES_TO_IDS:
            return NAMES_TO_IDS[name]
        for schema in self.load("schemas.json"):
            type_id = schema_object_type_id(schema)
            if schema.get("fullyQualifiedName") == name and type_id is not None:
                return type_id
        raise _unknown_type(given)


class Refused(Exception):
    """HubSpot would answer this request with an error: ``status`` and ``body``."""

    def __init__(self, status: int, body: Body) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _unknown_type(given: str) -> Refused:
    return Refused(
        400, error_body(f"Unable to infer object type from: {given}", "VALIDATION_ERROR")
    )


def _page(items: list[Any], query: Mapping[str, str]) -> dict[str, Any]:
    try:
        limit = max(1, min(MAX_PAGE, int(query.get("limit", str(MAX_PAGE)))))
        offset = int(base64.urlsafe_b64decode(query["after"]).decode()) if "after" in query else 0
    except (ValueError, UnicodeDecodeError):
        offset, limit = 0, MAX_PAGE
    body: dict[str, Any] = {"results": items[offset : offset + limit]}
    if offset + limit < len(items):
        after = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
        body["paging"] = {"next": {"after": after, "link": f"?after={after}"}}
    return body


def properties(files: PortalFiles, request: Request) -> Response:
    name = files.require_type(request.params["object_type"])
    archived = request.query.get("archived", "false").lower() == "true"
    level = request.query.get("dataSensitivity", "non_sensitive")
    items = [
        p
        for p in files.load(f"properties/{name}.json")
        if bool(p.get("archived", False)) == archived
        and p.get("dataSensitivity", "non_sensitive") == level
    ]
    return 200, {"results": items}


def groups(files: PortalFiles, request: Request) -> Response:
    name = files.require_type(request.params["object_type"])
    return 200, {"results": files.load(f"groups/{name}.json")}


def pipelines(files: PortalFiles, request: Request) -> Response:
    name = files.require_type(request.params["object_type"])
    return 200, {"results": files.load(f"pipelines/{name}.json")}


def pipeline(files: PortalFiles, request: Request) -> Response:
    name = files.require_type(request.params["object_type"])
    for item in files.load(f"pipelines/{name}.json"):
        if item.get("id") == request.params["pipeline_id"]:
            return 200, item
    raise Refused(
        404,
        error_body(f"Unable to find pipeline {request.params['pipeline_id']}", "OBJECT_NOT_FOUND"),
    )


def pipeline_audit(files: PortalFiles, request: Request) -> Response:
    """``pipeline_audits.json`` maps ``{objectType}:{pipelineId}`` (and, for a stage,
    ``{objectType}:{pipelineId}:{stageId}``) to its audit entries."""
    name = files.require_type(request.params["object_type"])
    pipeline_id = request.params["pipeline_id"]
    if not any(p.get("id") == pipeline_id for p in files.load(f"pipelines/{name}.json")):
        raise Refused(404, error_body(f"Unable to find pipeline {pipeline_id}", "OBJECT_NOT_FOUND"))
    path = files.folder / "pipeline_audits.json"
    audits = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    key = ":".join([name, pipeline_id, *filter(None, [request.params.get("stage_id")])])
    return 200, {"results": audits.get(key, [])}


def schemas(files: PortalFiles, request: Request) -> Response:
    archived = request.query.get("archived", "false").lower() == "true"
    items = [s for s in files.load("schemas.json") if bool(s.get("archived", False)) == archived]
    return 200, {"results": items}


def _pair(files: PortalFiles, request: Request) -> tuple[str, str]:
    return files.type_id(request.params["from_type"]), files.type_id(request.params["to_type"])


def _without_none(body: dict[str, Any]) -> dict[str, Any]:
    """The spec types ``label`` as a string: an unlabeled association type has none."""
    return {k: v for k, v in body.items() if v is not None}


def association_labels(files: PortalFiles, request: Request) -> Response:
    from_id, to_id = _pair(files, request)
    return 200, {
        "results": [
            _without_none(
                {"category": a["category"], "typeId": a["typeId"], "label": a.get("label")}
            )
            for a in files.load("associations.json")
            if a.get("fromObjectTypeId") == from_id and a.get("toObjectTypeId") == to_id
        ]
    }


def association_limits(files: PortalFiles, request: Request) -> Response:
    from_id, to_id = _pair(files, request)
    return 200, {
        "results": [
            _limit(a)
            for a in files.load("associations.json")
            if a.get("fromObjectTypeId") == from_id
            and a.get("toObjectTypeId") == to_id
            and a.get("userEnforcedMaxToObjectIds") is not None
        ]
    }


def all_association_limits(files: PortalFiles, _request: Request) -> Response:
    """Every configured limit of the portal; as in the spec, no object type ids."""
    return 200, {
        "results": [
            _limit(a)
            for a in files.load("associations.json")
            if a.get("userEnforcedMaxToObjectIds") is not None
        ]
    }


def _limit(association: Mapping[str, Any]) -> dict[str, Any]:
    return _without_none(
        {
            "category": association["category"],
            "typeId": association["typeId"],
            "label": association.get("label"),
            "userEnforcedMaxToObjectIds": association["userEnforcedMaxToObjectIds"],
        }
    )


def audit_logs(files: PortalFiles, request: Request) -> Response:
    """``audit_logs.json``; a portal without it is not on Enterprise and is refused."""
    path = files.folder / "audit_logs.json"
    if not path.is_file():
        raise Refused(
            403,
            error_body(
                "The account activity API is available to Enterprise accounts only.",
                "FEATURE_NOT_ENABLED",
            ),
        )
    since = request.query.get("occurredAfter", "")
    entries = [e for e in files.load("audit_logs.json") if str(e.get("occurredAt", "")) > since]
    return 200, _page(entries, request.query)


def account_details(files: PortalFiles, _request: Request) -> Response:
    """``account.json``: the account's details (portalId, uiDomain…)."""
    path = files.folder / "account.json"
    if not path.is_file():
        raise Refused(
            404, error_body("No account details in this portal folder", "OBJECT_NOT_FOUND")
        )
    details: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return 200, details


def legacy_workflows(files: PortalFiles, _request: Request) -> Response:
    return 200, {"workflows": files.load("legacy_workflows.json")}


def users(files: PortalFiles, request: Request) -> Response:
    return 200, _page(files.load("users.json"), request.query)


def teams(files: PortalFiles, _request: Request) -> Response:
    return 200, {"results": files.load("teams.json")}


def roles(files: PortalFiles, _request: Request) -> Response:
    return 200, {"results": files.load("roles.json")}


def flows(files: PortalFiles, request: Request) -> Response:
    listing = [
        {k: flow[k] for k in FLOW_LISTING_FIELDS if k in flow} for flow in files.load("flows.json")
    ]
    return 200, _page(listing, request.query)


def flows_batch_read(files: PortalFiles, request: Request) -> Response:
    inputs = request.body.get("inputs") if isinstance(request.body, dict) else None
    if not isinstance(inputs, list) or len(inputs) > MAX_PAGE:
        raise Refused(
            400,
            error_body(f"inputs must be a list of at most {MAX_PAGE} flow ids", "VALIDATION_ERROR"),
        )
    by_id = {str(flow.get("id")): flow for flow in files.load("flows.json")}
    wanted = [str(i.get("flowId")) for i in inputs if isinstance(i, dict)]
    found = [by_id[w] for w in wanted if w in by_id]
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": found,
        "startedAt": "2026-01-01T00:00:00Z",
        "completedAt": "2026-01-01T00:00:01Z",
    }
    missing = [w for w in wanted if w not in by_id]
    if missing:
        body["numErrors"] = len(missing)
        body["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Flow {m} not found",
                "context": {"flowId": [m]},
            }
            for m in missing
        ]
        return 207, body
    return 200, body


Handler = Callable[[PortalFiles, Request], Response]

_OT = r"(?P<object_type>[^/]+)"
# the classic path and the date-versioned one: /crm/v3/properties/… or /crm/properties/2026-03/…
_PROPERTIES = r"(?:v3/properties|properties/[0-9]{4}-[0-9]{2})"
_PIPELINES = r"(?:v3/pipelines|pipelines/[0-9]{4}-[0-9]{2})"
ROUTES: list[tuple[str, re.Pattern[str], Handler, bool]] = [
    # (method, path, handler, exempt from the ten-secondly limit as HubSpot's spec says)
    (
        "GET",
        re.compile(
            rf"^/crm/{_PIPELINES}/{_OT}/"
            r"(?P<pipeline_id>[^/]+)(?:/stages/(?P<stage_id>[^/]+))?/audit/?$"
        ),
        pipeline_audit,
        False,
    ),
    ("GET", re.compile(rf"^/crm/{_PROPERTIES}/{_OT}/groups/?$"), groups, False),
    ("GET", re.compile(rf"^/crm/{_PROPERTIES}/{_OT}/?$"), properties, False),
    ("GET", re.compile(rf"^/crm/{_PIPELINES}/{_OT}/(?P<pipeline_id>[^/]+)/?$"), pipeline, False),
    ("GET", re.compile(rf"^/crm/{_PIPELINES}/{_OT}/?$"), pipelines, False),
    ("GET", re.compile(r"^/crm-object-schemas/v3/schemas/?$"), schemas, False),
    ("GET", re.compile(r"^/crm/v3/schemas/?$"), schemas, False),
    (
        "GET",
        re.compile(r"^/crm/(?:v4/associations|associations/v4)/definitions/configurations/all/?$"),
        all_association_limits,
        True,
    ),
    (
        "GET",
        re.compile(
            r"^/crm/(?:v4/associations|associations/v4)/definitions/configurations/"
            r"(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/?$"
        ),
        association_limits,
        True,
    ),
    (
        "GET",
        re.compile(
            r"^/crm/(?:v4/associations|associations/v4)/(?P<from_type>[^/]+)/"
            r"(?P<to_type>[^/]+)/labels/?$"
        ),
        association_labels,
        True,
    ),
    ("GET", re.compile(r"^/settings/v3/users/teams/?$"), teams, False),
    ("GET", re.compile(r"^/settings/v3/users/roles/?$"), roles, False),
    ("GET", re.compile(r"^/settings/(?:v3/users|users/v3)/?$"), users, False),
    ("GET", re.compile(r"^/automation/v4/flows/?$"), flows, False),
    ("POST", re.compile(r"^/automation/v4/flows/batch/read/?$"), flows_batch_read, False),
    ("GET", re.compile(r"^/automation/v3/workflows/?$"), legacy_workflows, False),
    (
        "GET",
        re.compile(r"^/account-info/(?:v3|[0-9]{4}-[0-9]{2})/details/?$"),
        account_details,
        False,
    ),
    (
        "GET",
        re.compile(r"^/account-info/(?:v3|[0-9]{4}-[0-9]{2})/activity/audit-logs/?$"),
        audit_logs,
        False,
    ),
]


# Published paths that HubSpot also serves under an older spelling (``Endpoint.legacy``): the
# users list (older: ``/settings/v3/users/``), association labels (``/crm/v4/associations/…``)
# and schemas (``/crm/v3/schemas``). An emulator told to serve only the older spellings answers
# 404 on these, as HubSpot would where it had not rolled the published one out.
PUBLISHED_WITH_OLDER_SPELLING = (
    re.compile(r"^/settings/users/v3/?$"),
    re.compile(r"^/crm/associations/v4/[^/]+/[^/]+/labels/?$"),
    re.compile(r"^/crm-object-schemas/v3/schemas/?$"),
)


def has_older_spelling(path: str) -> bool:
    return any(pattern.match(path) for pattern in PUBLISHED_WITH_OLDER_SPELLING)


def is_exempt(method: str, path: str) -> bool:
    return any(
        exempt and route_method == method and pattern.match(path)
        for route_method, pattern, _handler, exempt in ROUTES
    )
