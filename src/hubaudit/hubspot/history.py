"""The audit trails HubSpot keeps, read for attribution: who last changed an item, and when.

Each builder returns a :data:`~hubaudit.analysis.attribution.History`: given a change, the candidate
attributions its item's trail gives. Trails are read lazily — only for items that changed, each
at most once per audit — and a trail HubSpot refuses is a note, never an error.

- pipelines: ``GET /crm/v3/pipelines/{objectType}/{pipelineId}/audit`` and, for a change inside
  a stage, ``…/stages/{stageId}/audit`` (every tier);
- the account audit log: ``GET /account-info/v3/activity/audit-logs`` since the baseline was
  approved (Enterprise; matched to an item by its name, id or label, so confidence is low);
- contact workflows: the legacy ``GET /automation/v3/workflows``, the only workflow API that
  names the last editor, mapped to v4 flows through its ``migrationStatus.flowId``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from hubaudit.analysis.attribution import History, parse_time
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.logs import get_logger
from hubaudit.model.changes import Attribution, Change
from hubaudit.model.items import ItemKey, Kind

log = get_logger(__name__)
AUDIT_LOG_PAGE_SIZE = 100


def pipeline_history(client: HubSpotClient) -> History:
    """The pipeline's audit history, and for a change inside a stage the stage's too."""
    read: dict[tuple[str, ...], list[Attribution]] = {}

    def trail(*ids: str) -> list[Attribution]:
        if ids not in read:
            object_type, pipeline_id, *stage = ids
            params = {"object_type": object_type, "pipeline_id": pipeline_id}
            endpoint = endpoints.PIPELINE_AUDIT
            if stage:
                params["stage_id"] = stage[0]
                endpoint = endpoints.STAGE_AUDIT
            entries = _quietly(lambda: client.list_results(endpoint, params), ":".join(ids))
            read[ids] = [
                Attribution(
                    user_id=str(e["fromUserId"]) if e.get("fromUserId") is not None else None,
                    at=parse_time(e.get("timestamp")),
                    source="stage audit history" if stage else "pipeline audit history",
                    confidence="medium",
                )
                for e in entries or []
            ]
        return read[ids]

    def history(change: Change) -> Sequence[Attribution]:
        if change.kind is not Kind.PIPELINE:
            return ()
        object_type, pipeline_id = ItemKey.parse(change.key).rest.split(":", 1)
        found = trail(object_type, pipeline_id)
        if len(change.path) >= 2 and change.path[0] == "stages" and change.after is not None:
            found = found + trail(object_type, pipeline_id, str(change.path[1]))
        return found

    return history


def account_history(client: HubSpotClient, since: datetime, notes: list[str]) -> History:
    read: list[list[dict[str, Any]]] = []  # empty until the log is first needed

    def entries() -> list[dict[str, Any]]:
        if not read:
            try:
                read.append(
                    client.paged_results(
                        endpoints.AUDIT_LOGS,
                        AUDIT_LOG_PAGE_SIZE,
                        query={"occurredAfter": since.isoformat()},
                    )
                )
            except KindUnreadable as exc:
                read.append([])
                notes.append(f"the account audit log was not read (Enterprise only): {exc}")
        return read[0]

    def history(change: Change) -> Sequence[Attribution]:
        names = {change.key.rsplit(":", 1)[-1]} | ({change.label} if change.label else set())
        found = []
        for entry in entries():
            acting = entry.get("actingUser")
            if str(entry.get("targetObjectId")) not in names or not isinstance(acting, dict):
                continue
            found.append(
                Attribution(
                    user_id=str(acting["userId"]) if acting.get("userId") is not None else None,
                    user_email=acting.get("userEmail"),
                    at=parse_time(entry.get("occurredAt")),
                    source=f"account audit log ({entry.get('category')} {entry.get('action')})",
                    confidence="low",
                )
            )
        return found

    return history


def legacy_workflow_history(client: HubSpotClient) -> History:
    by_flow: dict[str, Attribution] | None = None

    def history(change: Change) -> Sequence[Attribution]:
        nonlocal by_flow
        if change.kind is not Kind.WORKFLOW:
            return ()
        if by_flow is None:
            body = _quietly(lambda: client.get(endpoints.LEGACY_WORKFLOWS), "legacy workflows")
            workflows = body.get("workflows") if isinstance(body, dict) else None
            by_flow = {}
            for w in workflows if isinstance(workflows, list) else []:
                flow_id = (w.get("migrationStatus") or {}).get("flowId")
                user = (w.get("updateSource") or {}).get("updatedByUser") or {}
                if flow_id is not None and user.get("userId") is not None:
                    by_flow[str(flow_id)] = Attribution(
                        user_id=str(user["userId"]),
                        user_email=user.get("userEmail"),
                        at=parse_time(w.get("updatedAt")),
                        source="legacy workflows API (updateSource.updatedByUser)",
                        confidence="medium",
                    )
        found = by_flow.get(ItemKey.parse(change.key).rest)
        return [found] if found else []

    return history


def _quietly(read: Callable[[], Any], what: str) -> Any:
    try:
        return read()
    except KindUnreadable as exc:
        log.info("attribution.unavailable", item=what, reason=str(exc))
        return None
