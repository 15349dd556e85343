"""What to run next, for an error the user can fix: the CLI's words, added under the one-line
error. The store and the services say what is wrong; only the CLI knows its own commands."""

from __future__ import annotations

_HINTS: dict[type[BaseException], str] = {}


def hint_for(exc: BaseException) -> str | None:
    """The hint for ``exc``'s class or its nearest base class with one, if any."""
    for klass in type(exc).__mro__:
        hint = _HINTS.get(klass)
        if hint is not None:
            return hint
    return None
