"""Where a key of a TOML file is: tomllib gives values without positions, so the line of a
mistake is found here, once, by reading the text's table headers and ``key =`` lines."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hubaudit.errors import ConfigError

Where = tuple[str | int, ...]
"""The table a key is in: ``("portals", 1)`` is the second ``[[portals]]``."""
Problem = tuple[Where, str | None, str]
"""A mistake: the table it is in, the key it is about, what is wrong."""

SECRET_HINTS = {
    "token": "tokens never live in the config: use token_env or token_file",
    **{
        name: f"secrets never live in the config: use {name}_env or {name}_file"
        for name in ("client_id", "client_secret", "refresh_token")
    },
}
"""What an unknown key that looks like a secret is told (its value is never repeated)."""

_ARRAY_HEADER = re.compile(r"^\[\[\s*([^\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\[\s*([^\]]+?)\s*\]")
_KEY_LINE = re.compile(r'^\s*"?([A-Za-z0-9_-]+)"?\s*=')
_ANY_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")


def dotted(where: Where, key: str | None) -> str | None:
    """``portals[1].name`` for ``(("portals", 1), "name")``."""
    parts: list[str] = []
    for part in where:
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
        else:
            parts.append(part)
    return ".".join([*parts, key] if key else parts) or None


def read_toml_text(path: Path, what: str) -> str:
    """The text of a TOML file; a missing or unreadable one is a ConfigError naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} not found", file=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what}: {exc}", file=str(path)) from exc


class ConfigErrors(ConfigError):
    """Every mistake of one config file: the first one's file, line and key, and a message
    with one line per mistake (``file:line: [key] what``), in the order of the file."""

    def __init__(self, problems: list[ConfigError]) -> None:
        first, *rest = problems
        message = str(first).removeprefix(_prefix(first)) + "".join(f"\n{p}" for p in rest)
        super().__init__(message, file=first.file, line=first.line, key=first.key)
        self.problems = tuple(problems)


def _prefix(error: ConfigError) -> str:
    where = ":".join(str(part) for part in (error.file, error.line) if part is not None)
    return (f"{where}: " if where else "") + (f"[{error.key}] " if error.key else "")


class TomlReader:
    """A TOML text's lines and file name: turns a mistake into a file:line [key] error."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.lines = text.splitlines()
        self.file = file

    def loads(self) -> dict[str, Any]:
        """The parsed document; invalid TOML is a ConfigError with its line."""
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raise self.not_toml(exc) from exc

    def not_toml(self, exc: tomllib.TOMLDecodeError) -> ConfigError:
        # Python 3.11's TOMLDecodeError has the position only in its text: "… (at line 3,
        # column 7)" or "… (at end of document)".
        text = str(exc)
        at_line = re.search(r"^(.*?)\s*\(at line (\d+), column \d+\)$", text, re.DOTALL)
        at_end = re.search(r"^(.*?)\s*\(at end of document\)$", text, re.DOTALL)
        line: int | None
        if at_line:
            message, line = at_line.group(1), int(at_line.group(2))
        elif at_end:
            message, line = at_end.group(1), max(1, len(self.lines))
        else:
            message, line = text, None
        return ConfigError(f"not valid TOML: {message}", file=self.file, line=line)

    def error(self, message: str, where: Where, key: str | None) -> ConfigError:
        return ConfigError(
            message, file=self.file, line=self.locate(where, key), key=dotted(where, key)
        )

    def all_of(self, problems: list[Problem]) -> ConfigError:
        """One error for every problem (duplicates once), in the order of the file."""
        errors: dict[str, ConfigError] = {}
        for where, key, message in problems:
            error = self.error(message, where, key)
            errors.setdefault(str(error), error)
        found = sorted(errors.values(), key=lambda e: (e.line is None, e.line or 0))
        return found[0] if len(found) == 1 else ConfigErrors(found)

    def locate(self, where: Where, key: str | None) -> int | None:
        """The line of ``key`` inside the table at ``where`` (or of the table header)."""
        table = tuple(part for part in where if isinstance(part, str))
        wanted_index = next((part for part in where if isinstance(part, int)), 0)
        array_counts: dict[tuple[str, ...], int] = {}
        current: tuple[str, ...] = ()
        current_index = 0
        header_line: int | None = None
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            array_header = _ARRAY_HEADER.match(stripped)
            table_header = None if array_header else _TABLE_HEADER.match(stripped)
            if array_header:
                current = _header_parts(array_header.group(1))
                current_index = array_counts.get(current, 0)
                array_counts[current] = current_index + 1
            elif table_header:
                current = _header_parts(table_header.group(1))
                current_index = 0
            here = current == table and current_index == wanted_index
            if (array_header or table_header) and here:
                header_line = number
                if key is None:
                    return number
                continue
            if key is not None and here:
                match = _KEY_LINE.match(line)
                if match and match.group(1) == key:
                    return number
        if key is not None:
            # The key may be a table of its own: [key], [[key]] or [table.key].
            wanted = ".".join((*table, key))
            for number, line in enumerate(self.lines, start=1):
                header = _ANY_HEADER.match(line)
                if header and header.group(1).replace('"', "").replace(" ", "") == wanted:
                    return number
        return header_line

    def only_keys(self, table: Mapping[str, Any], where: Where, allowed: set[str]) -> None:
        """Refuse the first key of ``table`` not in ``allowed``."""
        for key in table:
            if key not in allowed:
                raise self.error(unknown_key(key, allowed), where, key)


def unknown_key(key: str, allowed: set[str] | frozenset[str]) -> str:
    hint = f" ({SECRET_HINTS[key]})" if key in SECRET_HINTS else ""
    return f"unknown key{hint}; known keys: {', '.join(sorted(allowed))}"


def _header_parts(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip('"') for part in text.split("."))
