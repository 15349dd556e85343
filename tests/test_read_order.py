"""How a portal's parts are scheduled: chains of calls and calls exempt from the ten-secondly
limit start first (inside the first window's burst), and a flow list's pages overlap with the
batch reads of the pages before them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hubaudit.config import PortalConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot.collectors import DEFAULT_COLLECTORS, collect_portal
from hubaudit.hubspot.collectors.base import Part, PartResult, _run_parts
from hubaudit.hubspot.collectors.workflows import read_flows
from hubaudit.model.items import Kind
from hubaudit.services.audit_run import open_client


def test_parts_marked_first_start_first_and_results_keep_the_declared_order() -> None:
    started: list[str] = []

    def part(name: str, first: bool = False) -> Part:
        def read() -> PartResult:
            started.append(name)
            return PartResult([])

        return Part(Kind.PROPERTY, name, read, first)

    parts = [part("a"), part("b", first=True), part("c"), part("d", first=True)]
    outcomes = _run_parts(parts, workers=1)
    assert started == ["b", "d", "a", "c"]
    assert [p.scope for p, _ in outcomes] == ["a", "b", "c", "d"]


def test_a_portal_read_sends_its_chains_and_exempt_calls_before_single_paced_reads(
    emulator: PortalEmulator,
) -> None:
    sent: list[str] = []
    original = emulator.handle

    def record(method: str, target: str, authorization: str | None, raw_body: bytes = b"") -> Any:
        sent.append(f"{method} {target.split('?')[0]}")
        return original(method, target, authorization, raw_body)

    emulator.handle = record  # type: ignore[method-assign]
    portal = PortalConfig(name="demo", base_url=emulator.base_url, token_env="T", concurrency=1)
    client = open_client(portal, Secret(DEMO_TOKEN))
    try:
        items, coverage = collect_portal(client, portal, DEFAULT_COLLECTORS)
    finally:
        client.close()
    assert all(c.status.value in ("complete", "unsupported") for c in coverage)
    first_property = next(i for i, call in enumerate(sent) if call.startswith("GET /crm/v3/prop"))
    leading = sent[:first_property]
    # after the schemas (phase 0): the association labels (exempt), the users' pages and the
    # flows' list and batches, before any property, group or pipeline
    assert any("/associations/v4/" in call for call in leading)
    assert any(call == "GET /settings/users/v3" for call in leading)
    assert "GET /automation/v4/flows" in leading
    assert "POST /automation/v4/flows/batch/read" in leading
    assert not any("/pipelines/" in call for call in leading)
    # the items come out in the collectors' declared order, as before
    kinds = list(dict.fromkeys(item.kind.value for item in items))
    assert kinds.index("property") < kinds.index("workflow")


class PagedFlows:
    """A client stand-in: the flow list in pages, batch reads answered from the pages."""

    def __init__(self, pages: list[list[str]], fail_page: int | None = None) -> None:
        self._pages = pages
        self._fail_page = fail_page
        self.batches: list[list[str]] = []

    def pages(self, _endpoint: object, _size: int) -> Iterator[list[dict[str, Any]]]:
        for number, page in enumerate(self._pages):
            if number == self._fail_page:
                raise KindUnreadable("page failed", category="HTTP_500", status=500)
            yield [{"id": flow_id} for flow_id in page]

    def post(self, _endpoint: object, body: dict[str, Any]) -> dict[str, Any]:
        batch = [entry["flowId"] for entry in body["inputs"]]
        self.batches.append(batch)
        return {"results": [{"id": f, "name": f"flow {f}", "actions": []} for f in batch]}


class FakeReading:
    def __init__(self, client: PagedFlows, concurrency: int = 8) -> None:
        self.client = client
        self.portal = PortalConfig(name="p", token_env="T", concurrency=concurrency)


@pytest.mark.parametrize("concurrency", [8, 1])  # 1: one request at a time, no overlap
def test_flow_batches_follow_each_page_and_keep_the_list_order(concurrency: int) -> None:
    client = PagedFlows([[str(n) for n in range(100)], [str(n) for n in range(100, 130)]])
    result = read_flows(FakeReading(client, concurrency))  # type: ignore[arg-type]
    assert [item.key for item in result.items] == [f"workflow:{n}" for n in range(130)]
    assert sorted(map(len, client.batches)) == [30, 100]


def test_a_failed_list_page_fails_the_part_rather_than_return_what_was_read() -> None:
    client = PagedFlows([[str(n) for n in range(100)], ["100"]], fail_page=1)
    with pytest.raises(KindUnreadable, match="page failed"):
        read_flows(FakeReading(client))  # type: ignore[arg-type]
