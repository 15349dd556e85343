"""HubSpot reads over the transport: the official SDK where it covers a path, raw paths elsewhere.

The SDK's generated API classes are built through its ``api_factory`` hook with a REST client that
sends through our :class:`Transport`, and they are called with ``_preload_content=False`` so we get
HubSpot's raw JSON: the SDK's models drop fields they do not know, and a drift auditor must not.
Date-versioned paths (``/crm/properties/2026-03/…``) are not in the SDK and go straight through
the transport.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from hubaudit.config import Secret
from hubaudit.errors import KindUnreadable
from hubaudit.hubspot.transport import JsonResponse, QueryParams, Transport


def resource_path(api: str, resource: str, version: str, tail: str) -> str:
    """``/crm/v3/properties/deals`` for ``v3``; ``/crm/properties/2026-03/deals`` for a date."""
    if version.startswith("v"):
        return f"/{api}/{version}/{resource}/{tail}"
    return f"/{api}/{resource}/{version}/{tail}"


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

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def GET(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        query_params: list[tuple[str, Any]] | None = None,
        _preload_content: bool = True,
        _request_timeout: Any = None,
    ) -> _SdkResponse:
        base = self._transport.base_url
        path = url[len(base) :] if url.startswith(base) else url
        params = [(name, _query_value(value)) for name, value in query_params or []]
        return _SdkResponse(self._transport.request("GET", path, params=params))


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sdk_api_factory(transport: Transport) -> Callable[[Any, str, Mapping[str, Any]], Any]:
    """An ``api_factory`` for ``hubspot.HubSpot`` whose API classes send through ``transport``."""

    def factory(api_client_package: Any, api_name: str, _config: Mapping[str, Any]) -> Any:
        configuration = api_client_package.Configuration(host=transport.base_url)
        api_client = api_client_package.ApiClient(configuration=configuration)
        api_client.rest_client = _TransportRestClient(transport)
        return getattr(api_client_package, api_name)(api_client=api_client)

    return factory


# The SDK call for each (api, resource) whose v3 path it covers: a function of the SDK client
# and the path tail's arguments that returns the raw response.
SdkCall = Callable[[Any, str, Mapping[str, str]], Any]
_SDK_CALLS: dict[tuple[str, str], SdkCall] = {
    ("crm", "properties"): lambda sdk, object_type, params: sdk.crm.properties.core_api.get_all(
        object_type,
        archived=params.get("archived") == "true",
        _preload_content=False,
    ),
    ("crm", "pipelines"): lambda sdk, object_type, _params: sdk.crm.pipelines.pipelines_api.get_all(
        object_type, _preload_content=False
    ),
}


class HubSpotClient:
    """Reads JSON resources of one portal."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._sdk: Any = None

    @property
    def api_calls(self) -> int:
        return self.transport.api_calls

    def _sdk_client(self) -> Any:
        if self._sdk is None:
            from hubspot import HubSpot  # imported on first use: it is large

            self._sdk = HubSpot(api_factory=sdk_api_factory(self.transport))
        return self._sdk

    def list_results(
        self,
        api: str,
        resource: str,
        version: str,
        object_type: str,
        params: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The ``results`` array of an unpaged list endpoint, as HubSpot sent it."""
        query = dict(params or {})
        sdk_call = _SDK_CALLS.get((api, resource)) if version == "v3" else None
        if sdk_call is not None:
            body = sdk_call(self._sdk_client(), object_type, query).body
        else:
            path = resource_path(api, resource, version, quote(object_type, safe=""))
            body = self.transport.get_json(path, _as_params(query))
        return _results(body, f"{api}/{resource}/{object_type}")


def _as_params(query: Mapping[str, str]) -> QueryParams:
    return list(query.items()) or None


def _results(body: Any, what: str) -> list[dict[str, Any]]:
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
        raise KindUnreadable(
            f"unexpected response shape from {what}: no 'results' list of objects",
            category="MALFORMED_RESPONSE",
        )
    return results


def connect(
    base_url: str,
    token: Secret,
    *,
    portal: str,
    rate_limit_per_10s: int = 100,
    timeout_seconds: float = 30.0,
    max_retries: int = 5,
) -> HubSpotClient:
    """A client for one portal, on a fresh transport. Close it with ``client.transport.close()``."""
    return HubSpotClient(
        Transport(
            base_url,
            token,
            portal=portal,
            rate_limit_per_10s=rate_limit_per_10s,
            timeout_seconds=timeout_seconds,
            max_retries=max_retries,
        )
    )
