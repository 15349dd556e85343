"""The contract test: hubaudit against HubSpot's published OpenAPI specs, served by Stoplight
Prism (``tests/prism.py``; Prism comes from ``npm ci`` in ``tests/contract``).

Full snapshots and audits with the real collectors, on random schema-valid answers (several
seeds, a run whose lists end and one whose pages loop, a run at date versions): every request
hubaudit sends passes Prism's request validation, and nothing raises — a part that fails, fails
for a reason in the data, said in its coverage.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from hubaudit.config import PortalConfig, Secret
from hubaudit.model.items import CoverageStatus, KindCoverage
from hubaudit.report import FORMATS, render
from hubaudit.services.audit_run import open_client, run_audit, take_snapshot
from hubaudit.store.engine import make_engine, upgrade
from hubaudit.store.repository import Store

from .conftest import FAST_LIMIT, IN_CI, REPO, require_shared_hubspot
from .prism import PRISM, UNPUBLISHED, Exchange, RoutingProxy, path_pattern, prism_behind_proxy

# One set of Prism processes (module-scoped): every test of this module on one xdist worker
pytestmark = [pytest.mark.contract, pytest.mark.slow, pytest.mark.xdist_group("prism")]

DATED = {"properties": "2026-03", "pipelines": "2026-03"}
# (seed, lists end, api_versions): seed "2" keeps Prism's paging, so its pages loop
RUNS: tuple[tuple[str, bool, Mapping[str, str]], ...] = (
    ("1", True, {}),
    ("2", False, {}),
    ("3", True, DATED),
)
# Operations a run must have exercised, or the test proves less than it says.
EXERCISED = {
    "GET /crm/v3/properties/{objectType}",
    "GET /crm/properties/2026-03/{objectType}",
    "GET /crm/v3/properties/{objectType}/groups",
    "GET /crm/v3/pipelines/{objectType}",
    "GET /crm/pipelines/2026-03/{objectType}",
    "GET /crm/v3/pipelines/{objectType}/{pipelineId}/audit",
    "GET /crm-object-schemas/v3/schemas",
    "GET /crm/associations/v4/{fromObjectType}/{toObjectType}/labels",
    "GET /crm/associations/v4/definitions/configurations/all",
    "GET /settings/users/v3",
    "GET /settings/v3/users/teams",
    "GET /settings/v3/users/roles",
    "GET /automation/v4/flows",
    "POST /automation/v4/flows/batch/read",
    "GET /account-info/v3/activity/audit-logs",
    "GET /account-info/v3/details",
}
# Failures of the HTTP layer, not of the data
TRANSPORT_FAILURES = ("RETRIES_EXHAUSTED", "HTTP ")


@dataclass(frozen=True)
class ContractRun:
    seed: str
    exchanges: list[Exchange]
    coverage: list[KindCoverage]
    fallbacks: frozenset[str]


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoutingProxy]:
    shared = require_shared_hubspot()
    if not PRISM.exists() or shutil.which("node") is None:
        message = f"Prism is not installed at {PRISM}: run `npm ci` in tests/contract"
        if IN_CI:
            pytest.fail(message + " (CI=true: the contract test must run)")
        pytest.skip(message)
    with prism_behind_proxy(shared, tmp_path_factory.mktemp("prism")) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def contract_runs(
    prism: RoutingProxy, tmp_path_factory: pytest.TempPathFactory
) -> list[ContractRun]:
    """Per seed: a snapshot, a baseline made of it (incomplete or not), then an audit on other
    random answers — reading the audit trails of what changed — and its report in every format."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'contract.db'}")
    upgrade(engine)
    store = Store(engine)
    runs = []
    try:
        for seed, lists_end, versions in RUNS:
            portal = PortalConfig(
                name=f"contract-{seed}",
                base_url=prism.base_url,
                token_env="HUBAUDIT_CONTRACT_TOKEN",
                rate_limit_per_10s=FAST_LIMIT,
                max_retries=0,  # Prism answers at once; a retry would only hide a failure
                api_versions=versions,
            )
            prism.seed, prism.last_pages = seed, lists_end
            client = open_client(portal, Secret("contract-test-token"))
            try:
                snapshot = take_snapshot(store, portal, client)
                store.approve_baseline(portal.name, snapshot, "Contract", "random", _now())
                prism.seed = f"{seed}-next"
                result = run_audit(store, portal, client)
                for fmt in FORMATS:
                    assert render(result, fmt)
                fallbacks = client.fallbacks
            finally:
                client.close()
            coverage = [*snapshot.coverage, *result.snapshot.coverage]
            runs.append(ContractRun(seed, prism.take(), coverage, fallbacks))
    finally:
        engine.dispose()
    return runs


def _now() -> datetime:
    return datetime.now(UTC)


def test_every_request_hubaudit_sends_passes_prisms_request_validation(
    prism: RoutingProxy, contract_runs: list[ContractRun]
) -> None:
    exchanges = [e for run in contract_runs for e in run.exchanges]
    refused = [
        f"{e.method} {e.path}?{e.query} -> {e.status}: {e.problem}"
        for e in exchanges
        if e.status != 200
    ]
    assert refused == []
    off_spec = {f"{e.method} {e.path}" for e in exchanges if e.spec is None}
    assert off_spec <= {f"GET {path}" for path in UNPUBLISHED}
    # the published spelling of every path was the one served: no fallback was needed
    assert all(run.fallbacks == frozenset() for run in contract_runs)
    templates = {
        f"{method} {template}": path_pattern(template)
        for method, template in (op.split(" ", 1) for op in EXERCISED)
    }
    seen = {
        operation
        for operation, pattern in templates.items()
        for e in exchanges
        if operation.startswith(e.method + " ") and pattern.match(e.path)
    }
    assert seen == EXERCISED


def test_random_answers_fail_parts_only_for_reasons_in_the_data(
    contract_runs: list[ContractRun],
) -> None:
    for run in contract_runs:
        failed = [c for c in run.coverage if c.status is CoverageStatus.FAILED]
        for part in failed:
            reason = part.reason or ""
            assert re.match(r"^[A-Z_]+: \S", reason), (run.seed, part.scope, reason)
            assert not any(f in reason for f in TRANSPORT_FAILURES), (run.seed, part.scope)
            assert "None" not in reason, (run.seed, part.scope, reason)
        complete = {c.scope for c in run.coverage if c.status is CoverageStatus.COMPLETE}
        assert {"object_schema", "pipeline:deals", "role", "team"} <= complete, run.seed
    # the run whose pages loop says so; the runs whose lists end read every user
    looping = next(run for run in contract_runs if run.seed == "2")
    user = [c for c in looping.coverage if c.scope == "user"]
    assert user and all(c.reason and c.reason.startswith("PAGINATION_LOOP") for c in user)
    for run in contract_runs:
        if run.seed != "2":
            read = {c.scope for c in run.coverage if c.status is CoverageStatus.COMPLETE}
            assert "user" in read, run.seed


@pytest.mark.parametrize("ci", ["true", ""])
def test_without_prism_the_contract_test_fails_in_ci_and_skips_elsewhere(ci: str) -> None:
    environment = {**os.environ, "CI": ci, "HUBAUDIT_PRISM": str(REPO / "no-such-prism")}
    finished = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"),
            *("tests/test_contract.py", "-k", "passes_prisms_request_validation"),
        ],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "npm ci" in finished.stdout, finished.stdout
    if ci:
        assert finished.returncode == 1
        assert "CI=true: the contract test must run" in finished.stdout
    else:
        assert finished.returncode == 0
        assert "1 skipped" in finished.stdout
