"""Who is behind a decision: a typed value, so the web app can pass a signed-in person where the
CLI passes the name it was given."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MAX_NAME = 255


class Channel(StrEnum):
    """How the decision reached hubaudit."""

    CLI = "cli"
    WEB = "web"
    SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Actor:
    """The person (or job) a decision is recorded under. ``name`` is what the log shows."""

    name: str
    channel: Channel = Channel.CLI

    def __post_init__(self) -> None:
        name = self.name.strip()
        if not name:
            raise ValueError("an actor needs a name")
        if len(name) > MAX_NAME:
            raise ValueError(f"a person's name is at most {MAX_NAME} characters")
        object.__setattr__(self, "name", name)  # what the log records: the name, trimmed

    def __str__(self) -> str:
        return self.name
