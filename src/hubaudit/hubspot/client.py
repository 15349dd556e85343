"""HubSpot reads over the one transport, at the paths HubSpot's published specs give.

Every GET and POST goes through :class:`Transport` (pacing, retries, logging), built from the
endpoint's path for the portal's configured version. Where HubSpot still serves an older
spelling of a path (``Endpoint.legacy``) and answers 404 on the published one, the read falls
back to the older spelling, logs it once, and uses it for the rest of the run. Bodies are
HubSpot's raw JSON, so no field is ever dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from hubaudit.config import API_RESOURCES, PortalConfig, PortalCredentials, Secret
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot.endpoints import Endpoint
from hubaudit.hubspot.oauth import OAuthTokens
from hubaudit.hubspot.transport import Transport
from hubaudit.logs import get_logger

log = get_logger(__name__)

MAX_PAGES = 10_000


class HubSpotClient:
    """Reads one portal's endpoints, at the path version the portal's config names. Thread-safe.

    One client serves one run: which spelling of a path HubSpot serves is found out by the first
    read of the endpoint (others wait for it) and remembered for the client's life.
    """

    def __init__(self, transport: Transport, versions: Mapping[str, str] | None = None) -> None:
        self.transport = transport
        self.versions = {**API_RESOURCES, **(versions or {})}
        self._spellings: dict[str, bool] = {}  # endpoint name -> reads at the older spelling
        self._first_reads: dict[str, threading.Lock] = {}
        self._spellings_lock = threading.Lock()

    @property
    def api_calls(self) -> int:
        return self.transport.api_calls

    @property
    def fallbacks(self) -> frozenset[str]:
        """The endpoints this run reads at an older spelling, HubSpot's published path being 404."""
        with self._spellings_lock:
            return frozenset(name for name, older in self._spellings.items() if older)

    def close(self) -> None:
        self.transport.close()

    def get(
        self,
        endpoint: Endpoint,
        params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        """The parsed JSON body of one GET."""
        path_params = dict(params or {})
        query_params = list((query or {}).items()) or None
        version = self.versions[endpoint.resource]
        published = endpoint.path(version, path_params)
        legacy = endpoint.legacy_path(version, path_params)
        exempt = endpoint.exempt_from_burst_limit
        if legacy is None:
            return self.transport.get_json(published, query_params, exempt=exempt)
        older = self._spelling(endpoint)
        if older is None:
            with self._first_read(endpoint):  # the endpoint's other reads wait for its first
                older = self._spelling(endpoint)
                if older is None:
                    return self._find_spelling(endpoint, published, legacy, query_params)
        return self.transport.get_json(legacy if older else published, query_params, exempt=exempt)

    def _spelling(self, endpoint: Endpoint) -> bool | None:
        with self._spellings_lock:
            return self._spellings.get(endpoint.name)

    def _first_read(self, endpoint: Endpoint) -> threading.Lock:
        with self._spellings_lock:
            return self._first_reads.setdefault(endpoint.name, threading.Lock())

    def _find_spelling(
        self,
        endpoint: Endpoint,
        published: str,
        legacy: str,
        query: list[tuple[str, str]] | None,
    ) -> Any:
        """The published path; on a 404 the older spelling, remembered and logged if HubSpot
        serves it. A 404 on both is the published path's answer, and nothing is remembered."""
        exempt = endpoint.exempt_from_burst_limit
        try:
            body = self.transport.get_json(published, query, exempt=exempt)
        except KindUnreadable as missing:
            if missing.status != 404:
                raise
            try:
                body = self.transport.get_json(legacy, query, exempt=exempt)
            except KindUnreadable as refused:
                if refused.status == 404:
                    raise missing from None
                self._remember(endpoint, older=True, published=published, legacy=legacy)
                raise  # the older spelling is there; it refused this read (a scope, say)
            self._remember(endpoint, older=True, published=published, legacy=legacy)
            return body
        self._remember(endpoint, older=False, published=published, legacy=legacy)
        return body

    def _remember(self, endpoint: Endpoint, *, older: bool, published: str, legacy: str) -> None:
        with self._spellings_lock:
            self._spellings[endpoint.name] = older
        if older:
            log.warning(
                "hubspot.path_fallback",
                portal=self.transport.portal,
                endpoint=endpoint.name,
                published=published,
                fallback=legacy,
                reason="HubSpot answered 404 on the path its published spec gives; "
                "the older spelling is read for the rest of this run",
            )

    def post(self, endpoint: Endpoint, body: Any, params: Mapping[str, str] | None = None) -> Any:
        """The parsed JSON body of one POST (batch reads)."""
        version = self.versions[endpoint.resource]
        sent = self.transport.request(
            "POST",
            endpoint.path(version, dict(params or {})),
            json_body=body,
            exempt=endpoint.exempt_from_burst_limit,
        )
        return sent.body

    def list_results(
        self,
        endpoint: Endpoint,
        params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The ``results`` array of an unpaged list endpoint, as HubSpot sent it."""
        return results_of(self.get(endpoint, params, query), endpoint.name)

    def paged_results(
        self,
        endpoint: Endpoint,
        page_size: int,
        params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every page of a cursor-paged endpoint; a cursor seen twice stops with an error."""
        return [
            result for page in self.pages(endpoint, page_size, params, query) for result in page
        ]

    def pages(
        self,
        endpoint: Endpoint,
        page_size: int,
        params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """The ``results`` of each page of a cursor-paged endpoint, as each arrives (a caller
        may start on one page while the next is read); a cursor seen twice stops with an
        error."""
        seen: set[str] = set()
        after: str | None = None
        for _page in range(MAX_PAGES):
            page = {**(query or {}), "limit": str(page_size)} | ({"after": after} if after else {})
            body = self.get(endpoint, params, page)
            yield results_of(body, endpoint.name)
            after = _next_cursor(body)
            if after is None:
                return
            if after in seen:
                raise KindUnreadable(
                    f"{endpoint.name}: HubSpot returned the cursor {after!r} twice; "
                    "stopped rather than loop",
                    category="PAGINATION_LOOP",
                )
            seen.add(after)
        raise KindUnreadable(
            f"{endpoint.name}: more than {MAX_PAGES} pages", category="PAGINATION_LIMIT"
        )


def _next_cursor(body: Any) -> str | None:
    paging = body.get("paging") if isinstance(body, dict) else None
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    if after is None:
        return None
    if isinstance(after, bool) or not isinstance(after, str | int) or after == "":
        raise KindUnreadable(
            "a page's paging.next.after is not a cursor", category="MALFORMED_RESPONSE"
        )
    return str(after)


def results_of(body: Any, what: str) -> list[dict[str, Any]]:
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
        raise KindUnreadable(
            f"unexpected response shape from {what}: no 'results' list of objects",
            category="MALFORMED_RESPONSE",
        )
    return results


def connect(
    portal: PortalConfig, token: PortalCredentials, stop: threading.Event | None = None
) -> HubSpotClient:
    """A client for one portal, on a fresh transport. Close it with :meth:`HubSpotClient.close`.
    Setting ``stop`` makes its next request raise :class:`RunStopped`. ``token`` is a private
    app's token, or an OAuth app's credentials (access tokens are then issued as needed)."""
    transport = Transport(
        portal.base_url,
        token if isinstance(token, Secret) else OAuthTokens(token),
        portal=portal.name,
        rate_limit_per_10s=portal.rate_limit_per_10s,
        timeout_seconds=portal.timeout_seconds,
        max_retries=portal.max_retries,
        stop=stop,
        max_response_bytes=int(portal.max_response_mb * 2**20),
    )
    return HubSpotClient(transport, portal.api_versions)
