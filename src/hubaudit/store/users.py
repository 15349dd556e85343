"""The web app's accounts, sessions and sign-in attempts: persisted as the services decide."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from hubaudit.errors import UsageError
from hubaudit.model.users import Role, User, WebSession
from hubaudit.store.repository import Store
from hubaudit.store.tables import LoginAttemptRow, UserRow, WebSessionRow


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        disabled=row.disabled,
        has_password=row.password_hash is not None,
        created_at=row.created_at,
    )


class UserStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    # accounts ---------------------------------------------------------------------------------

    def add(
        self,
        username: str,
        display_name: str,
        role: Role,
        password_hash: str | None,
        at: datetime,
    ) -> User:
        with self.store.session() as session:
            taken = session.scalar(select(UserRow.id).where(UserRow.username == username))
            if taken is not None:
                raise UsageError(f"there is already a user {username!r}")
            row = UserRow(
                username=username,
                display_name=display_name,
                role=role.value,
                password_hash=password_hash,
                disabled=False,
                created_at=at,
                updated_at=at,
            )
            session.add(row)
            session.flush()
            return _user(row)

    def users(self) -> list[User]:
        with self.store.session() as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    def find(self, username: str) -> User | None:
        with self.store.session() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            return None if row is None else _user(row)

    def password_hash(self, username: str) -> tuple[User, str | None] | None:
        with self.store.session() as session:
            row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
            return None if row is None else (_user(row), row.password_hash)

    def change(
        self,
        username: str,
        at: datetime,
        *,
        role: Role | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
        end_sessions: bool = False,
    ) -> User:
        """Change an account; ``end_sessions`` revokes every session it has open."""
        with self.store.session() as session:
            row = session.scalars(
                select(UserRow).where(UserRow.username == username).with_for_update()
            ).first()
            if row is None:
                raise UsageError(f"there is no user {username!r}")
            if role is not None:
                row.role = role.value
            if disabled is not None:
                row.disabled = disabled
            if password_hash is not None:
                row.password_hash = password_hash
            row.updated_at = at
            if end_sessions:
                session.execute(
                    update(WebSessionRow)
                    .where(WebSessionRow.user_id == row.id, WebSessionRow.revoked_at.is_(None))
                    .values(revoked_at=at)
                )
            session.flush()
            return _user(row)

    # sessions ---------------------------------------------------------------------------------

    def open_session(self, user_id: int, token_hash: str, csrf_token: str, at: datetime) -> None:
        with self.store.session() as session:
            session.add(
                WebSessionRow(
                    token_hash=token_hash,
                    user_id=user_id,
                    csrf_token=csrf_token,
                    created_at=at,
                    last_seen_at=at,
                )
            )

    def session(self, token_hash: str) -> tuple[WebSession, datetime | None] | None:
        """The session of that token hash, and when it was revoked (``None``: it was not)."""
        with self.store.session() as session:
            found = session.execute(
                select(WebSessionRow, UserRow)
                .join(UserRow, WebSessionRow.user_id == UserRow.id)
                .where(WebSessionRow.token_hash == token_hash)
            ).first()
            if found is None:
                return None
            row, user = found
            return (
                WebSession(_user(user), row.csrf_token, row.created_at, row.last_seen_at),
                row.revoked_at,
            )

    def touch(self, token_hash: str, at: datetime) -> None:
        with self.store.session() as session:
            session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.token_hash == token_hash)
                .values(last_seen_at=at)
            )

    def revoke(self, token_hash: str, at: datetime) -> None:
        with self.store.session() as session:
            session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.token_hash == token_hash, WebSessionRow.revoked_at.is_(None))
                .values(revoked_at=at)
            )

    # sign-in attempts -------------------------------------------------------------------------

    def record_attempt(self, username: str, address: str, at: datetime, succeeded: bool) -> None:
        with self.store.session() as session:
            session.add(
                LoginAttemptRow(
                    username=username[:255], address=address[:64], at=at, succeeded=succeeded
                )
            )

    def failures_since(self, username: str, address: str, since: datetime) -> tuple[int, int]:
        """Failed attempts since ``since``: for the account, and from the address."""
        with self.store.session() as session:
            failed = LoginAttemptRow.succeeded.is_(False)
            recent = LoginAttemptRow.at >= since
            by_user = session.scalar(
                select(func.count()).where(failed, recent, LoginAttemptRow.username == username)
            )
            by_address = session.scalar(
                select(func.count()).where(failed, recent, LoginAttemptRow.address == address)
            )
            return by_user or 0, by_address or 0
