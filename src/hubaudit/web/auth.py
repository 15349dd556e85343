"""Who is asking: a signed session cookie, or a trusted identity-aware proxy's header.

- The session cookie holds a random token signed with the app's secret key (itsdangerous);
  the database holds only the token's SHA-256, so a stolen database signs no one in, and a
  session can be revoked (sign-out, ``users disable``, ``reset-password``) or idle out.
- The proxy header (``[web] proxy_header``) is believed only on a request whose peer address is
  one of ``[web] trusted_proxies``; from anywhere else it is ignored. The person it names must
  be a hubaudit user; a session is opened for them so that forms carry a CSRF token too.
- Every form carries the session's CSRF token; the sign-in form, before any session, a token
  from a signed cookie of its own (double submit).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from hubaudit.logs import get_logger
from hubaudit.model.users import User, WebSession
from hubaudit.services.actor import Actor
from hubaudit.services.terms import Clock, utc_now
from hubaudit.services.users import (
    Throttle,
    open_session,
    proxy_user,
    session_user,
    web_actor,
)

if TYPE_CHECKING:
    from itsdangerous import Signer
    from starlette.requests import Request

    from hubaudit.config import WebSection
    from hubaudit.store.repository import Store

log = get_logger(__name__)

SESSION_COOKIE = "hubaudit_session"
LOGIN_COOKIE = "hubaudit_login"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class WebSettings:
    """The ``[web]`` section as the app uses it, and the four-eyes switch."""

    idle: timedelta = timedelta(minutes=60)
    throttle: Throttle = field(default_factory=Throttle)
    trusted_proxies: tuple[Network, ...] = ()
    proxy_header: str | None = None
    secure_cookies: bool = False
    single_approver: bool = False

    @classmethod
    def of(cls, web: WebSection, single_approver: bool) -> WebSettings:
        return cls(
            idle=timedelta(minutes=web.session_idle_minutes),
            throttle=Throttle(web.login_max_failures, timedelta(minutes=web.login_lockout_minutes)),
            trusted_proxies=networks(web.trusted_proxies),
            proxy_header=web.proxy_header,
            secure_cookies=web.secure_cookies,
            single_approver=single_approver,
        )


def networks(addresses: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(a, strict=False) for a in addresses)


@dataclass(frozen=True)
class Visit:
    """A signed-in request: who, their session, and a new session token to set as the cookie
    (a proxy sign-in opened one)."""

    user: User
    session: WebSession
    new_token: str | None = None

    @property
    def actor(self) -> Actor:
        return web_actor(self.user)


class Gate:
    """Signs cookies and tells who a request comes from."""

    def __init__(
        self, store: Store, settings: WebSettings, secret: str, clock: Clock = utc_now
    ) -> None:
        from itsdangerous import Signer

        self.store = store
        self.settings = settings
        self.clock = clock
        self._signer: Signer = Signer(secret, salt="hubaudit.web.session")
        self._login_signer: Signer = Signer(secret, salt="hubaudit.web.login")

    # cookies ----------------------------------------------------------------------------------

    def sign(self, token: str) -> str:
        return self._signer.sign(token).decode()

    def unsign(self, value: str | None) -> str | None:
        from itsdangerous import BadSignature

        if not value:
            return None
        try:
            return self._signer.unsign(value).decode()
        except BadSignature:
            return None

    def login_token(self, request: Request) -> tuple[str, str | None]:
        """The sign-in form's CSRF token, and the cookie value to set when it is new."""
        from itsdangerous import BadSignature

        value = request.cookies.get(LOGIN_COOKIE)
        if value:
            try:
                return self._login_signer.unsign(value).decode(), None
            except BadSignature:
                pass
        token = secrets.token_urlsafe(32)
        return token, self._login_signer.sign(token).decode()

    def login_token_matches(self, request: Request, given: str | None) -> bool:
        from itsdangerous import BadSignature

        value = request.cookies.get(LOGIN_COOKIE)
        if not value or not given:
            return False
        try:
            expected = self._login_signer.unsign(value).decode()
        except BadSignature:
            return False
        return hmac.compare_digest(expected, given)

    # who --------------------------------------------------------------------------------------

    def from_trusted_proxy(self, request: Request) -> bool:
        if request.client is None or not self.settings.trusted_proxies:
            return False
        try:
            peer = ipaddress.ip_address(request.client.host)
        except ValueError:
            return False
        return any(peer in network for network in self.settings.trusted_proxies)

    def address(self, request: Request) -> str:
        """The client's address: the proxy's word for it only when the proxy is trusted."""
        peer = request.client.host if request.client else "unknown"
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded and self.from_trusted_proxy(request):
            return forwarded.split(",")[-1].strip() or peer
        return peer

    def visit(self, request: Request) -> Visit | None:
        """The signed-in person, or ``None``."""
        token = self.unsign(request.cookies.get(SESSION_COOKIE))
        session = None
        if token is not None:
            session = session_user(self.store, token, self.settings.idle, self.clock)
        header = self.settings.proxy_header
        if header and request.headers.get(header) is not None:
            if not self.from_trusted_proxy(request):
                log.warning("web.proxy_header_ignored", address=self.address(request))
            else:
                return self._proxy_visit(request.headers[header], session)
        if session is None:
            return None
        return Visit(session.user, session)

    def _proxy_visit(self, name: str, session: WebSession | None) -> Visit | None:
        user = proxy_user(self.store, name)
        if user is None:
            log.warning("web.proxy_user_unknown", user=name)
            return None
        if session is not None and session.user.id == user.id:
            return Visit(user, session)
        opened = open_session(self.store, user, self.clock)
        return Visit(user, opened.session, opened.token)


def csrf_matches(visit: Visit, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(visit.session.csrf_token, given or "")
