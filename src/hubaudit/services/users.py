"""The web app's people: accounts (``hubaudit users …``), signing in with a password or
through a trusted proxy, and sessions that idle out or are revoked.

Passwords are hashed with argon2 (argon2-cffi's defaults); a session token lives only in the
person's cookie, the database holds its SHA-256. Failed sign-ins are counted per account and per
address; past ``max_failures`` within the lockout window, sign-in is refused for that account
or address, right password or not."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from hubaudit.errors import SignInRefused, UsageError
from hubaudit.logs import get_logger
from hubaudit.model.users import Role, User, WebSession
from hubaudit.services.actor import Actor, Channel
from hubaudit.services.terms import Clock, utc_now
from hubaudit.store.users import UserStore

if TYPE_CHECKING:
    from argon2 import PasswordHasher

    from hubaudit.store.repository import Store

log = get_logger(__name__)

MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,254}$")
_WRONG = "wrong user name or password"


@dataclass(frozen=True)
class Throttle:
    """How many failed sign-ins (per account, per address) lock sign-in out, and how long."""

    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class SignedIn:
    """A new session: the token for the cookie (never stored) and the session."""

    token: str
    session: WebSession


def web_actor(user: User) -> Actor:
    """The actor a signed-in person's decisions are recorded under: their user name."""
    return Actor(user.username, Channel.WEB)


def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


# accounts -------------------------------------------------------------------------------------


def add_user(
    store: Store,
    username: str,
    role: Role,
    password: str | None,
    display_name: str | None = None,
    clock: Clock = utc_now,
) -> User:
    """A new account; without a password the person can sign in only through the proxy."""
    username = username.strip()
    if not _USERNAME.match(username):
        raise UsageError(
            f"user name {username!r}: letters, digits and . _ @ + - (an email address works)"
        )
    hashed = None if password is None else _hasher().hash(_checked_password(password))
    user = UserStore(store).add(
        username, (display_name or "").strip() or username, role, hashed, clock()
    )
    log.info("user.added", user=username, role=role.value)
    return user


def list_users(store: Store) -> list[User]:
    return UserStore(store).users()


def set_role(store: Store, username: str, role: Role, clock: Clock = utc_now) -> User:
    user = UserStore(store).change(username, clock(), role=role, end_sessions=True)
    log.info("user.role_set", user=username, role=role.value)
    return user


def disable_user(store: Store, username: str, clock: Clock = utc_now) -> User:
    """The account signs in no more; its open sessions end now."""
    user = UserStore(store).change(username, clock(), disabled=True, end_sessions=True)
    log.info("user.disabled", user=username)
    return user


def enable_user(store: Store, username: str, clock: Clock = utc_now) -> User:
    return UserStore(store).change(username, clock(), disabled=False)


def reset_password(store: Store, username: str, password: str, clock: Clock = utc_now) -> User:
    """A new password; the account's open sessions end now."""
    hashed = _hasher().hash(_checked_password(password))
    user = UserStore(store).change(username, clock(), password_hash=hashed, end_sessions=True)
    log.info("user.password_reset", user=username)
    return user


# signing in -----------------------------------------------------------------------------------


def sign_in(
    store: Store,
    username: str,
    password: str,
    address: str,
    throttle: Throttle = Throttle(),
    clock: Clock = utc_now,
) -> SignedIn:
    """Check a password and open a session. Every refusal says the same about a wrong name
    and a wrong password; a throttled account or address is refused before the check."""
    from argon2.exceptions import InvalidHashError, VerificationError

    users = UserStore(store)
    now = clock()
    username = username.strip()[:255]
    by_user, by_address = users.failures_since(username, address, now - throttle.lockout)
    if by_user >= throttle.max_failures or by_address >= throttle.max_failures:
        log.warning("user.sign_in_throttled", user=username, address=address)
        raise SignInRefused(
            "too many failed sign-ins; try again later",
            retry_after=int(throttle.lockout.total_seconds()),
        )
    found = users.password_hash(username)
    hasher = _hasher()
    ok = False
    if found is not None and found[1] is not None and not found[0].disabled:
        try:
            ok = hasher.verify(found[1], password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        hasher.hash(password)  # as long as a real check: the time tells no one a name exists
    users.record_attempt(username, address, now, ok)
    if not ok or found is None:
        log.info("user.sign_in_failed", user=username, address=address)
        raise SignInRefused(_WRONG)
    user = found[0]
    if found[1] is not None and hasher.check_needs_rehash(found[1]):
        users.change(username, now, password_hash=hasher.hash(password))
    log.info("user.signed_in", user=username, address=address)
    return open_session(store, user, clock)


def open_session(store: Store, user: User, clock: Clock = utc_now) -> SignedIn:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = clock()
    UserStore(store).open_session(user.id, _token_hash(token), csrf, now)
    return SignedIn(token, WebSession(user, csrf, now, now))


def session_user(
    store: Store, token: str, idle: timedelta, clock: Clock = utc_now
) -> WebSession | None:
    """The live session of ``token``: ``None`` when it is unknown, revoked, idle longer than
    ``idle`` or its account is disabled. Using it keeps it alive."""
    users = UserStore(store)
    hashed = _token_hash(token)
    found = users.session(hashed)
    if found is None:
        return None
    session, revoked_at = found
    now = clock()
    if revoked_at is not None or session.user.disabled:
        return None
    if now - session.last_seen_at > idle:
        users.revoke(hashed, now)
        return None
    # one write a minute at most, not one per request
    if now - session.last_seen_at > timedelta(seconds=60):
        users.touch(hashed, now)
    return session


def sign_out(store: Store, token: str, clock: Clock = utc_now) -> None:
    UserStore(store).revoke(_token_hash(token), clock())


def proxy_user(store: Store, username: str) -> User | None:
    """The person a trusted proxy names, if hubaudit knows them and their account is on."""
    user = UserStore(store).find(username.strip())
    if user is None or user.disabled:
        return None
    return user
