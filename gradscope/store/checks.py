"""Is this file a whole, readable gradscope store? Every check a reader makes, in one place.

Opening reads only the SQLite header (magic, application id, length against the page count);
``check`` reads the whole file once (every page, every JSON value, every histogram blob), so a
damaged store fails with one sentence before a view is half drawn.
"""

from __future__ import annotations

import json
import sqlite3
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gradscope.errors import StoreError
from gradscope.store import schema
from gradscope.store.connect import connect, wal_path
from gradscope.store.lock import is_being_written

Query = Callable[..., list[tuple[Any, ...]]]

AGAIN = "copy the store again from where the run wrote it"


def damaged(path: Path, detail: str) -> StoreError:
    """The one sentence for a store that cannot be read: which file, why, what to do."""
    return StoreError(f"{str(path)!r} is damaged and cannot be read ({detail}); {AGAIN}")


_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_store_file(path: Path) -> bytes:
    """Raise :class:`StoreError` unless ``path`` looks like a whole gradscope store.

    Reads only the 100-byte SQLite header: the magic string, our application id, and the page
    count times page size against the file's length (a truncated copy is shorter). Returns the
    header.
    """
    if not path.exists():
        raise StoreError(f"no gradscope store at {str(path)!r}: the file does not exist")
    if path.is_dir():
        raise StoreError(f"{str(path)!r} is a folder, not a gradscope store (*.gsdb) file")
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"{str(path)!r} is not a gradscope store (not an SQLite file)")
    (app_id,) = struct.unpack(">I", header[68:72])
    if app_id != schema.APPLICATION_ID:
        raise StoreError(f"{str(path)!r} is an SQLite file but not a gradscope store")
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    (pages,) = struct.unpack(">I", header[28:32])
    (change, valid_for) = (
        struct.unpack(">I", header[24:28])[0],
        struct.unpack(">I", header[92:96])[0],
    )
    if change == valid_for and size < pages * page_size:
        raise StoreError(
            f"{str(path)!r} is truncated ({size} of {pages * page_size} bytes): copy the store "
            "again from where the run wrote it"
        )
    return header


def has_wal(path: Path) -> bool:
    try:
        return wal_path(path).stat().st_size > 0
    except OSError:
        return False


def refuse_copy_without_wal(path: Path) -> None:
    """Raise if this WAL-mode file is an unfinished run with no -wal beside it and no live
    writer: a copy of a store being written, whose recent steps are in the -wal left behind.

    Read with ``immutable`` (the main file alone), so the check creates no side file.
    """
    if is_being_written(path):
        return
    try:
        conn = connect(path, read_only=True, immutable=True)
        try:
            finished = conn.execute("SELECT 1 FROM meta WHERE key = 'finished'").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return  # damaged: the full open says so
    if finished is None:
        wal = wal_path(path).name
        raise StoreError(
            f"{str(path)!r} is an unfinished run whose write-ahead log {wal!r} is "
            f"missing (copied without it?), so its recent steps are not in it: copy {wal!r} "
            "along with the store from where the run wrote it"
        )


def check_schema(path: Path, meta: dict[str, Any]) -> None:
    raw = meta.get("schema_version", 0)
    version = _integer(raw)
    if version is None:
        raise StoreError(
            f"{str(path)!r} is damaged: its schema_version is {raw!r}, not an integer; {AGAIN}"
        )
    if version > schema.SCHEMA_VERSION:
        raise StoreError(
            f"{str(path)!r} was written by a newer gradscope (store schema {version}, "
            f"this version reads up to {schema.SCHEMA_VERSION}): upgrade gradscope"
        )


def check_whole(path: Path, conn: sqlite3.Connection, query: Query) -> None:
    """Read the whole file once; raise :class:`StoreError` if any of it is damaged.

    ``PRAGMA quick_check`` reads every page; ``json_valid`` every JSON value; histogram
    blobs must hold whole counts. Views read only what they show, so without this a damaged
    page they skip would go unnoticed.
    """
    problems = query("PRAGMA quick_check(1)")
    if not problems or problems[0][0] != "ok":
        detail = str(problems[0][0]) if problems else "no answer"
        raise damaged(path, " ".join(detail.replace("*** in database main ***", "").split()))
    for table, column in schema.JSON_COLUMNS:
        bad = first_bad_json(path, conn, query, table, column)
        if bad is not None:
            raise StoreError(
                f"{str(path)!r} is damaged: a value in column {column!r} of table "
                f"{table!r} is not valid JSON ({bad[:40]!r}); {AGAIN}"
            )
    rows = query(
        "SELECT count(*) FROM histograms WHERE typeof(counts) != 'blob' OR length(counts) % 4 != 0"
    )
    if rows and rows[0][0]:
        raise StoreError(
            f"{str(path)!r} is damaged: {rows[0][0]} histogram(s) hold a partial count; {AGAIN}"
        )


def first_bad_json(
    path: Path, conn: sqlite3.Connection, query: Query, table: str, column: str
) -> str | None:
    """The first value of ``table.column`` that is not JSON, or ``None``."""
    quoted = f'"{column}"'  # names from the schema, never user text
    try:
        rows = conn.execute(
            f"SELECT {quoted} FROM {table} WHERE {quoted} IS NOT NULL"
            f" AND NOT json_valid({quoted}) LIMIT 1"
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "json_valid" not in str(exc):
            raise damaged(path, str(exc)) from None
        rows = []  # an SQLite without JSON functions: parse the values here
        for (value,) in query(f"SELECT {quoted} FROM {table} WHERE {quoted} IS NOT NULL"):
            try:
                json.loads(value)
            except (TypeError, ValueError):
                rows = [(value,)]
                break
    except sqlite3.DatabaseError as exc:
        raise damaged(path, str(exc)) from None
    return str(rows[0][0]) if rows else None


def _integer(value: Any) -> int | None:
    """``value`` as an int when it is one (or its decimal text), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
