"""The one HTTP layer every HubSpot request goes through.

It paces requests to the portal's ten-secondly limit, slows down when HubSpot's rate-limit
headers say the window is spent, retries 429, 5xx, timeouts and malformed bodies with backoff
and jitter (honouring ``Retry-After``), stops the run on the ``DAILY`` policy, and turns every
other refusal into a :class:`KindUnreadable` that the collector records as coverage.

A portal that cannot be reached at all (connection refused, no such host, connect timeout) is
not a part that failed: until something has answered at the base URL, one request at a time
probes it, retried for a few seconds only, and then the run stops with one
:class:`PortalUnreachable` naming the URL and the cause, instead of every part retrying for
minutes and the run storing an empty snapshot.
Every wait and pace HubSpot's headers ask for is held within one :class:`RateLimitPolicy`;
a header held back is logged and counted (:attr:`Transport.rate_limit_capped`).
The bearer token comes from the portal's :class:`Credentials` (a private-app token, or an OAuth
app's access tokens, renewed once when HubSpot answers 401). Headers are never logged, so the
token never is.
"""

from __future__ import annotations

import email.utils
import json
import random
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, Protocol

import httpx

from hubaudit.config import Secret
from hubaudit.errors import (
    DailyLimitReached,
    HubSpotAuthError,
    KindUnreadable,
    PortalUnreachable,
    RetriableError,
    RunStopped,
)
from hubaudit.logs import get_logger
from hubaudit.secrets import scrub

log = get_logger(__name__)

QueryParams = list[tuple[str, str]] | None
FormFields = list[tuple[str, str]]

_RETRIABLE_STATUS = frozenset({423, 429, 477})  # and every 5xx
_BACKOFF_BASE_SECONDS = 0.5
_BACKOFF_CAP_SECONDS = 30.0
_WINDOW_MARGIN_SECONDS = 0.1
# How long a portal that nothing answers at is retried before the run stops: long enough for a
# blip (a restarting proxy), short enough that a wrong base_url fails in seconds, not minutes.
_CONNECT_GRACE_SECONDS = 5.0
_INTERVAL_HEADER = "X-HubSpot-RateLimit-Interval-Milliseconds"


@dataclass(frozen=True)
class Held:
    """A value HubSpot's headers asked for, and the one used: ``capped`` when they differ."""

    asked: float
    used: float

    @property
    def capped(self) -> bool:
        return self.used != self.asked


@dataclass(frozen=True)
class RateLimitPolicy:
    """Every wait and pace HubSpot's answers can ask for, and the bounds each is held to.

    A header is HubSpot's word, but one wrong header must neither stall a nightly run for an
    hour (``X-HubSpot-RateLimit-Interval-Milliseconds: 3600000``, or ``Retry-After: 86400``)
    nor pace the rest of it at one call per ten seconds (``X-HubSpot-RateLimit-Max: 1``). A
    request that is still refused after a bounded wait is retried, and its part fails with a
    reason once the retries are spent: never a run that hangs.
    """

    max_retry_after_seconds: float = 120.0
    """The longest ``Retry-After`` obeyed."""
    max_window_seconds: float = 10.0
    """The longest rolling window an ``Interval-Milliseconds`` header is believed for:
    HubSpot's burst windows are ten seconds and one; its daily limit is the ``DAILY`` policy,
    which stops the run, never a window to wait out."""
    default_window_seconds: float = 10.0
    """The window waited out after a 429 that names none."""
    min_requests_per_10s: int = 50
    """The slowest pace a ``Max`` header may set (unless the portal's config asks for less):
    HubSpot's lowest published limit is 100 per 10 s (a private app on Free), and its search
    limit 5 a second. Were a portal's limit really lower, its 429s would still be waited out."""

    def retry_after(self, seconds: float) -> Held:
        return Held(seconds, min(seconds, self.max_retry_after_seconds))

    def window(self, interval_ms: float | None) -> Held:
        if interval_ms is None or interval_ms <= 0:
            return Held(self.default_window_seconds, self.default_window_seconds)
        asked = interval_ms / 1000
        return Held(asked, min(asked, self.max_window_seconds))

    def pace(self, most: float, interval_ms: float | None, configured: int) -> Held:
        """Requests per ten seconds for a ``Max`` header (``most`` per interval)."""
        window = self.window(interval_ms)
        asked = most * 10 / window.asked
        floor = min(configured, self.min_requests_per_10s)
        return Held(asked, max(float(floor), most * 10 / window.used))


DEFAULT_MAX_RESPONSE_BYTES = 64 * 2**20
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class RateLimiter:
    """At most ``limit`` requests in any rolling ``window`` seconds, shared by all threads.

    A request holds its place in the window from the moment it is sent; when it completes, its
    time moves to the completion (:meth:`settle`). HubSpot counts a request when it arrives,
    somewhere between the two, so a place never frees up before HubSpot's does.
    """

    def __init__(
        self,
        limit: int,
        window: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sent: list[list[float]] = []
        self._not_before = 0.0
        self._changed = threading.Condition()
        # Waiting releases the lock (others may pause or settle meanwhile); tests pass a fake
        # sleep that advances a fake clock instead.
        self._sleep = sleep

    def acquire(self, stop: threading.Event | None = None) -> list[float]:
        """Wait for a place in the window; return it (to :meth:`settle` once answered).
        A ``stop`` set meanwhile ends the wait with :class:`RunStopped`."""
        with self._changed:
            while True:
                if stop is not None and stop.is_set():
                    raise RunStopped("the run was stopped while waiting for the rate limit")
                now = self._clock()
                self._sent = [place for place in self._sent if place[0] > now - self.window]
                wait = self._not_before - now
                if len(self._sent) >= self.limit:
                    wait = max(wait, min(place[0] for place in self._sent) + self.window - now)
                if wait <= 0:
                    place = [now]
                    self._sent.append(place)
                    return place
                if self._sleep is not None:
                    self._sleep(wait)
                else:  # in slices, so that a stop is noticed within half a second
                    self._changed.wait(min(wait, 0.5) if stop is not None else wait)

    def in_window(self) -> int:
        with self._changed:
            now = self._clock()
            return sum(1 for place in self._sent if place[0] > now - self.window)

    def settle(self, place: list[float]) -> None:
        with self._changed:
            place[0] = max(place[0], self._clock())

    def pause(self, seconds: float) -> None:
        """HubSpot says the window is spent: send nothing for ``seconds`` from now."""
        until = self._clock() + seconds
        with self._changed:
            self._not_before = max(self._not_before, until)
            self._changed.notify_all()

    def lower_limit(self, limit: int) -> bool:
        """HubSpot's headers name a lower limit than configured: follow HubSpot."""
        with self._changed:
            if 0 < limit < self.limit:
                self.limit = limit
                return True
            return False


class Credentials(Protocol):
    """Where a portal's bearer token comes from: a private-app token, or an OAuth app."""

    refusal_hint: str
    """What to check when HubSpot refuses the token for good (ends the run's error)."""

    def bearer(self, transport: Transport) -> Secret:
        """The access token to send now (an OAuth token about to expire is renewed first)."""
        ...

    def renew(self, transport: Transport, refused: Secret) -> bool:
        """HubSpot answered 401 to ``refused``: True if a fresh token is now there to try once."""
        ...

    def close(self) -> None:
        """The transport is closed: no request will carry these tokens again."""
        ...


class PrivateAppToken:
    """A private app's token: sent as it is, never renewed."""

    refusal_hint = "check the private-app token and that the app is installed"

    def __init__(self, token: Secret) -> None:
        self._token = token

    def bearer(self, transport: Transport) -> Secret:
        return self._token

    def renew(self, transport: Transport, refused: Secret) -> bool:
        return False

    def close(self) -> None:
        """The token is the portal's for good (and read again by the next run): kept known."""


@dataclass(frozen=True)
class HubSpotErrorBody:
    """The fields of HubSpot's error envelope that decide what to do; every one may be absent."""

    category: str | None = None
    message: str | None = None
    policy: str | None = None
    scopes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, response: httpx.Response) -> HubSpotErrorBody:
        try:
            body = response.json()
        except ValueError:
            return cls()
        if not isinstance(body, dict):
            return cls()
        scopes: list[str] = []
        for error in body.get("errors") or []:
            context = error.get("context") if isinstance(error, dict) else None
            if isinstance(context, dict):
                for name in ("requiredGranularScopes", "requiredScopes", "missingScopes"):
                    values = context.get(name)
                    if isinstance(values, list):
                        scopes.extend(str(v) for v in values)
        category = body.get("category") or body.get("errorType")
        # HubSpot's words go into exceptions, coverage reasons, run errors and reports:
        # scrubbed here, where they come in (an error body may quote the request)
        return cls(
            category=scrub(str(category)) if category else None,
            message=scrub(str(body["message"])) if body.get("message") else None,
            policy=str(body["policyName"]) if body.get("policyName") else None,
            scopes=tuple(dict.fromkeys(scrub(s) for s in scopes)),
        )


@dataclass(frozen=True)
class Failure:
    """A request that got no usable answer: what to log and give up with, and — when no
    connection was made at all — why not (``connection refused``), for :class:`PortalUnreachable`.
    """

    reason: str
    cannot_connect: str | None = None


def classify_failure(exc: httpx.HTTPError) -> Failure:
    """Sort an exception of the HTTP client, as :meth:`Transport._accept` sorts responses: every
    one is retried; one that made no connection may also mean that the portal is unreachable."""
    if isinstance(exc, httpx.ConnectTimeout):
        return Failure("timed out", "connect timed out")
    if isinstance(exc, httpx.TimeoutException):
        return Failure("timed out")
    if isinstance(exc, httpx.ConnectError):
        return Failure(f"connection failed ({type(exc).__name__})", _connect_cause(exc))
    if isinstance(exc, httpx.TransportError):
        return Failure(f"connection failed ({type(exc).__name__})")
    return Failure(f"unreadable response ({type(exc).__name__})")  # a body that won't decompress


def _connect_cause(exc: BaseException) -> str:
    """The operating system's reason a connection failed, in a few plain words."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 10:
        current = todo.pop(0)
        seen.append(current)
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        todo += [a for a in current.args if isinstance(a, BaseException)]
    for error in seen:
        if isinstance(error, ConnectionRefusedError):
            return "connection refused"
        if isinstance(error, socket.gaierror):
            return f"host name not found ({error.strerror})" if error.strerror else "host not found"
        if isinstance(error, ssl.SSLError):
            return f"TLS handshake failed ({error.reason or error})"
        if isinstance(error, OSError) and error.strerror:
            return error.strerror[:1].lower() + error.strerror[1:]
    text = str(exc)
    return text if text else type(exc).__name__


def _without_userinfo(url: str) -> str:
    """A URL fit for a message: never ``user:password@``."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


@dataclass(frozen=True)
class JsonResponse:
    """A successful response and its body, parsed once."""

    response: httpx.Response
    body: Any


class Transport:
    """Sends requests to one portal. Thread-safe; pacing is shared by every caller."""

    def __init__(
        self,
        base_url: str,
        token: Secret | Credentials,
        *,
        portal: str = "",
        rate_limit_per_10s: int = 100,
        timeout_seconds: float = 30.0,
        max_retries: int = 5,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        stop: threading.Event | None = None,
        policy: RateLimitPolicy | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        connect_grace_seconds: float = _CONNECT_GRACE_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_response_bytes = max_response_bytes
        self.policy = policy or RateLimitPolicy()
        self._capped = 0
        self._capped_headers: set[str] = set()
        # set by a worker that is stopping: the next request raises RunStopped instead of going
        self.stop = stop or threading.Event()
        self._rate_limited = 0
        self.portal = portal
        self.max_retries = max_retries
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.connect_grace_seconds = connect_grace_seconds
        # Until something answers at the base URL, one request probes it and the rest wait.
        self._contact = threading.Condition()
        self._reached = False
        self._probing = False
        self._unreachable: str | None = None
        # A little over ten seconds: HubSpot counts a request when it arrives, a moment after we
        # count it here, and a window that ends exactly on time would be one request too many.
        self.limiter = RateLimiter(
            rate_limit_per_10s,
            10.0 + _WINDOW_MARGIN_SECONDS,
            clock=clock,
            sleep=None if sleep is time.sleep else sleep,  # real waits release the lock
        )
        self._http = http or httpx.Client(timeout=timeout_seconds)
        self._owns_http = http is None
        self.credentials = PrivateAppToken(token) if isinstance(token, Secret) else token
        self._calls = 0
        self._calls_lock = threading.Lock()

    @property
    def api_calls(self) -> int:
        return self._calls

    @property
    def rate_limited(self) -> int:
        """How many 429 answers HubSpot gave (each was waited out and retried)."""
        return self._rate_limited

    @property
    def rate_limit_capped(self) -> int:
        """How many times a rate-limit header asked for a wait or a pace beyond
        :attr:`policy`'s bounds (each was held to the bound)."""
        return self._capped

    def close(self) -> None:
        self.credentials.close()
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get_json(self, path: str, params: QueryParams = None, *, exempt: bool = False) -> Any:
        """GET ``path`` and return its parsed JSON body."""
        return self.request("GET", path, params=params, exempt=exempt).body

    def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams = None,
        json_body: Any = None,
        form: FormFields | None = None,
        headers: Mapping[str, str] | None = None,
        exempt: bool = False,
        authenticated: bool = True,
    ) -> JsonResponse:
        """Send one request, with pacing and retries; return a 2xx response whose body is JSON.
        ``authenticated=False`` sends no bearer token (HubSpot's OAuth token endpoint)."""
        if authenticated:
            # an OAuth token is issued before this request may probe the portal: the token
            # request itself is then the probe, and never waits for this one
            self.credentials.bearer(self)
        probe = self._await_contact()
        try:
            return self._with_retries(
                method, path, params, json_body, form, headers, exempt, authenticated, probe
            )
        finally:
            if probe:
                with self._contact:
                    self._probing = False
                    self._contact.notify_all()

    def _await_contact(self) -> bool:
        """Has anything answered at the base URL yet? If not, this request may be the one that
        probes it (True), or waits for the probe's outcome."""
        if self._reached:
            return False
        with self._contact:
            while True:
                if self._unreachable is not None:
                    raise PortalUnreachable(self._unreachable)
                if self._reached:
                    return False
                if not self._probing:
                    self._probing = True
                    return True
                if self.stop.is_set():
                    raise RunStopped(f"portal {self.portal!r}: the run was stopped")
                self._contact.wait(0.5)

    def _mark_reached(self) -> None:
        if not self._reached:
            with self._contact:
                self._reached = True
                self._contact.notify_all()

    def _with_retries(
        self,
        method: str,
        path: str,
        params: QueryParams,
        json_body: Any,
        form: FormFields | None,
        headers: Mapping[str, str] | None,
        exempt: bool,
        authenticated: bool,
        probe: bool,
    ) -> JsonResponse:
        url = self.base_url + path
        last_failure = ""
        first_try = self._clock()
        for attempt in range(self.max_retries + 1):
            if self.stop.is_set():
                raise RunStopped(f"portal {self.portal!r}: the run was stopped before {path}")
            paced = not exempt
            sent = (method, url, path, params, json_body, form, headers, paced)
            try:
                token = self.credentials.bearer(self) if authenticated else None
                response = self._exchange(*sent, token, attempt)
                self._mark_reached()
                refused = response.status_code == 401 and token is not None
                if refused and token is not None and self.credentials.renew(self, token):
                    # once: a second 401, with a token just issued, is final (_accept)
                    response = self._exchange(*sent, self.credentials.bearer(self), attempt)
                self._follow_rate_headers(response)
                return self._accept(response, path, exempt=exempt)
            except RetriableError as exc:
                last_failure = str(exc)
                delay = exc.retry_after if exc.retry_after is not None else self._backoff(attempt)
            except httpx.HTTPError as exc:
                failure = classify_failure(exc)
                last_failure = failure.reason
                delay = self._backoff(attempt)
                if failure.cannot_connect is None:
                    self._mark_reached()  # a connection was made: the portal is there
                elif probe and not self._reached:
                    waited = self._clock() - first_try
                    if attempt >= self.max_retries or waited + delay > self.connect_grace_seconds:
                        self._give_up_connecting(failure.cannot_connect, attempt + 1, waited)
            if attempt < self.max_retries:
                # a first contact's retries are said once, in the error if they all fail
                report = log.warning if self._reached else log.info
                report(
                    "hubspot.retry",
                    portal=self.portal,
                    path=path,
                    attempt=attempt + 1,
                    reason=last_failure,
                    wait_s=round(delay, 2),
                )
                if self._sleep is time.sleep:
                    self.stop.wait(delay)  # a stop ends the wait; the loop then raises
                else:
                    self._sleep(delay)
        raise KindUnreadable(
            f"gave up after {self.max_retries + 1} attempts: {last_failure}",
            category="RETRIES_EXHAUSTED",
        )

    def _exchange(
        self,
        method: str,
        url: str,
        path: str,
        params: QueryParams,
        json_body: Any,
        form: FormFields | None,
        headers: Mapping[str, str] | None,
        paced: bool,
        token: Secret | None,
        attempt: int,
    ) -> httpx.Response:
        """One HTTP exchange: paced, counted, logged without its headers."""
        place = self.limiter.acquire(self.stop) if paced else None
        with self._calls_lock:
            self._calls += 1
        started = time.monotonic()
        sent_headers = {**(headers or {}), "Accept": "application/json"}
        if token is not None:
            sent_headers["Authorization"] = f"Bearer {token.reveal()}"
        try:
            response = self._send(
                method,
                url,
                params=tuple(params) if params else None,
                json=json_body,
                data=dict(form) if form is not None else None,
                headers=sent_headers,
            )
        finally:
            if place is not None:
                self.limiter.settle(place)
        log.debug(
            "hubspot.request",
            portal=self.portal,
            method=method,
            path=path,
            status=response.status_code,
            attempt=attempt + 1,
            elapsed_ms=round((time.monotonic() - started) * 1000),
        )
        return response

    def _give_up_connecting(self, cause: str, attempts: int, waited: float) -> NoReturn:
        """Nothing ever answered at the base URL: stop the run, and every request waiting."""
        message = (
            f"cannot connect to {_without_userinfo(self.base_url)}: {cause} "
            f"({attempts} attempt{'s' if attempts != 1 else ''} over {waited:.0f} s)"
        )
        with self._contact:
            self._unreachable = message
            self._contact.notify_all()
        raise PortalUnreachable(message)

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: tuple[tuple[str, str], ...] | None,
        json: Any,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        """Send and read the answer, refusing a body over ``max_response_bytes`` (as HubSpot
        declares it, and as it is decompressed while it arrives) before it fills the memory."""
        with self._http.stream(
            method,
            url,
            params=params,
            json=json,
            data=data,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if self._reached else self._first_contact_timeout(),
        ) as streamed:
            self._mark_reached()  # an answer, even one refused below, is contact
            declared = _number(streamed.headers.get("Content-Length"))
            if declared is not None and declared > self.max_response_bytes:
                raise self._too_large(url)
            chunks: list[bytes] = []
            size = 0
            for chunk in streamed.iter_bytes():
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise self._too_large(url)
                chunks.append(chunk)
        return httpx.Response(
            streamed.status_code,
            headers=[
                (name, value)
                for name, value in streamed.headers.multi_items()
                if name.lower() not in _BODY_HEADERS
            ],
            content=b"".join(chunks),
            request=streamed.request,
            extensions=streamed.extensions,
        )

    def _first_contact_timeout(self) -> httpx.Timeout:
        """Until the portal has answered, a connection attempt may not outlast the grace: a
        host that drops connection attempts fails the run in seconds, not a request timeout."""
        usual = self._http.timeout
        grace = self.connect_grace_seconds
        connect = grace if usual.connect is None else min(usual.connect, grace)
        return httpx.Timeout(connect=connect, read=usual.read, write=usual.write, pool=usual.pool)

    def _too_large(self, url: str) -> KindUnreadable:
        path = url[len(self.base_url) :] if url.startswith(self.base_url) else url
        limit = self.max_response_bytes / 2**20
        return KindUnreadable(
            f"the response to {path} is larger than {limit:.3g} MB (max_response_mb): not read",
            category="RESPONSE_TOO_LARGE",
        )

    def _accept(self, response: httpx.Response, path: str, *, exempt: bool = False) -> JsonResponse:
        status = response.status_code
        if 200 <= status < 300:
            try:
                return JsonResponse(response, json.loads(response.content))
            except ValueError as exc:
                raise RetriableError("malformed JSON in a successful response") from exc
        error = HubSpotErrorBody.parse(response)
        what = f"HTTP {status}" + (f" {error.category}" if error.category else "")
        if error.message:
            what += f": {error.message}"
        if status == 401:
            raise HubSpotAuthError(
                f"portal {self.portal!r}: HubSpot refused the token ({what}); "
                + self.credentials.refusal_hint
            )
        if status == 429:
            with self._calls_lock:
                self._rate_limited += 1
        if status == 429 and (error.policy or "").upper() == "DAILY":
            raise DailyLimitReached(
                f"portal {self.portal!r}: HubSpot's DAILY API limit is reached; "
                "the run stopped and stored nothing half-read. It resets at midnight in the "
                "portal's time zone."
            )
        if status in _RETRIABLE_STATUS or status >= 500:
            raise RetriableError(what, retry_after=self._retry_after(response, status, exempt))
        raise KindUnreadable(
            f"{what} on {path}" + (f" (scopes: {', '.join(error.scopes)})" if error.scopes else ""),
            category=error.category,
            status=status,
            scopes=error.scopes,
            # A 403 that is not about scopes is the portal's tier or product lacking the API.
            unsupported=status == 403 and error.category != "MISSING_SCOPES",
        )

    def _retry_after(self, response: httpx.Response, status: int, exempt: bool) -> float | None:
        header = _retry_after_seconds(response.headers.get("Retry-After"))
        held = (
            None if header is None else self._held("Retry-After", self.policy.retry_after(header))
        )
        if status != 429:
            return held
        if held is None:
            interval_ms = _number(response.headers.get(_INTERVAL_HEADER))
            held = self._held(_INTERVAL_HEADER, self.policy.window(interval_ms))
        self.limiter.pause(held)
        # the limiter now holds every paced caller until the window has passed; a request HubSpot
        # exempts from the burst limit never waits there, so it waits here
        return held if exempt else 0.0

    def _follow_rate_headers(self, response: httpx.Response) -> None:
        """Slow down when HubSpot's ``X-HubSpot-RateLimit-*`` headers say so."""
        if response.status_code == 429:
            return
        interval_ms = _number(response.headers.get(_INTERVAL_HEADER))
        most = _number(response.headers.get("X-HubSpot-RateLimit-Max"))
        if most is not None:
            pace = self.policy.pace(most, interval_ms, self.limiter.limit)
            if pace.asked < self.limiter.limit:  # only a lower limit is followed
                per_ten_seconds = int(self._held("X-HubSpot-RateLimit-Max", pace))
                if self.limiter.lower_limit(per_ten_seconds):
                    log.warning(
                        "hubspot.rate_limit_lowered", portal=self.portal, limit=per_ten_seconds
                    )
        left = _number(response.headers.get("X-HubSpot-RateLimit-Remaining"))
        if left is not None and left <= 0 and self.limiter.in_window() < self.limiter.limit:
            # HubSpot counts more than we sent: something else spends this app's budget.
            self.limiter.pause(self._held(_INTERVAL_HEADER, self.policy.window(interval_ms)))

    def _held(self, header: str, held: Held) -> float:
        """The value to use; a header held back by the policy is counted, and logged (a
        warning the first time for each header, then at debug level: every response of a
        portal may carry it)."""
        if held.capped:
            with self._calls_lock:
                self._capped += 1
                first = header not in self._capped_headers
                self._capped_headers.add(header)
            (log.warning if first else log.debug)(
                "hubspot.rate_limit_capped",
                portal=self.portal,
                header=header,
                asked=round(held.asked, 3),
                used=round(held.used, 3),
            )
        return held.used

    def _backoff(self, attempt: int) -> float:
        ceiling = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2.0**attempt)
        return ceiling * (0.5 + self._rng.random() / 2)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 else None


def _retry_after_seconds(text: str | None) -> float | None:
    """``Retry-After`` as seconds (a number or an HTTP date); :class:`RateLimitPolicy` caps it."""
    if text is None:
        return None
    seconds = _number(text)
    if seconds is None:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = max(0.0, (when - datetime.now(UTC)).total_seconds())
    return seconds
