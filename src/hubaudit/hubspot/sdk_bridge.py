"""hubspot-api-client's generated API classes, sending through our one transport.

Used only where the SDK adds something real: HubSpot's OAuth token API (``oauth.tokens_api``).
Every GET of a portal's configuration goes straight through :class:`Transport` (``client.py``);
the SDK is never a second way to send it, so this bridge speaks only POST.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hubaudit.hubspot.transport import JsonResponse, Transport


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
