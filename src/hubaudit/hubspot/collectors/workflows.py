"""``workflow``: automation v4 flows, ``workflow:{flowId}``.

The list is paged and carries only a summary, so the full definitions come from
``POST /automation/v4/flows/batch/read`` in batches, not one GET per flow. Actions become a map
by ``actionId``; ``revisionId`` and timestamps are kept in the raw JSON, never compared (a new
revision with nothing else changed is not drift).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubaudit.analysis.canonical import keyed_by, without
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import PartResult, Raw, Reading, WholeKind, items_from
from hubaudit.model.items import Kind

LIST_PAGE_SIZE = 100
BATCH_SIZE = 100
VOLATILE_FIELDS = ("revisionId", "createdAt", "updatedAt", "nextAvailableActionId")


def canonical_flow(raw: Mapping[str, Any]) -> dict[str, Any]:
    body = without(raw, VOLATILE_FIELDS)
    body["actions"] = keyed_by(raw.get("actions") or [], "actionId")
    return body


def read_flows(reading: Reading) -> PartResult:
    listing = reading.client.paged_results(endpoints.FLOWS, LIST_PAGE_SIZE)
    ids = [str(flow.get("id")) for flow in listing]
    flows: list[Raw] = []
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        body = reading.client.post(
            endpoints.FLOWS_BATCH_READ,
            {"inputs": [{"type": "FLOW_ID", "flowId": flow_id} for flow_id in batch]},
        )
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise KindUnreadable(
                "flows batch read returned no results", category="MALFORMED_RESPONSE"
            )
        returned = {str(r.get("id")) for r in results if isinstance(r, dict)}
        missing = [flow_id for flow_id in batch if flow_id not in returned]
        if missing:
            # A flow listed but not returned is unknown, not deleted: the part is not verified.
            raise KindUnreadable(
                f"flows batch read did not return {len(missing)} listed flows "
                f"(first: {missing[0]})",
                category="INCOMPLETE_BATCH",
            )
        flows += [r for r in results if isinstance(r, dict)]
    return PartResult(
        items_from(
            Kind.WORKFLOW,
            "workflow",
            flows,
            lambda r: r.get("id"),
            canonical_flow,
            lambda r: r.get("name"),
        )
    )


WORKFLOWS = WholeKind(Kind.WORKFLOW, 1, read_flows)
