"""One exception root, with families named for what the caller does about them.

    HubauditError
     ├── FatalError            the run cannot go on; the edge prints the message and exits 1
     │    ├── ConfigError      the config file is wrong (names file, line and key)
     │    ├── UsageError       a command asked for something that does not exist
     │    │    ├── PortalNotStored    the database holds nothing of the portal yet
     │    │    ├── ProposalPending    a baseline version awaits the council's decision
     │    │    ├── NoAuditReport      the portal has no stored audit report yet
     │    │    ├── NoSuchRun          the portal has no run of that id
     │    │    ├── NoApprovedBaseline the portal has no approved baseline version yet
     │    │    ├── DecisionIncomplete a decision lacks why: MissingNote, MissingReason
     │    │    ├── NotAllowed         this person may not take this decision (four eyes, a role)
     │    │    └── SignInRefused      wrong name or password, a disabled account, throttled
     │    ├── DatabaseError    the database is unreachable or not migrated
     │    │    └── SchemaNotCurrent   the database is not at the newest migration
     │    ├── HubSpotAuthError HubSpot refused the token for the whole portal
     │    ├── PortalUnreachable nothing answers at the portal's base URL: store nothing
     │    ├── ReadTooLittle    a run read too little of what its baseline governs: store nothing
     │    └── DailyLimitReached HubSpot's DAILY policy: stop cleanly, store nothing half-read
     ├── RetriableError        trying again may succeed (429, 5xx, timeouts); the transport retries
     └── SkippableError        this part cannot be read; record it in coverage and go on
          └── KindUnreadable   403 missing scopes, a tier without the API, retries exhausted

Foreign exceptions (httpx, SQLAlchemy, tomllib) are translated at the boundary with
``raise ... from exc``. Messages never contain a token, and say what is wrong without naming a
command: an edge adds what to do next from the exception's class (``hubaudit.cli.hints``).
"""

from __future__ import annotations


class HubauditError(Exception):
    """Root of every error hubaudit raises on purpose."""


class FatalError(HubauditError):
    """The run cannot go on."""


class ConfigError(FatalError):
    """The configuration is broken. Says where: file, line and key."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.key = key
        where = ":".join(str(part) for part in (file, line) if part is not None)
        prefix = f"{where}: " if where else ""
        key_part = f"[{key}] " if key else ""
        super().__init__(f"{prefix}{key_part}{message}")


class UsageError(FatalError):
    """A command named a portal, snapshot or baseline that does not exist."""


class PortalNotStored(UsageError):
    """The database holds nothing of the portal yet (it was never snapshotted)."""

    def __init__(self, portal: str) -> None:
        self.portal = portal
        super().__init__(f"portal {portal!r} has no snapshot yet")


class ProposalPending(UsageError):
    """A proposed baseline version awaits the council's decision, so no other can be made."""

    def __init__(self, portal: str, version: int, message: str) -> None:
        self.portal = portal
        self.version = version
        super().__init__(message)


class NoAuditReport(UsageError):
    """The portal has no stored audit report yet."""

    def __init__(self, portal: str) -> None:
        self.portal = portal
        super().__init__(f"portal {portal!r} has no audit report yet")


class NoSuchRun(UsageError):
    """The portal has no run of that id."""

    def __init__(self, portal: str, run_id: int) -> None:
        self.portal = portal
        self.run_id = run_id
        super().__init__(f"portal {portal!r} has no run {run_id}")


class DatabaseError(FatalError):
    """The database cannot be used (unreachable, or not upgraded to the current schema)."""


class SchemaNotCurrent(DatabaseError):
    """The database is empty or at an older migration than this hubaudit's newest."""


class HubSpotAuthError(FatalError):
    """HubSpot rejected the credentials (401): nothing of the portal can be read."""


class PortalUnreachable(FatalError):
    """No connection to the portal's base URL could be made (refused, no such host, connect
    timeout) before anything answered: the run fails at once and stores nothing."""


class ReadTooLittle(FatalError):
    """A run read less of the portal than ``[audit] min_read_share`` of what its baseline
    governs: an outage, not a portal that lost its configuration. Nothing is stored."""


class DailyLimitReached(FatalError):
    """HubSpot answered with its DAILY limit policy: the run stops, nothing half-read is kept."""


class RunStopped(FatalError):
    """The worker running this audit is stopping (or lost its claim): the run ends before
    anything more is read or stored, and goes back to the queue."""


class RetriableError(HubauditError):
    """A request failed in a way that may succeed when tried again."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class SkippableError(HubauditError):
    """This part of the portal cannot be read now; the rest of the run goes on."""


class KindUnreadable(SkippableError):
    """A resource could not be read: HubSpot's category and the scopes it asked for, when given."""

    def __init__(
        self,
        message: str,
        *,
        category: str | None = None,
        status: int | None = None,
        scopes: tuple[str, ...] = (),
        unsupported: bool = False,
    ) -> None:
        self.category = category
        self.status = status
        self.scopes = scopes
        self.unsupported = unsupported
        super().__init__(message)


class DecisionIncomplete(UsageError):
    """A decision lacks what the governance log must record about it (why it was taken)."""


class MissingNote(DecisionIncomplete):
    """A decision that needs a note saying why came without one."""


class MissingReason(DecisionIncomplete):
    """A waiver came without the reason the drift or breach is tolerated."""


class NotAllowed(UsageError):
    """This person may not take this decision: they proposed what they would approve (four
    eyes), or their role does not allow it."""


class SignInRefused(UsageError):
    """A sign-in was refused: unknown name or wrong password (never saying which), a disabled
    account, or too many failures lately (``retry_after`` seconds)."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class NoApprovedBaseline(UsageError):
    """The portal has no approved baseline version yet."""

    def __init__(self, portal: str, message: str | None = None) -> None:
        self.portal = portal
        super().__init__(message or f"portal {portal!r} has no approved baseline")
