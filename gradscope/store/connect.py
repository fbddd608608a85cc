"""Every SQLite connection to a store is made here, through a properly quoted ``file:`` URI.

A path pasted into ``file:{path}?mode=ro`` is not a URI: ``#`` starts a fragment, ``?`` a query
and ``%20`` an escape, so ``runs/exp#3.gsdb`` would open (and create) ``runs/exp`` instead, and
read-write. :func:`store_uri` percent-quotes the absolute path (``Path.as_uri``), which SQLite
decodes back to the exact bytes of the name, unicode included.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def store_uri(path: str | os.PathLike[str], *, read_only: bool, immutable: bool = False) -> str:
    """The ``file:`` URI of ``path``: ``mode=ro`` (``immutable``: no side files) or ``rwc``."""
    uri = Path(path).resolve().as_uri()
    if not read_only:
        return f"{uri}?mode=rwc"
    return f"{uri}?mode=ro&immutable=1" if immutable else f"{uri}?mode=ro"


def connect(
    path: str | os.PathLike[str],
    *,
    read_only: bool,
    immutable: bool = False,
    timeout: float = 5.0,
) -> sqlite3.Connection:
    """Open ``path`` (any name) for any thread; ``timeout`` is how long a busy lock is waited for.

    ``immutable`` reads the main file alone, creating no ``-wal``/``-shm`` beside it: for a file
    no one writes any more.
    """
    return sqlite3.connect(
        store_uri(path, read_only=read_only, immutable=immutable),
        uri=True,
        timeout=timeout,
        check_same_thread=False,
    )


def is_wal_file(header: bytes) -> bool:
    """Whether an SQLite header (the first 100 bytes) says the file is in WAL mode."""
    return len(header) >= 20 and header[18] == 2 and header[19] == 2


def wal_path(path: str | os.PathLike[str]) -> Path:
    """``run.gsdb`` → ``run.gsdb-wal``, where SQLite keeps commits not yet checkpointed."""
    return Path(f"{os.fspath(path)}-wal")
