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
  preset dictionary ``payloads-1.zdict``.

The text is exactly :func:`hubaudit.analysis.canonical.canonical_json` of the payload, so its
SHA-256 is the payload's hash (what ``db check`` verifies).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from itertools import islice
from typing import Any

from sqlalchemy import LargeBinary, column, select, table
from sqlalchemy.orm import Session

from hubaudit.analysis.canonical import canonical_json
from hubaudit.errors import DatabaseError
from hubaudit.model.items import JSONValue
from hubaudit.store.tables import PayloadRow, digest_bytes

PLAIN = 0
DEFLATE_DICTIONARY_1 = 1
_WBITS = -15  # raw deflate, a 32 KiB window: the whole dictionary is in reach
_BATCH = 1000
_READ_BATCH = 5000  # under SQLite's 32,766 and Postgres' 65,535 parameters a statement
# the payloads table with plain binary columns: reads convert the digests themselves
_PAYLOADS = table("payloads", column("hash", LargeBinary), column("body", LargeBinary))


@cache
def dictionary_1() -> bytes:
    """The preset dictionary of format 1 (shipped beside this module; never changes)."""
    return resources.files("hubaudit.store").joinpath("payloads-1.zdict").read_bytes()


def encode_body(text: str) -> bytes:
    """The stored form of one payload's canonical JSON text."""
    data = text.encode("utf-8")
    packer = zlib.compressobj(9, zlib.DEFLATED, _WBITS, 9, zlib.Z_DEFAULT_STRATEGY, dictionary_1())
    packed = packer.compress(data) + packer.flush()
    if len(packed) < len(data):
        return bytes((DEFLATE_DICTIONARY_1,)) + packed
    return bytes((PLAIN,)) + data


def decode_body(body: bytes) -> str:
    """The canonical JSON text of a stored body; :class:`DatabaseError` if it is not one."""
    try:
        return body_bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatabaseError(f"a stored payload cannot be read: {exc}") from exc


def body_bytes(body: bytes) -> bytes:
    """The UTF-8 bytes of the canonical JSON text a stored body holds (what ``json.loads``
    takes as it is)."""
    view = memoryview(body)
    if not view:
        raise DatabaseError("a stored payload is empty")
    form = view[0]
    if form == DEFLATE_DICTIONARY_1:
        try:
            unpacker = zlib.decompressobj(_WBITS, zdict=dictionary_1())
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


def body_digest(body: bytes) -> str:
    """The hex SHA-256 of the text a stored body holds (its hash, when it is whole)."""
    return hashlib.sha256(body_bytes(body)).hexdigest()


def write_payloads(session: Session, values: Mapping[str, JSONValue]) -> None:
    """Store each payload once (a hash already stored is left as it is). In hash order: two
    writers that store the same new payloads (standard properties look alike in every portal)
    wait for each other, never deadlock."""
    insert = insert_ignoring_conflicts(session.get_bind().dialect.name)
    for batch in _batches(sorted(values)):
        statement = insert(PayloadRow).on_conflict_do_nothing(index_elements=["hash"])
        session.execute(
            statement,
            [{"hash": h, "body": encode_body(canonical_json(values[h]))} for h in batch],
        )


def read_payloads(
    session: Session, hashes: Iterable[str], *, require_all: bool = True
) -> dict[str, dict[str, JSONValue]]:
    """The payloads of ``hashes`` by hash; unless told otherwise, :class:`DatabaseError` names
    one that is missing."""
    wanted = sorted(set(hashes))
    found: dict[str, dict[str, JSONValue]] = {}
    connection = session.connection()
    # the digests as bytes here, in big pages: a read of a whole snapshot's payloads is mostly
    # per-row work, and the column type's conversions were a good part of it
    for batch in _batches(wanted, _READ_BATCH):
        for digest, body in connection.execute(
            select(_PAYLOADS.c.hash, _PAYLOADS.c.body).where(
                _PAYLOADS.c.hash.in_([digest_bytes(h) for h in batch])
            )
        ):
            found[digest.hex()] = json.loads(body_bytes(body))
    missing = set(wanted) - found.keys()
    if missing and require_all:
        raise DatabaseError(f"{len(missing)} stored payloads are missing (first: {min(missing)})")
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


def _batches(values: list[str], size: int = _BATCH) -> Iterable[list[str]]:
    iterator = iter(values)
    while batch := list(islice(iterator, size)):
        yield batch
