"""Access tokens for a portal that installed an OAuth (public) app, instead of a private app.

An agency installs one public app in every client portal; each portal gives hubaudit the app's
client id and client secret and its own refresh token. :class:`OAuthTokens` exchanges them for
short-lived access tokens with HubSpot's own OAuth API (``hubspot-api-client``'s
``oauth.tokens_api``, sending through our :class:`Transport` like every other request), keeps
them in memory only, renews one before it expires, and renews once more when HubSpot answers
401 (a token revoked early). Tokens are :class:`Secret` values: never in a repr, and known to
the scrubber (:mod:`hubaudit.secrets`) from the moment they arrive, with the client secret and
the refresh token, so that no log line, database column or report can hold one. When the
transport closes, its access tokens are forgotten again: no request carries them any more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from hubaudit.config import OAuthApp, Secret
from hubaudit.errors import HubSpotAuthError, KindUnreadable
from hubaudit.hubspot.sdk_bridge import sdk_api_factory
from hubaudit.hubspot.transport import Transport
from hubaudit.logs import get_logger
from hubaudit.secrets import forget_secret

log = get_logger(__name__)

# HubSpot's access tokens live 30 minutes; renew one 5 minutes before it ends (or, for a token
# that lives less, a fifth of its life before), so that no request carries a token that expires
# on its way.
RENEW_BEFORE_EXPIRY_SECONDS = 300.0


class OAuthTokens:
    """A portal's OAuth access tokens. Thread-safe: one renewal at a time, shared by all."""

    refusal_hint = (
        "HubSpot refused an OAuth access token it had just issued: check that the app is "
        "still installed in the portal and was granted the scopes hubaudit reads with"
    )

    def __init__(self, app: OAuthApp, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._refresh_token = app.refresh_token
        self._clock = clock
        self._access: Secret | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()
        self._issued: list[Secret] = []

    @property
    def issued(self) -> int:
        """How many access tokens HubSpot issued to this portal's run."""
        return len(self._issued)

    def close(self) -> None:
        with self._lock:
            for token in self._issued:
                forget_secret(token.reveal())
            self._issued.clear()
            self._access = None

    def bearer(self, transport: Transport) -> Secret:
        with self._lock:
            if self._access is None:
                return self._issue(transport, "first request")
            if self._clock() >= self._renew_at:
                return self._issue(transport, "about to expire")
            return self._access

    def renew(self, transport: Transport, refused: Secret) -> bool:
        with self._lock:
            if self._access is refused:
                self._issue(transport, "HubSpot answered 401")
            # else another request renewed it meanwhile: try that one
            return True

    def _issue(self, transport: Transport, reason: str) -> Secret:
        """A new access token from HubSpot's token endpoint (under ``self._lock``)."""
        asked_at = self._clock()
        try:
            answer = self._tokens_api(transport).create(
                grant_type="refresh_token",
                client_id=self._app.client_id,
                client_secret=self._app.client_secret.reveal(),
                refresh_token=self._refresh_token.reveal(),
            )
            access, lifetime = answer.access_token, answer.expires_in
        except (KindUnreadable, HubSpotAuthError) as exc:  # refused (4xx), or retries spent
            raise HubSpotAuthError(
                f"portal {transport.portal!r}: HubSpot did not issue an OAuth access token "
                f"({exc}); check the app's client id and client secret and the portal's "
                "refresh token (it stops working when the app is uninstalled)"
            ) from exc
        except ValueError as exc:  # the SDK's model refused the answer (no access_token…)
            raise HubSpotAuthError(
                f"portal {transport.portal!r}: HubSpot's token endpoint answered without "
                "an access token and its lifetime"
            ) from exc
        if not isinstance(access, str) or not access or not isinstance(lifetime, int):
            raise HubSpotAuthError(
                f"portal {transport.portal!r}: HubSpot's token endpoint answered without "
                "an access token and its lifetime"
            )
        self._access = Secret(access)  # known to the scrubber from now on
        self._issued.append(self._access)
        renewed = answer.refresh_token
        if isinstance(renewed, str) and renewed and renewed != self._refresh_token.reveal():
            self._refresh_token = Secret(renewed)  # in memory only, like the access token
        # counted from when it was asked for: HubSpot's clock started before our answer came
        self._renew_at = asked_at + lifetime - min(RENEW_BEFORE_EXPIRY_SECONDS, lifetime / 5)
        log.info(
            "hubspot.oauth_token_issued",
            portal=transport.portal,
            reason=reason,
            expires_in_s=lifetime,
        )
        return self._access

    @staticmethod
    def _tokens_api(transport: Transport) -> Any:
        from hubspot import HubSpot  # imported on first use: it is large

        factory = sdk_api_factory(transport, authenticated=False)
        return HubSpot(api_factory=factory).oauth.tokens_api
