"""How values cross the store boundary, in one place: non-finite numbers, histogram counts and
the JSON columns.

SQLite stores a NaN bound to a REAL column as NULL, which already means "not measured". The
writer therefore stores NaN as the text ``NaN`` (±Inf are REAL values SQLite keeps as they
are), and every read turns that text back into ``float('nan')``: whatever reads a store (the
read API, the dashboard, export, the doctor) sees plain floats, never the text.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import struct
from typing import Any

from gradscope.errors import StoreError

NAN_TEXT = "NaN"

#: Columns that hold names and other text: a module literally named ``NaN`` stays a name.
TEXT_COLUMNS = frozenset(
    {
        "name", "aliases", "path", "type", "parent", "shape", "dtype", "device", "module",
        "key", "code", "severity", "where", "message", "details", "kind", "defaults", "groups",
        "lrs", "scalars", "hparams", "buffers",
    }
)  # fmt: skip


def encode_real(value: float | None) -> float | str | None:
    """A float as the writer binds it: NaN as the text ``NaN``, anything else unchanged."""
    if value is not None and value != value:
        return NAN_TEXT
    return value


def decode_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Row factory for reading connections: the text ``NaN`` in a numeric column is a float."""
    if NAN_TEXT not in row:
        return row
    names = [d[0] for d in cursor.description]
    return tuple(
        math.nan if value == NAN_TEXT and name not in TEXT_COLUMNS else value
        for name, value in zip(names, row, strict=True)
    )


def encode_counts(counts: tuple[int, ...] | list[int]) -> bytes:
    """Histogram bin counts as the ``counts`` blob: little-endian unsigned 32-bit integers."""
    return struct.pack(f"<{len(counts)}I", *counts)


def decode_counts(blob: bytes) -> tuple[int, ...]:
    """Inverse of :func:`encode_counts`."""
    return struct.unpack(f"<{len(blob) // 4}I", blob)


def decode_json(path: str | os.PathLike[str], text: Any) -> Any:
    """A JSON column's value; a value that is not JSON means the file at ``path`` is damaged."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise StoreError(
            f"{str(path)!r} is damaged: a stored value is not valid JSON "
            f"({str(text)[:40]!r}); copy the store again from where the run wrote it"
        ) from None
