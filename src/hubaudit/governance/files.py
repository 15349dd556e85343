"""Baselines as files ("architecture as code"): an approved baseline as a tree of YAML files.

A tree can be reviewed and versioned like code, then read back to propose a new version::

    baseline.yaml                    manifest: portal, version, approval, the scopes governed
    property/deals.yaml              scope property:deals, one entry per item: <id>: <payload>
    association_label/0-1/0-2.yaml   scope association_label:0-1:0-2 (ids such as USER_DEFINED:106)
    workflow.yaml                    a one-segment scope is a file at the root

Export then read gives back the same payloads (same content hashes), and export, read, export
gives byte-identical files, so a tree in git only changes where the baseline did. Reading
accepts plain JSON values only, and refuses a broken file with its file, line and reason;
it writes nothing, so the caller stores a tree only once all of it has been read.
"""

from __future__ import annotations

import errno
import math
import os
import re
import secrets
import stat
import sys
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

import yaml
from yaml.events import (
    AliasEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

from hubaudit.analysis.compare import scope_of
from hubaudit.errors import UsageError
from hubaudit.model.items import JSONValue, Kind

MANIFEST = "baseline.yaml"
SUFFIX = ".yaml"
DEFAULT_MAX_IMPORT_BYTES = 32 * 2**20

_MANIFEST_HEADER = (
    "# hubaudit baseline: what this portal's configuration is approved to be.\n"
    "# One file per scope (a key prefix): property/deals.yaml holds the items whose key is\n"
    "# property:deals:<id>, each as <id>: <canonical payload>. Lines starting with # are for\n"
    "# people and are ignored when the tree is read back.\n"
)
_MANIFEST_TEXT_FIELDS = ("status", "approved_by", "approved_at", "note")
_MANIFEST_KEYS = ("portal", "version", *_MANIFEST_TEXT_FIELDS, "scopes")

_KINDS = frozenset(kind.value for kind in Kind)
_SEGMENT_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_ESCAPE = re.compile(r"%([0-9A-F]{2})")
_LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + name for name in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ, _MERGE, _VALUE = (_TAG + name for name in ("map", "seq", "merge", "value"))
_REFUSED_TAGS = {
    _TAG + "timestamp": "is a date/time, which JSON has no type for: quote it to keep it as text",
    _TAG + "binary": "is binary data (!!binary), which is not JSON",
    _TAG + "set": "is a set (!!set), which is not JSON: write a list",
    _TAG + "omap": "is an ordered map (!!omap), which is not JSON: write a mapping",
    _TAG + "pairs": "is a list of pairs (!!pairs), which is not JSON: write a mapping",
}


@dataclass(frozen=True)
class BaselineTree:
    """A baseline as files hold it: the scopes it governs and each item's canonical payload.

    ``items`` maps item key to payload; every key lies in one of ``scopes``
    (``compare.scope_of``). The other fields are informational: the database, not the tree, is
    the record of who approved what.
    """

    portal: str
    scopes: tuple[str, ...]
    items: Mapping[str, Mapping[str, JSONValue]]
    version: int | None = None
    status: str | None = None
    approved_by: str | None = None
    approved_at: str | None = None
    note: str | None = None


class BaselineFileError(UsageError):
    """A file of a baseline tree is wrong. ``file`` is relative to the tree's root (posix),
    ``line`` 1-based (``None`` when the problem has no line, such as a missing file)."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {reason}")


# -- paths ----------------------------------------------------------------------------------


def scope_path(scope: str) -> PurePosixPath:
    """Where a scope's file lives: ``property:deals`` -> ``property/deals.yaml``.

    Characters outside ``[A-Za-z0-9_.-]`` and a leading ``.`` are percent-encoded (UTF-8), so
    no segment can be ``..``, hold a ``/`` or hide a file, and ``path_scope`` reverses it.
    """
    segments = scope.split(":")
    if "" in segments:
        raise ValueError(f"scope {scope!r} has an empty segment")
    encoded = [_encode_segment(segment) for segment in segments]
    encoded[-1] += SUFFIX
    return PurePosixPath(*encoded)


def path_scope(path: PurePosixPath) -> str | None:
    """The scope a file path (relative to the tree's root) names, or ``None`` if it names none.

    Only the exact path ``scope_path`` writes is accepted (upper-case escapes, nothing escaped
    that need not be), so one scope has one file and never two spellings of it.
    """
    parts = list(path.parts)
    if not parts or not parts[-1].endswith(SUFFIX):
        return None
    parts[-1] = parts[-1][: -len(SUFFIX)]
    segments = []
    for part in parts:
        segment = _decode_segment(part)
        if segment is None or not segment or _encode_segment(segment) != part:
            return None
        segments.append(segment)
    return ":".join(segments)


def _encode_segment(segment: str) -> str:
    # surrogatepass: a scope is text from the database and must map to some path, even then
    return "".join(
        char
        if char in _SEGMENT_SAFE and not (index == 0 and char == ".")
        else "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        for index, char in enumerate(segment)
    )


def _decode_segment(part: str) -> str | None:
    raw = bytearray()
    position = 0
    while position < len(part):
        match = _ESCAPE.match(part, position)
        if match:
            raw.append(int(match.group(1), 16))
            position = match.end()
        elif part[position] in _SEGMENT_SAFE:
            raw += part[position].encode("ascii")
            position += 1
        else:
            return None
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None


def _scope_problem(scope: str) -> str | None:
    """Why a text cannot be a scope, or ``None`` when it can."""
    segments = scope.split(":")
    if "" in segments:
        return f"scope {scope!r} has an empty segment"
    if segments[0] not in _KINDS:
        kinds = ", ".join(kind.value for kind in Kind)
        return f"scope {scope!r} does not start with a kind of item ({kinds})"
    return None


# -- export ---------------------------------------------------------------------------------


def export_tree(out: Path, tree: BaselineTree) -> list[Path]:
    """Write ``tree`` under ``out`` and return the paths of all its files, manifest first.

    ``out`` must be missing, empty (entries starting with ``.``, such as ``.git``, do not
    count) or an earlier export, which this one replaces: scope files no longer in the tree go,
    other files stay. Each file is replaced atomically, and left untouched when its bytes
    would not change.
    """
    rendered = _render_tree(tree)  # everything is checked before anything is written
    _prepare_directory(out)
    # stale files go first: where names fold case, property/Deals.yaml *is* property/deals.yaml
    for relative in sorted(_export_files(out) - set(rendered)):
        out.joinpath(*relative.parts).unlink()
    _remove_empty_kind_directories(out)
    written = []
    for relative, data in rendered.items():
        path = out.joinpath(*relative.parts)
        _write_atomic(path, data)
        written.append(path)
    return written


def _render_tree(tree: BaselineTree) -> dict[PurePosixPath, bytes]:
    """Every file of the tree's export, by path relative to its root, manifest first."""
    scopes = _checked_scopes(tree.scopes)
    by_scope: dict[str, dict[str, dict[str, JSONValue]]] = {scope: {} for scope in scopes}
    for key, payload in tree.items.items():
        scope = scope_of(key, scopes)
        if scope is None:
            raise ValueError(f"item {key!r} lies in none of the baseline's scopes")
        item_id = key[len(scope) + 1 :]
        if not item_id:
            raise ValueError(f"item {key!r} has an empty id in scope {scope!r}")
        if not isinstance(payload, Mapping):
            raise ValueError(f"item {key!r}: the payload is not a mapping")
        by_scope[scope][item_id] = _plain_json(payload, key)
    manifest = _render_manifest(tree, sorted(scopes))
    try:  # the manifest checks its metadata the way reading will
        _manifest_fields(_parse(manifest, MANIFEST, record_depth=2, if_empty=""))
    except BaselineFileError as exc:
        raise ValueError(f"the baseline's metadata cannot be exported: {exc.reason}") from exc
    files = {PurePosixPath(MANIFEST): manifest}
    for scope in sorted(scopes):
        files[scope_path(scope)] = _render_scope(by_scope[scope])
    return files


def _checked_scopes(scopes: Iterable[str]) -> frozenset[str]:
    seen: set[str] = set()
    paths: dict[str, str] = {}
    for scope in scopes:
        problem = _scope_problem(scope)
        if problem is not None:
            raise ValueError(problem)
        if scope in seen:
            raise ValueError(f"scope {scope!r} is listed twice")
        seen.add(scope)
        # a checkout on macOS or Windows folds case: two such files would overwrite each other
        path = str(scope_path(scope)).casefold()
        if path in paths:
            raise ValueError(f"scopes {paths[path]!r} and {scope!r} differ only in case")
        paths[path] = scope
    directories = {
        str(parent).casefold() for path in paths for parent in PurePosixPath(path).parents
    }
    for path, scope in paths.items():
        if path in directories:
            raise ValueError(f"the file of scope {scope!r} would be a directory of another scope")
    return frozenset(seen)


def _plain_json(value: Any, key: str) -> Any:
    """A copy in plain dicts and lists, refusing what the tree could not give back as it is."""
    if isinstance(value, Mapping):
        result: dict[str, Any] = {}
        for name, field in value.items():
            if not isinstance(name, str):
                raise ValueError(f"item {key!r}: field name {name!r} is not text")
            if field is None:
                raise ValueError(f"item {key!r}: field {name!r} is null (canonical form drops it)")
            result[name] = _plain_json(field, key)
        return result
    if isinstance(value, list | tuple):
        return [_plain_json(element, key) for element in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"item {key!r}: {value} is not a JSON number")
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return value
    raise ValueError(f"item {key!r}: {type(value).__name__} is not a JSON value")


def _render_manifest(tree: BaselineTree, scopes: list[str]) -> bytes:
    fields: dict[str, JSONValue] = {"portal": tree.portal}
    for name in _MANIFEST_KEYS[1:-1]:
        value = getattr(tree, name)
        if value is not None:
            fields[name] = value
    fields["scopes"] = scopes
    return (_MANIFEST_HEADER + _dump(fields, sort_keys=False)).encode("utf-8")


def _render_scope(items: Mapping[str, Mapping[str, JSONValue]]) -> bytes:
    if not items:
        return b"{}\n"
    chunks = []
    for item_id in sorted(items):
        payload = items[item_id]
        label = payload.get("label")
        comment = _comment(label) if isinstance(label, str) else ""
        if comment:
            chunks.append(f"# {comment}\n")
        # one item at a time, so that its comment can go just before it; a one-entry mapping
        # dumps exactly as that entry of the whole mapping would
        chunks.append(_dump({item_id: payload}, sort_keys=True))
    return "".join(chunks).encode("utf-8")


def _comment(label: str) -> str:
    """A label made safe for a one-line comment: no line breaks, controls or surrogates."""
    return " ".join("".join(char if char.isprintable() else " " for char in label).split())


class _Dumper(yaml.SafeDumper):
    """The safe dumper, with every value written out where it is: an alias (``*id001``) for
    an object met twice would be refused on reading."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # PyYAML writes multi-line text single-quoted across folded lines, which is hard to read
    # and to diff; one double-quoted line with \n escapes is neither.
    style = '"' if not _LINE_BREAKS.isdisjoint(text) else None
    return dumper.represent_scalar(_STR, text, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump(value: JSONValue, *, sort_keys: bool) -> str:
    return yaml.dump(
        value,
        Dumper=_Dumper,
        default_flow_style=False,
        sort_keys=sort_keys,
        allow_unicode=True,
        width=sys.maxsize,  # never wrap: a wrapped line changes when a neighbour does
        line_break="\n",
    )


def _prepare_directory(out: Path) -> None:
    if not out.exists():
        out.mkdir(parents=True)
        return
    if not out.is_dir():
        raise UsageError(f"{out} is not a directory")
    if (out / MANIFEST).is_file():
        return
    foreign = sorted(entry.name for entry in out.iterdir() if not entry.name.startswith("."))
    if foreign:
        shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
        raise UsageError(
            f"{out} is not empty and is not a baseline export (no {MANIFEST}; it holds "
            f"{shown}): export into an empty directory or an earlier export"
        )


def _export_files(out: Path) -> set[PurePosixPath]:
    """The files an export owns: the manifest, ``*.yaml`` under kind directories and
    ``<kind>.yaml`` at the root. Anything else (README, .git, …) is the user's."""
    found = {PurePosixPath(MANIFEST)}
    for kind in Kind:
        if (out / f"{kind.value}{SUFFIX}").is_file():
            found.add(PurePosixPath(f"{kind.value}{SUFFIX}"))
        for directory, names in _walk(out / kind.value):
            found.update(
                PurePosixPath(directory.relative_to(out).as_posix(), name)
                for name in names
                if name.endswith(SUFFIX) and (directory / name).is_file()
            )
    return found


def _walk(top: Path) -> Iterable[tuple[Path, list[str]]]:
    """Each directory under ``top`` with its file names, sorted, skipping hidden entries."""
    for directory, subdirectories, names in os.walk(top):
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
        yield Path(directory), sorted(name for name in names if not name.startswith("."))


def _remove_empty_kind_directories(out: Path) -> None:
    for kind in Kind:
        # bottom-up, so a directory emptied of its empty subdirectories goes too
        for directory, _subdirectories, _names in os.walk(out / kind.value, topdown=False):
            if not os.listdir(directory):
                os.rmdir(directory)


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        if path.read_bytes() == data:
            return  # unchanged: keep its time stamp, so tools that watch files see no change
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # os.open rather than tempfile: the file gets the usual permissions (0666 less umask)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# -- read -----------------------------------------------------------------------------------


def read_tree(directory: Path, max_bytes: int = DEFAULT_MAX_IMPORT_BYTES) -> BaselineTree:
    """Read and check a whole tree; the first problem found raises ``BaselineFileError``.

    Files are checked in a fixed order (links, manifest, file names, sizes, then each scope
    file in scope order), so the same broken tree always reports the same problem. A symbolic
    link is refused (never followed, never quoted), and a tree whose YAML holds more than
    ``max_bytes`` is refused before its scope files are read.
    """
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise BaselineFileError(str(directory), None, f"no baseline tree here: it {what}")
    _refuse_links(directory)
    if not (directory / MANIFEST).is_file():
        misnamed = directory / PurePosixPath(MANIFEST).with_suffix(".yml").name
        hint = f" (rename {misnamed.name} to {MANIFEST})" if misnamed.exists() else ""
        raise BaselineFileError(
            MANIFEST, None, f"missing: a baseline tree has {MANIFEST} at its root{hint}"
        )
    manifest = _load(
        directory,
        PurePosixPath(MANIFEST),
        record_depth=2,
        if_empty="the manifest is empty: it needs at least portal and scopes",
        max_bytes=max_bytes,
    )
    fields, scope_lines = _manifest_fields(manifest)
    files = _scope_files(directory, scope_lines)
    _check_total_size(directory, [PurePosixPath(MANIFEST), *files.values()], max_bytes)
    for scope, line in scope_lines.items():
        if scope not in files:
            raise BaselineFileError(
                MANIFEST, line, f"scope {scope!r} has no file: expected {scope_path(scope)}"
            )
    scopes = frozenset(scope_lines)
    items: dict[str, dict[str, JSONValue]] = {}
    for scope in sorted(scopes):
        items.update(_scope_items(directory, files[scope], scope, scopes, max_bytes))
    return BaselineTree(
        portal=fields["portal"],
        scopes=tuple(sorted(scopes)),
        items=dict(sorted(items.items())),
        version=fields.get("version"),
        status=fields.get("status"),
        approved_by=fields.get("approved_by"),
        approved_at=fields.get("approved_at"),
        note=fields.get("note"),
    )


def _manifest_fields(document: _Document) -> tuple[dict[str, Any], dict[str, int | None]]:
    value, lines = document.value, document.lines

    def fail(line: int | None, reason: str) -> NoReturn:
        raise BaselineFileError(MANIFEST, line, reason)

    if not isinstance(value, dict):
        fail(lines[()], f"the manifest must be a mapping (portal, scopes, …), not {_a(value)}")
    for name in value:
        if name not in _MANIFEST_KEYS:
            fail(lines[(name,)], f"unknown key {name!r}; known: {', '.join(_MANIFEST_KEYS)}")
    for name in ("portal", "scopes"):
        if name not in value:
            fail(None, f"{name!r} is missing")
    portal = value["portal"]
    if not isinstance(portal, str) or not portal:
        fail(lines[("portal",)], f"'portal' must be the portal's name, not {_a(portal)}")
    version = value.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        fail(lines[("version",)], f"'version' must be a whole number, not {_a(version)}")
    for name in _MANIFEST_TEXT_FIELDS:
        if name in value and not isinstance(value[name], str):
            fail(lines[(name,)], f"{name!r} must be text, not {_a(value[name])}")
    if "approved_at" in value:
        try:
            datetime.fromisoformat(value["approved_at"])
        except ValueError:
            fail(lines[("approved_at",)], "'approved_at' must be an ISO 8601 date and time")
    scopes = value["scopes"]
    if not isinstance(scopes, list):
        fail(lines[("scopes",)], f"'scopes' must be a list of scopes, not {_a(scopes)}")
    scope_lines: dict[str, int | None] = {}
    for index, scope in enumerate(scopes):
        line = lines.get(("scopes", index))
        if not isinstance(scope, str):
            fail(line, f"a scope must be text such as 'property:deals', not {_a(scope)}")
        problem = _scope_problem(scope)
        if problem is not None:
            fail(line, problem)
        if scope in scope_lines:
            fail(line, f"scope {scope!r} is listed twice (first at line {scope_lines[scope]})")
        scope_lines[scope] = line
    return value, scope_lines


def _scope_files(
    directory: Path, scope_lines: Mapping[str, int | None]
) -> dict[str, PurePosixPath]:
    """Each scope's file; any ``.yaml`` file that is not one of the manifest's is an error,
    since reading past it would silently drop what someone meant to add."""
    found: dict[str, PurePosixPath] = {}
    for folder, names in _walk(directory):
        for name in names:
            relative = PurePosixPath((folder / name).relative_to(directory).as_posix())
            suffix = PurePosixPath(name).suffix
            if suffix.lower() not in (".yaml", ".yml") or relative == PurePosixPath(MANIFEST):
                continue  # README.md and the like are the user's business
            if suffix != SUFFIX:
                raise BaselineFileError(
                    str(relative),
                    None,
                    f"scope files end in {SUFFIX}, not {suffix}: rename it to "
                    f"{relative.with_suffix(SUFFIX)}",
                )
            scope = path_scope(relative)
            if scope is None:
                raise BaselineFileError(
                    str(relative),
                    None,
                    "this path names no scope (segments use A-Z a-z 0-9 _ . - and upper-case "
                    "%XX escapes for anything else, e.g. property/deals.yaml)",
                )
            if scope not in scope_lines:
                problem = _scope_problem(scope)
                reason = (
                    f"not a scope file: {problem}"
                    if problem
                    else f"scope {scope!r} is not in the manifest: add it to 'scopes' in {MANIFEST}"
                )
                raise BaselineFileError(str(relative), None, reason)
            found[scope] = relative
    return found


def _scope_items(
    directory: Path,
    relative: PurePosixPath,
    scope: str,
    scopes: Collection[str],
    max_bytes: int = DEFAULT_MAX_IMPORT_BYTES,
) -> dict[str, dict[str, JSONValue]]:
    document = _load(
        directory,
        relative,
        record_depth=1,
        if_empty="the file is empty: a scope without items is written {}",
        max_bytes=max_bytes,
    )
    value, lines = document.value, document.lines

    def fail(line: int | None, reason: str) -> NoReturn:
        raise BaselineFileError(str(relative), line, reason)

    if not isinstance(value, dict):
        fail(lines[()], f"the file must be a mapping of item id to payload, not {_a(value)}")
    items = {}
    for item_id, payload in value.items():
        line = lines[(item_id,)]
        if not item_id:
            fail(line, "an item id is empty")
        if not isinstance(payload, dict):
            empty = " (write {} for an item without fields)" if payload is None else ""
            fail(line, f"item {item_id!r}: the payload must be a mapping, not {_a(payload)}{empty}")
        key = f"{scope}:{item_id}"
        owner = scope_of(key, scopes)
        if owner != scope:
            fail(
                line,
                f"item {item_id!r}: key {key!r} belongs to scope {owner!r}, "
                f"so it goes in {scope_path(owner) if owner else '?'}",
            )
        items[key] = payload
    return items


def _a(value: JSONValue) -> str:
    """What a value is, for a message: 'a list', 'null', 'the number 3'…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}" + ("…" if len(value) > 40 else "")
    return "a list" if isinstance(value, list) else "a mapping"


# -- YAML to JSON, strictly -----------------------------------------------------------------


@dataclass(frozen=True)
class _Document:
    value: JSONValue
    lines: dict[tuple[str | int, ...], int]
    """Line of the root (``()``) and of each entry down to ``record_depth`` (a key's line)."""


def _load(
    directory: Path,
    relative: PurePosixPath,
    *,
    record_depth: int,
    if_empty: str,
    max_bytes: int = DEFAULT_MAX_IMPORT_BYTES,
) -> _Document:
    data = _read_regular_file(directory, relative, max_bytes)
    return _parse(data, str(relative), record_depth=record_depth, if_empty=if_empty)


def _read_regular_file(directory: Path, relative: PurePosixPath, max_bytes: int) -> bytes:
    """The bytes of a regular file of the tree, at most ``max_bytes`` of them. A link, a device
    or a FIFO is refused without being opened (and, for a link swapped in meanwhile,
    ``O_NOFOLLOW`` refuses it at the open); the message never quotes what it points to."""
    path = directory.joinpath(*relative.parts)
    try:
        status = path.lstat()
        if stat.S_ISLNK(status.st_mode):
            raise BaselineFileError(str(relative), None, _LINK_REASON)
        if not stat.S_ISREG(status.st_mode):
            raise BaselineFileError(str(relative), None, "not a regular file")
        if status.st_size > max_bytes:
            raise BaselineFileError(str(relative), None, _too_large(status.st_size, max_bytes))
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link put in its place after the check
            raise BaselineFileError(str(relative), None, _LINK_REASON) from exc
        raise BaselineFileError(str(relative), None, f"cannot read: {exc.strerror}") from exc
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew after the check
        raise BaselineFileError(str(relative), None, _too_large(len(data), max_bytes))
    return data


_LINK_REASON = (
    "is a symbolic link: a baseline tree is read from its own files only "
    "(copy the file into the tree)"
)


def _too_large(size: int, max_bytes: int) -> str:
    return f"{size / 2**20:.3g} MB is more than {_import_limit(max_bytes)}"


def _import_limit(max_bytes: int) -> str:
    return f"the import limit of {max_bytes / 2**20:.3g} MB ([governance] max_import_mb)"


def _refuse_links(directory: Path) -> None:
    """A symbolic link among the tree's YAML files or folders is refused: following it would
    read (and quote in an error) a file outside the tree."""
    for folder, subdirectories, names in os.walk(directory):
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
        for name in [*subdirectories, *sorted(names)]:
            entry = Path(folder) / name
            yaml_file = PurePosixPath(name).suffix.lower() in (".yaml", ".yml")
            if name.startswith(".") or not (yaml_file or name in subdirectories):
                continue
            if entry.is_symlink():
                relative = entry.relative_to(directory).as_posix()
                raise BaselineFileError(relative, None, _LINK_REASON)


def _check_total_size(directory: Path, files: Iterable[PurePosixPath], max_bytes: int) -> None:
    total = 0
    for relative in files:
        try:
            total += directory.joinpath(*relative.parts).lstat().st_size
        except OSError as exc:
            raise BaselineFileError(str(relative), None, f"cannot read: {exc.strerror}") from exc
    if total > max_bytes:
        raise BaselineFileError(
            str(directory),
            None,
            f"the tree's YAML files hold {total / 2**20:.3g} MB, more than "
            f"{_import_limit(max_bytes)}; nothing was read",
        )


def _parse(data: bytes, file: str, *, record_depth: int, if_empty: str) -> _Document:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BaselineFileError(
            file,
            data.count(b"\n", 0, exc.start) + 1,
            f"not UTF-8 text (byte 0x{data[exc.start]:02X}): save it as UTF-8",
        ) from exc
    try:
        builder = _JSONBuilder(text.removeprefix("\ufeff"), file, record_depth)
        return builder.document(if_empty)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise BaselineFileError(file, line, _syntax_reason(exc, text, line)) from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = f"{exc.character:04X}" if isinstance(exc.character, int) else "?"
        reason = (
            f"the character U+{code} is not allowed in YAML: write it as an escape "
            f"(\\u{code}) inside double quotes"
        )
        raise BaselineFileError(file, line, reason) from exc
    except RecursionError as exc:
        raise BaselineFileError(file, None, "values are nested too deeply") from exc


def _syntax_reason(exc: yaml.MarkedYAMLError, text: str, line: int | None) -> str:
    lines = text.split("\n")
    if line is not None and line <= len(lines):
        content = lines[line - 1]
        if "\t" in content[: len(content) - len(content.lstrip(" \t"))]:
            return "a tab indents this line: YAML indents with spaces only"
    context = f" ({exc.context})" if exc.context else ""
    return f"invalid YAML: {exc.problem}{context}"


class _JSONBuilder:
    """Builds JSON values straight from the parser's events, refusing whatever YAML has and
    JSON has not: anchors, aliases and merge keys, non-text keys, duplicate keys (PyYAML
    would keep the last one), dates, binary, sets, NaN and infinities."""

    def __init__(self, text: str, file: str, record_depth: int) -> None:
        self._file = file
        self._record_depth = record_depth
        # the pure-Python parser: libyaml refuses the escape "\uD800", and a label may hold it;
        # typed Any as the stubs leave its methods untyped
        self._loader: Any = yaml.SafeLoader(text)
        self.lines: dict[tuple[str | int, ...], int] = {}

    def document(self, if_empty: str) -> _Document:
        loader = self._loader
        try:
            loader.get_event()  # stream start
            if loader.check_event(StreamEndEvent):
                self._fail(1, if_empty)
            loader.get_event()  # document start
            self.lines[()] = loader.peek_event().start_mark.line + 1
            value = self._value((), 0)
            loader.get_event()  # document end
            if not loader.check_event(StreamEndEvent):
                extra = _line(loader.peek_event())
                self._fail(extra, "a second YAML document (---): a file holds one")
            return _Document(value, self.lines)
        finally:
            loader.dispose()

    def _fail(self, line: int | None, reason: str) -> NoReturn:
        raise BaselineFileError(self._file, line, reason)

    def _refuse_anchors(self, event: Event) -> None:
        if isinstance(event, AliasEvent):
            self._fail(
                _line(event), f"alias *{event.anchor}: YAML anchors and aliases are not allowed"
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._fail(_line(event), f"anchor &{anchor}: YAML anchors and aliases are not allowed")

    def _value(self, path: tuple[str | int, ...], depth: int) -> JSONValue:
        event = self._loader.get_event()
        self._refuse_anchors(event)
        if isinstance(event, ScalarEvent):
            return self._scalar(event)
        if isinstance(event, SequenceStartEvent):
            self._check_collection_tag(event, _SEQ)
            result: list[JSONValue] = []
            while not self._loader.check_event(SequenceEndEvent):
                if len(path) < self._record_depth:
                    self.lines[(*path, len(result))] = _line(self._loader.peek_event())
                result.append(self._value((*path, len(result)), depth + 1))
            self._loader.get_event()
            return result
        assert isinstance(event, MappingStartEvent)  # the parser yields nothing else here
        self._check_collection_tag(event, _MAP)
        return self._mapping(path, depth)

    def _mapping(self, path: tuple[str | int, ...], depth: int) -> dict[str, JSONValue]:
        result: dict[str, JSONValue] = {}
        key_lines: dict[str, int] = {}
        while not self._loader.check_event(MappingEndEvent):
            key_event = self._loader.get_event()
            line = _line(key_event)
            key = self._key(key_event)
            if key in key_lines:
                self._fail(line, f"duplicate key {key!r} (first at line {key_lines[key]})")
            key_lines[key] = line
            if len(path) < self._record_depth:
                self.lines[(*path, key)] = line
            value = self._value((*path, key), depth + 1)
            # a canonical payload drops empty fields: a null one would not give back its hash
            if value is None and depth > 0:
                self._fail(line, f"{key!r} has no value (null): leave the field out")
            result[key] = value
        self._loader.get_event()
        return result

    def _key(self, event: Event) -> str:
        self._refuse_anchors(event)
        if not isinstance(event, ScalarEvent):
            self._fail(_line(event), "a mapping key must be text, not a list or a mapping")
        tag = self._tag(event)
        if tag == _MERGE:
            self._fail(_line(event), "merge keys (<<) are not allowed: write the fields out")
        if tag not in (_STR, _VALUE):
            value = self._scalar(event)
            self._fail(
                _line(event),
                f"the key {event.value!r} reads as {_a(value)}: quote it to make it text",
            )
        return event.value

    def _tag(self, event: ScalarEvent) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self._loader.resolve(ScalarNode, event.value, event.implicit)
        return tag

    def _scalar(self, event: ScalarEvent) -> JSONValue:
        tag = self._tag(event)
        line = _line(event)
        if tag in (_STR, _VALUE):
            return event.value
        if tag == _NULL:
            return None
        node = ScalarNode(tag, event.value)
        if tag == _BOOL:
            if event.tag is None and event.value.lower() not in ("true", "false"):
                self._fail(
                    line,
                    f"{event.value!r} is ambiguous: write true or false, or quote it for text",
                )
            return self._loader.construct_yaml_bool(node)
        try:
            if tag == _INT:
                return self._loader.construct_yaml_int(node)
            if tag == _FLOAT:
                number = self._loader.construct_yaml_float(node)
                if not math.isfinite(number):
                    self._fail(line, f"{event.value!r} is not a JSON number (no NaN or infinity)")
                return number
        except ValueError:
            self._fail(line, f"{event.value!r} is not a number JSON can hold")
        if tag == _MERGE:
            self._fail(line, "'<<' is a YAML merge key: quote it to make it text")
        self._fail(line, f"{event.value!r} {_REFUSED_TAGS.get(tag, _unknown_tag(tag))}")

    def _check_collection_tag(
        self, event: MappingStartEvent | SequenceStartEvent, tag: str
    ) -> None:
        if event.tag not in (None, "!", tag):
            what = _REFUSED_TAGS.get(event.tag or "", _unknown_tag(event.tag or ""))
            self._fail(_line(event), f"this value {what}")


def _unknown_tag(tag: str) -> str:
    short = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return f"has the tag {short}, which is not a plain JSON value"


def _line(event: Event) -> int:
    mark: Any = event.start_mark  # the parser marks every event
    return int(mark.line) + 1
