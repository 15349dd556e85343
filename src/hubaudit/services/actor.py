"""Who is behind a decision: a typed value, so the web app can pass a signed-in person where the
CLI passes the name it was given."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
        if not self.name.strip():
            raise ValueError("an actor needs a name")

    def __str__(self) -> str:
        return self.name
