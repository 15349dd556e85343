"""Accounts, sign-in and sessions through the services and ``hubaudit users``, on SQLite and
Postgres: argon2 hashes, throttling per account and per address, idle timeout, revocation."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubaudit.cli import main
from hubaudit.errors import SignInRefused, UsageError
from hubaudit.model.users import Permission, Role
from hubaudit.services import users
from hubaudit.store.repository import Store

PASSWORD = "correct horse battery"
IDLE = timedelta(minutes=30)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def wait(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_passwords_are_hashed_and_checked(store: Store) -> None:
    clock = Clock()
    rita = users.add_user(store, "rita@example.com", Role.REVOPS, PASSWORD, "Rita", clock)
    assert (rita.display_name, rita.role, rita.has_password) == ("Rita", Role.REVOPS, True)
    with store.engine.connect() as connection:
        stored = connection.execute(sa.text("select password_hash from users")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    signed = users.sign_in(store, "rita@example.com", PASSWORD, "10.0.0.1", clock=clock)
    assert signed.session.user.id == rita.id and len(signed.token) >= 40
    found = users.session_user(store, signed.token, IDLE, clock)
    assert found is not None and found.user.may(Permission.TRIAGE)
    assert not found.user.may(Permission.DECIDE)

    for bad in ("", "ab cd", "x" * 300, "<b>"):
        with pytest.raises(UsageError):
            users.add_user(store, bad, Role.VIEWER, PASSWORD, clock=clock)
    with pytest.raises(UsageError, match="at least 12"):
        users.add_user(store, "short", Role.VIEWER, "short", clock=clock)
    with pytest.raises(UsageError, match="already"):
        users.add_user(store, "rita@example.com", Role.VIEWER, PASSWORD, clock=clock)
    assert [u.username for u in users.list_users(store)] == ["rita@example.com"]


def test_failed_sign_ins_lock_the_account_and_the_address_for_a_while(store: Store) -> None:
    clock = Clock()
    throttle = users.Throttle(max_failures=3, lockout=timedelta(minutes=15))
    users.add_user(store, "carl", Role.COUNCIL, PASSWORD, clock=clock)
    users.add_user(store, "vera", Role.VIEWER, PASSWORD, clock=clock)
    for _ in range(3):
        with pytest.raises(SignInRefused, match="wrong user name or password"):
            users.sign_in(store, "carl", "not the password", "10.0.0.1", throttle, clock)
    # now even the right password is refused, for carl from anywhere…
    with pytest.raises(SignInRefused, match="too many") as refused:
        users.sign_in(store, "carl", PASSWORD, "10.0.0.2", throttle, clock)
    assert refused.value.retry_after == 15 * 60
    # …and for anyone from the address that tried
    with pytest.raises(SignInRefused, match="too many"):
        users.sign_in(store, "vera", PASSWORD, "10.0.0.1", throttle, clock)
    assert users.sign_in(store, "vera", PASSWORD, "10.0.0.3", throttle, clock)
    clock.wait(minutes=16)
    assert users.sign_in(store, "carl", PASSWORD, "10.0.0.1", throttle, clock)


def test_sessions_idle_out_and_are_revoked(store: Store) -> None:
    clock = Clock()
    users.add_user(store, "carl", Role.COUNCIL, PASSWORD, clock=clock)
    token = users.sign_in(store, "carl", PASSWORD, "10.0.0.1", clock=clock).token
    clock.wait(minutes=29)
    assert users.session_user(store, token, IDLE, clock) is not None  # kept alive by use
    clock.wait(minutes=29)
    assert users.session_user(store, token, IDLE, clock) is not None
    clock.wait(minutes=31)
    assert users.session_user(store, token, IDLE, clock) is None  # idle too long
    clock.wait(minutes=1)
    assert users.session_user(store, token, IDLE, clock) is None  # and revoked for good

    token = users.sign_in(store, "carl", PASSWORD, "10.0.0.1", clock=clock).token
    users.reset_password(store, "carl", "a brand new passphrase", clock)
    assert users.session_user(store, token, IDLE, clock) is None
    with pytest.raises(SignInRefused):
        users.sign_in(store, "carl", PASSWORD, "10.0.0.1", clock=clock)
    token = users.sign_in(store, "carl", "a brand new passphrase", "10.0.0.1", clock=clock).token
    users.set_role(store, "carl", Role.VIEWER, clock)
    assert users.session_user(store, token, IDLE, clock) is None
    token = users.sign_in(store, "carl", "a brand new passphrase", "10.0.0.1", clock=clock).token
    users.sign_out(store, token, clock)
    assert users.session_user(store, token, IDLE, clock) is None
    users.disable_user(store, "carl", clock)
    with pytest.raises(SignInRefused, match="wrong user name or password"):
        users.sign_in(store, "carl", "a brand new passphrase", "10.0.0.1", clock=clock)
    assert users.proxy_user(store, "carl") is None
    with pytest.raises(UsageError, match="no user 'nobody'"):
        users.disable_user(store, "nobody", clock)


def test_a_proxy_only_person_cannot_sign_in_with_a_password(store: Store) -> None:
    users.add_user(store, "ada@example.com", Role.ADMIN, None)
    with pytest.raises(SignInRefused):
        users.sign_in(store, "ada@example.com", "", "10.0.0.1")
    found = users.proxy_user(store, " ada@example.com ")
    assert found is not None and found.may(Permission.MANAGE_USERS)


def run(args: list[str], stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    old = __import__("sys").stdin
    __import__("sys").stdin = io.StringIO(stdin)
    try:
        return main(args, out=out), out.getvalue()
    finally:
        __import__("sys").stdin = old


def test_the_users_commands(database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "hubaudit.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
    base = ["--config", str(config)]
    assert run([*base, "db", "upgrade"])[0] == 0
    add = [*base, "users", "add", "rita", "--role", "revops", "--name", "Rita R."]
    assert run([*add, "--password-stdin"], PASSWORD + "\n") == (0, "added rita (revops)\n")
    assert (
        run([*base, "users", "add", "ada@example.com", "--role", "admin", "--no-password"])[0] == 0
    )
    # a bad password or role writes nothing
    assert (
        run([*base, "users", "add", "x", "--role", "revops", "--password-stdin"], "short\n")[0] == 1
    )
    assert run([*base, "users", "add", "y", "--role", "boss", "--no-password"])[0] != 0
    code, listed = run([*base, "users", "list"])
    assert code == 0
    assert listed.splitlines() == [
        "ada@example.com\tadmin\tactive\tproxy only\tada@example.com",
        "rita\trevops\tactive\tpassword\tRita R.",
    ]
    assert run([*base, "users", "set-role", "rita", "council"]) == (0, "rita is now council\n")
    assert (
        run([*base, "users", "reset-password", "rita", "--password-stdin"], "another passphrase\n")[
            0
        ]
        == 0
    )
    assert run([*base, "users", "disable", "rita"])[0] == 0
    assert "rita\tcouncil\tdisabled" in run([*base, "users", "list"])[1]
    assert run([*base, "users", "disable", "nobody"])[0] == 1
