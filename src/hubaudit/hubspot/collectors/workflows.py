"""``workflow``: automation v4 flows, ``workflow:{flowId}``.

The list is paged and carries only a summary, so the full definitions come from
``POST /automation/v4/flows/batch/read`` in batches, not one GET per flow. Actions become a map
by ``actionId``; ``revisionId`` and timestamps are kept in the raw JSON, never compared (a new
revision with nothing else changed is not drift).
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from hubaudit.analysis.canonical import keyed_by, without
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot import endpoints
from hubaudit.hubspot.collectors.base import PartResult, Raw, Reading, WholeKind, items_from
from hubaudit.model.items import Kind

LIST_PAGE_SIZE = 100
BATCH_SIZE = 100
VOLATILE_FIELDS = ("revisionId", "createdAt", "updatedAt", "nextAvailableActionId")


def _read_batch(reading: Reading, batch: list[str]) -> list[Raw]:
    body = reading.client.post(
        endpoints.FLOWS_BATCH_READ,
        {"inputs": [{"type": "FLOW_ID", "flowId": flow_id} for flow_id in batch]},
    )
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise KindUnreadable("flows batch read returned no results", category="MALFORMED_RESPONSE")
    returned = {str(r.get("id")) for r in results if isinstance(r, dict)}
    missing = [flow_id for flow_id in batch if flow_id not in returned]
    if missing:
        # A flow listed but not returned is unknown, not deleted: the part is not verified.
        raise KindUnreadable(
            f"flows batch read did not return {len(missing)} listed flows (first: {missing[0]})",
            category="INCOMPLETE_BATCH",
        )
    return [r for r in results if isinstance(r, dict)]


def canonical_flow(raw: Mapping[str, Any]) -> dict[str, Any]:
    body = without(raw, VOLATILE_FIELDS)
    body["actions"] = keyed_by(raw.get("actions") or [], "actionId")
    return body


def read_flows(reading: Reading) -> PartResult:
    """List the flows page by page; each page's definitions are asked for in a batch as soon as
    the page arrives, while the next page is read (a chain of pages and batches would otherwise
    be twice as long: it decides how soon a portal's read ends)."""
    if reading.portal.concurrency <= 1:  # one request at a time, as configured
        ids = [
            str(flow.get("id"))
            for page in reading.client.pages(endpoints.FLOWS, LIST_PAGE_SIZE)
            for flow in page
        ]
        flows = [
            flow
            for start in range(0, len(ids), BATCH_SIZE)
            for flow in _read_batch(reading, ids[start : start + BATCH_SIZE])
        ]
        return _flow_items(flows)
    batches: list[Future[list[Raw]]] = []
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hubaudit-flows") as pool:
        try:
            for page in reading.client.pages(endpoints.FLOWS, LIST_PAGE_SIZE):
                ids = [str(flow.get("id")) for flow in page]
                for start in range(0, len(ids), BATCH_SIZE):
                    batch = ids[start : start + BATCH_SIZE]
                    context = contextvars.copy_context()  # the run's log context
                    batches.append(pool.submit(context.run, _read_batch, reading, batch))
        except BaseException:
            for future in batches:  # a failed page ends the part: send no more batches
                future.cancel()
            raise
        flows = [flow for future in batches for flow in future.result()]
    return _flow_items(flows)


def _flow_items(flows: list[Raw]) -> PartResult:
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


# the list's pages, then a batch read per hundred flows: a chain, started first
WORKFLOWS = WholeKind(Kind.WORKFLOW, 1, read_flows, first=True)
