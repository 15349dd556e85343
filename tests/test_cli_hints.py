"""The store's errors say what is wrong; the CLI adds the command that helps, by error class."""

from __future__ import annotations

import pytest

from hubaudit.cli.hints import hint_for
from hubaudit.errors import (
    DatabaseError,
    NoAuditReport,
    NoSuchRun,
    PortalNotStored,
    ProposalPending,
    SchemaNotCurrent,
    UsageError,
)


@pytest.mark.parametrize(
    ("error", "words", "hint"),
    [
        (
            PortalNotStored("acme"),
            "portal 'acme' has no snapshot yet",
            "run `hubaudit snapshot --portal acme` first",
        ),
        (
            ProposalPending("acme", 3, "baseline v3 of 'acme' is already proposed"),
            "baseline v3 of 'acme' is already proposed",
            "`hubaudit baseline approve|reject`",
        ),
        (
            NoAuditReport("acme"),
            "portal 'acme' has no audit report yet",
            "run `hubaudit audit --portal acme` first",
        ),
        (NoSuchRun("acme", 7), "portal 'acme' has no run 7", "see `hubaudit runs`"),
        (
            SchemaNotCurrent("the database is empty"),
            "the database is empty",
            "run `hubaudit db upgrade`",
        ),
    ],
)
def test_each_store_error_names_no_command_and_gets_its_hint(
    error: Exception, words: str, hint: str
) -> None:
    assert str(error) == words
    assert "`" not in str(error)
    assert hint_for(error) == hint


def test_the_families_still_hold_and_a_plain_error_gets_no_hint() -> None:
    assert isinstance(PortalNotStored("x"), UsageError)
    assert isinstance(SchemaNotCurrent("x"), DatabaseError)
    plain = UsageError("portal 'x' has no defect 3")
    assert hint_for(plain) is None
    assert hint_for(ValueError("x")) is None
