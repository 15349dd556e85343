"""HubSpot reads over the transport: the official SDK where it covers a path, raw paths elsewhere.

The SDK's generated API classes are built through its ``api_factory`` hook with a REST client that
sends through our :class:`Transport`, and they are called with ``_preload_content=False`` so we get
HubSpot's raw JSON: the SDK's models drop fields they do not know, and a drift auditor must not.
Date-versioned paths (``/crm/properties/2026-03/…``) and endpoints the SDK lacks (automation v4
flows, association limits) go straight through the transport.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from hubaudit.config import API_RESOURCES, PortalConfig, PortalCredentials, Secret
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot.endpoints import Endpoint
from hubaudit.hubspot.oauth import OAuthTokens
from hubaudit.hubspot.transport import JsonResponse, Transport

MAX_PAGES = 10_000


class _SdkResponse:
    """What the SDK's generated code hands back when ``_preload_content`` is false."""

    def __init__(self, sent: JsonResponse) -> None:
        self.status = sent.response.status_code
        self.reason = sent.response.reason_phrase
        self.data = sent.response.content
        self.body = sent.body  # already parsed by the transport; read this, not data
        self._headers = sent.response.headers

    def getheaders(self) -> dict[str, str]:
        return dict(self._headers)

    def getheader(self, name: str, default: str | None = None) -> str | None:
        value = self._headers.get(name)
        return default if value is None else str(value)


class _TransportRestClient:
    """Stands in for the SDK's urllib3 REST client and sends through our transport instead."""

    def __init__(self, transport: Transport, *, authenticated: bool = True) -> None:
        self._transport = transport
        self._authenticated = authenticated

    def _path(self, url: str) -> str:
        base = self._transport.base_url
        return url[len(base) :] if url.startswith(base) else url

    def GET(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        query_params: list[tuple[str, Any]] | None = None,
        _preload_content: bool = True,
        _request_timeout: Any = None,
    ) -> _SdkResponse:
        params = [(name, _query_value(value)) for name, value in query_params or []]
        return _SdkResponse(
            self._transport.request(
                "GET", self._path(url), params=params or None, authenticated=self._authenticated
            )
        )

    def POST(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        query_params: list[tuple[str, Any]] | None = None,
        post_params: list[tuple[str, Any]] | None = None,
        body: Any = None,
        _preload_content: bool = True,
        _request_timeout: Any = None,
    ) -> _SdkResponse:
        """A form (HubSpot's OAuth token endpoint) or a JSON body."""
        params = [(name, _query_value(value)) for name, value in query_params or []]
        form = [(name, _query_value(value)) for name, value in post_params or []]
        return _SdkResponse(
            self._transport.request(
                "POST",
                self._path(url),
                params=params or None,
                json_body=None if form else body,
                form=form or None,
                authenticated=self._authenticated,
            )
        )


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sdk_api_factory(
    transport: Transport, *, authenticated: bool = True
) -> Callable[[Any, str, Mapping[str, Any]], Any]:
    """An ``api_factory`` for ``hubspot.HubSpot`` whose API classes send through ``transport``
    (``authenticated=False``: without the portal's bearer token, for the OAuth API)."""

    def factory(api_client_package: Any, api_name: str, _config: Mapping[str, Any]) -> Any:
        configuration = api_client_package.Configuration(host=transport.base_url)
        api_client = api_client_package.ApiClient(configuration=configuration)
        api_client.rest_client = _TransportRestClient(transport, authenticated=authenticated)
        return getattr(api_client_package, api_name)(api_client=api_client)

    return factory


class HubSpotClient:
    """Reads one portal's endpoints, at the path version the portal's config names. Thread-safe."""

    def __init__(self, transport: Transport, versions: Mapping[str, str] | None = None) -> None:
        self.transport = transport
        self.versions = {**API_RESOURCES, **(versions or {})}
        self._sdk: Any = None
        self._sdk_lock = threading.Lock()

    @property
    def api_calls(self) -> int:
        return self.transport.api_calls

    def close(self) -> None:
        self.transport.close()

    def _sdk_client(self) -> Any:
        with self._sdk_lock:
            if self._sdk is None:
                from hubspot import HubSpot  # imported on first use: it is large

                self._sdk = HubSpot(api_factory=sdk_api_factory(self.transport))
            return self._sdk

    def get(
        self,
        endpoint: Endpoint,
        params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        """The parsed JSON body of one GET."""
        path_params = dict(params or {})
        query_params = dict(query or {})
        version = self.versions[endpoint.resource]
        if endpoint.sdk is not None and endpoint.uses_sdk(version, query_params):
            with self._exemption(endpoint):
                return endpoint.sdk(self._sdk_client(), path_params, query_params).body
        return self.transport.get_json(
            endpoint.path(version, path_params),
            list(query_params.items()) or None,
            exempt=endpoint.exempt_from_burst_limit,
        )

    def _exemption(self, endpoint: Endpoint) -> AbstractContextManager[None]:
        return self.transport.exempt() if endpoint.exempt_from_burst_limit else nullcontext()

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
        results: list[dict[str, Any]] = []
        seen: set[str] = set()
        after: str | None = None
        for _page in range(MAX_PAGES):
            page = {**(query or {}), "limit": str(page_size)} | ({"after": after} if after else {})
            body = self.get(endpoint, params, page)
            results.extend(results_of(body, endpoint.name))
            after = _next_cursor(body)
            if after is None:
                return results
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
