"""Payloads as stored: canonical JSON compressed against a preset dictionary, keyed by the 32
bytes of its SHA-256 digest.

A configuration item's JSON is a few hundred bytes: alone, deflate finds little to reuse in it;
given a dictionary of what HubSpot's configuration looks like (``payloads-1.zdict``, built once
by ``fixtures/build_payload_dictionary.py`` and never changed) it stores a property of about
800 bytes in about 200. zlib is in the standard library and reads a payload in microseconds.

A stored body starts with one byte that says how the rest is written, so that a better scheme
can come later beside this one and every body written before stays readable:

- ``0``: the JSON text itself (UTF-8), where compressing would not make it shorter;
- ``1``: raw deflate (no zlib header or checksum: the digest checks the content) with the
  preset dictionary ``payloads-1.zdict``;
- ``2``: the same with the text of another payload after the dictionary, the row's ``base``:
  a raw payload is written against its item's canonical one, which holds most of it (the raw
  form is stored only where the canonical form cannot give it back).

The text is exactly :func:`hubaudit.analysis.canonical.canonical_json` of the payload, so its
SHA-256 is the payload's hash (what ``db check`` verifies).
"""

from __future__ import annotations

import hashlib
import json
import json.scanner
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import LargeBinary, column, select, table
from sqlalchemy.engine import Connection

from hubaudit.analysis.canonical import canonical_json
from hubaudit.errors import DatabaseError
from hubaudit.model.items import JSONValue
from hubaudit.store.schema import digest_bytes
from hubaudit.store.schema import payloads as payloads_table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")

PLAIN = 0
DEFLATE_DICTIONARY_1 = 1
DEFLATE_ON_BASE = 2
_FORM_1 = bytes((DEFLATE_DICTIONARY_1,))
_WBITS = -15  # raw deflate, a 32 KiB window: the whole dictionary is in reach
_WINDOW = 32 * 1024
_BATCH = 1000
_READ_BATCH = 5000  # under SQLite's 32,766 and Postgres' 65,535 parameters a statement
_DEPTH = 8  # bases of bases: a raw payload that is also another item's canonical one
# the payloads table with plain binary columns: reads convert the digests themselves
_PAYLOADS = table(
    "payloads",
    column("hash", LargeBinary),
    column("body", LargeBinary),
    column("base", LargeBinary),
)


@cache
def dictionary_1() -> bytes:
    """The preset dictionary of format 1 (shipped beside this module; never changes)."""
    return resources.files("hubaudit.store").joinpath("payloads-1.zdict").read_bytes()


def _dictionary(base: bytes | None) -> bytes:
    if base is None:
        return dictionary_1()
    return (dictionary_1() + base)[-_WINDOW:]


@cache
def _packer_1() -> zlib._Compress:
    """A compressor primed with dictionary 1, copied for each payload: priming one costs
    several times more than copying it."""
    return zlib.compressobj(9, zlib.DEFLATED, _WBITS, 9, zlib.Z_DEFAULT_STRATEGY, dictionary_1())


def encode_body(text: str, base: bytes | None = None) -> bytes:
    """The stored form of one payload's canonical JSON text; given ``base`` (the UTF-8 text of
    another payload: its item's canonical form, for a raw one), against that too: what the
    base already says costs a few bytes."""
    data = text.encode("utf-8")
    if base is None:
        form, packer = DEFLATE_DICTIONARY_1, _packer_1().copy()
    else:
        form = DEFLATE_ON_BASE
        packer = zlib.compressobj(
            9, zlib.DEFLATED, _WBITS, 9, zlib.Z_DEFAULT_STRATEGY, _dictionary(base)
        )
    packed: bytes = packer.compress(data) + packer.flush()
    if len(packed) < len(data):
        return bytes((form,)) + packed
    return bytes((PLAIN,)) + data


def needs_base(body: bytes) -> bool:
    """Is this body written against another payload (its row's ``base``)?"""
    return bool(body) and body[0] == DEFLATE_ON_BASE


def decode_body(body: bytes, base: bytes | None = None) -> str:
    """The canonical JSON text of a stored body; :class:`DatabaseError` if it is not one."""
    try:
        return body_bytes(body, base).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatabaseError(f"a stored payload cannot be read: {exc}") from exc


def body_bytes(body: bytes, base: bytes | None = None) -> bytes:
    """The UTF-8 bytes of the canonical JSON text a stored body holds (what ``json.loads``
    takes as it is); ``base``: the text of the payload it was written against, if it was."""
    view = memoryview(body)
    if not view:
        raise DatabaseError("a stored payload is empty")
    form = view[0]
    if form in (DEFLATE_DICTIONARY_1, DEFLATE_ON_BASE):
        if form == DEFLATE_ON_BASE and base is None:
            raise DatabaseError("a stored payload is written against a base that is missing")
        try:
            unpacker = zlib.decompressobj(
                _WBITS, zdict=_dictionary(base if form == DEFLATE_ON_BASE else None)
            )
            data = unpacker.decompress(view[1:]) + unpacker.flush()
        except zlib.error as exc:
            raise DatabaseError(f"a stored payload cannot be read: {exc}") from exc
        if not unpacker.eof:
            raise DatabaseError("a stored payload is cut short")
        return data
    if form == PLAIN:
        return bytes(view[1:])
    raise DatabaseError(
        f"a stored payload is written in form {form}, which this hubaudit does not know: "
        "upgrade hubaudit"
    )


def body_digest(body: bytes, base: bytes | None = None) -> str:
    """The hex SHA-256 of the text a stored body holds (its hash, when it is whole)."""
    return hashlib.sha256(body_bytes(body, base)).hexdigest()


def write_payloads(
    session: Session,
    values: Mapping[str, JSONValue],
    bases: Mapping[str, str] | None = None,
) -> None:
    """Store each payload once (a hash already stored is left as it is). ``bases``: for a raw
    payload, the hash of its item's canonical one among ``values``, which it is written
    against (a payload that is a base here is written on its own). In hash order: two writers
    that store the same new payloads (standard properties look alike in every portal) wait for
    each other, never deadlock."""
    texts = {h: canonical_json(v).encode("utf-8") for h, v in values.items()}
    targets = set((bases or {}).values())
    on: dict[str, str] = {
        h: b
        for h, b in (bases or {}).items()
        if h in texts and b in texts and b != h and h not in targets
    }
    insert = insert_ignoring_conflicts(session.get_bind().dialect.name)
    for batch in _batches(sorted(values)):
        rows = []
        for h in batch:
            base = on.get(h)
            body = encode_body(texts[h].decode("utf-8"), None if base is None else texts[base])
            rows.append({"hash": h, "body": body, "base": base if needs_base(body) else None})
        # Core, not the ORM's bulk insert, which splits rows by which of them hold a None
        # (``base``) into statements of one row each
        statement = insert(payloads_table).on_conflict_do_nothing(index_elements=["hash"])
        session.execute(statement, rows)


def read_payloads(
    session: Session | Connection, hashes: Iterable[str], *, require_all: bool = True
) -> dict[str, dict[str, JSONValue]]:
    """The payloads of ``hashes`` by hash; unless told otherwise, :class:`DatabaseError` names
    one that is missing."""
    wanted = set(hashes)
    connection = session if isinstance(session, Connection) else session.connection()
    found = json_by_hex(stored_texts(connection, [digest_bytes(h) for h in wanted]))
    missing = wanted - found.keys()
    if missing and require_all:
        raise DatabaseError(f"{len(missing)} stored payloads are missing (first: {min(missing)})")
    return found


def decode_rows(
    connection: Connection, rows: dict[bytes, tuple[bytes, bytes | None]]
) -> dict[str, dict[str, JSONValue]]:
    """The payloads whose stored (body, base) ``rows`` a query has just read, by hex digest.

    A whole snapshot's payloads are read this way: each body written against the dictionary
    alone (nearly all) is decompressed and JSON-decoded in one loop, with no call per payload
    but zlib's and the JSON scanner's; the few written against a base, and bodies in another
    form, go the general way (their bases read as needed)."""
    found: dict[str, dict[str, JSONValue]] = {}
    others: dict[bytes, tuple[bytes, bytes | None]] = {}
    zdict, unpacker_of, scan = dictionary_1(), zlib.decompressobj, _scanner()
    for digest, (body, base) in rows.items():
        if base is not None or body[:1] != _FORM_1:
            others[digest] = (body, base)
            continue
        try:
            unpacker = unpacker_of(_WBITS, zdict=zdict)
            text = unpacker.decompress(body[1:]).decode("utf-8")
            value, end = scan(text, 0)
        except (zlib.error, ValueError, StopIteration) as exc:  # ValueError: bad UTF-8 or JSON
            raise DatabaseError(f"payload {digest.hex()} cannot be read: {exc!r}") from exc
        if not unpacker.eof or end != len(text):
            why = "it is cut short" if not unpacker.eof else "more follows its JSON value"
            raise DatabaseError(f"payload {digest.hex()} cannot be read: {why}")
        found[digest.hex()] = value
    if others:
        wanted = list(others)
        _read_rows(
            connection, [b for _, b in others.values() if b is not None and b not in others], others
        )
        found |= json_by_hex(_texts(others, wanted))
    return found


@cache
def _scanner() -> Callable[[str, int], tuple[Any, int]]:
    """The JSON scanner ``json.loads`` uses under its checks: (value, end) of the text at an
    index; ``StopIteration`` where there is no JSON value."""
    make_scanner: Any = json.scanner.make_scanner
    scanner: Callable[[str, int], tuple[Any, int]] = make_scanner(json.JSONDecoder())
    return scanner


def json_by_hex(texts: Mapping[bytes, bytes]) -> dict[str, dict[str, JSONValue]]:
    """Payload texts by digest, JSON-decoded, by hex digest."""
    loads = json.loads
    # decoded to a str first: json.loads would otherwise sniff each text's encoding
    return {digest.hex(): loads(text.decode("utf-8")) for digest, text in texts.items()}


def stored_texts(
    connection: Connection,
    digests: Collection[bytes],
    problems: dict[bytes, str] | None = None,
) -> dict[bytes, bytes]:
    """The UTF-8 texts of the payloads ``digests`` that are stored (bases read as needed).
    A body that cannot be read raises :class:`DatabaseError`, or, given ``problems``, is
    left out and said there."""
    rows: dict[bytes, tuple[bytes, bytes | None]] = {}
    _read_rows(connection, list(set(digests)), rows)
    return _texts(rows, digests, problems)


def _read_rows(
    connection: Connection, wanted: list[bytes], rows: dict[bytes, tuple[bytes, bytes | None]]
) -> None:
    """Add to ``rows`` the (body, base) of the payloads ``wanted``, and of the bases they are
    written against, and of theirs, up to ``_DEPTH`` deep."""
    # the digests as bytes, in big pages: a read of a whole snapshot's payloads is mostly
    # per-row work, and the column type's conversions were a good part of it
    for _ in range(_DEPTH + 1):
        if not wanted:
            break
        for batch in _batches(wanted, _READ_BATCH):
            for digest, body, base in connection.execute(
                select(_PAYLOADS.c.hash, _PAYLOADS.c.body, _PAYLOADS.c.base).where(
                    _PAYLOADS.c.hash.in_(batch)
                )
            ):
                rows[bytes(digest)] = (body, None if base is None else bytes(base))
        wanted = list({b for _, b in rows.values() if b is not None and b not in rows})


def _texts(
    rows: Mapping[bytes, tuple[bytes, bytes | None]],
    digests: Iterable[bytes],
    problems: dict[bytes, str] | None = None,
) -> dict[bytes, bytes]:
    """The texts of ``digests`` from their stored ``rows`` (which hold their bases' too)."""
    texts: dict[bytes, bytes] = {}

    def text_of(digest: bytes, depth: int) -> bytes:
        if digest in texts:
            return texts[digest]
        body, base = rows[digest]
        base_text = None
        if base is not None:
            if base not in rows or depth >= _DEPTH:
                raise DatabaseError(f"payload {digest.hex()}: its base {base.hex()} is missing")
            base_text = text_of(base, depth + 1)
        texts[digest] = text = body_bytes(body, base_text)
        return text

    result = {}
    for digest in digests:
        if digest not in rows:
            continue
        try:
            result[digest] = text_of(digest, 0)
        except DatabaseError as exc:
            if problems is None:
                raise
            problems[digest] = str(exc)
    return result


def stored_digests(connection: Connection, digests: Collection[bytes]) -> set[bytes]:
    """Which of ``digests`` are stored payloads."""
    found: set[bytes] = set()
    for batch in _batches(list(set(digests)), _READ_BATCH):
        found.update(
            bytes(d)
            for d in connection.scalars(select(_PAYLOADS.c.hash).where(_PAYLOADS.c.hash.in_(batch)))
        )
    return found


def insert_ignoring_conflicts(dialect: str) -> Any:
    """The ``insert`` of ``dialect`` that has ``on_conflict_do_nothing`` (Postgres or SQLite).

    Imported here, when a command writes: importing ``sqlalchemy.dialects.postgresql`` loads
    every Postgres driver's dialect, which a read command on SQLite never needs."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _batches(values: Sequence[T], size: int = _BATCH) -> Iterable[list[T]]:
    iterator = iter(values)
    while batch := list(islice(iterator, size)):
        yield batch
