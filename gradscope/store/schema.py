"""The SQLite layout of a run (``*.gsdb``), versioned in the ``meta`` table.

Per-parameter metrics are one wide row per (parameter, step) keyed for range scans, so reading
one parameter's series touches only its rows; optimizer state, whose keys differ from optimizer
to optimizer, is one row per (parameter, key, statistic, step). Arrays are little-endian blobs
or JSON, never pickle.
"""

from __future__ import annotations

import sqlite3

from gradscope.records import MODULE_METRICS, PARAM_METRICS

SCHEMA_VERSION = 2
APPLICATION_ID = 0x47534442  # "GSDB": lets a reader tell our files from other SQLite files
#: The meta key of the first step's graph snapshot (read apart from the rest of meta).
GRAPH_KEY = "graph"

#: Columns that hold JSON text, as ``(table, column)``: a reader's full check parses them all.
JSON_COLUMNS = (
    ("meta", "value"),
    ("params", "aliases"),
    ("params", "shape"),
    ("modules", "buffers"),
    ("optimizers", "defaults"),
    ("optimizers", "groups"),
    ("steps", "lrs"),
    ("steps", "scalars"),
    ("group_stats", "hparams"),
    ("module_stats", "shape"),
    ("events", "details"),
    ("alerts", "details"),
)

_param_cols = ", ".join(f"{m} REAL" for m in PARAM_METRICS)
_module_cols = ", ".join(f"{m} REAL" for m in MODULE_METRICS)

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS params (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, aliases TEXT NOT NULL,
    shape TEXT NOT NULL, dtype TEXT NOT NULL, device TEXT NOT NULL,
    requires_grad INTEGER NOT NULL, module TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS modules (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, type TEXT NOT NULL, parent TEXT,
    n_params INTEGER NOT NULL, buffers TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS optimizers (
    id INTEGER PRIMARY KEY, type TEXT NOT NULL, defaults TEXT NOT NULL, groups TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS steps (
    step INTEGER PRIMARY KEY, wall_time REAL NOT NULL, duration REAL, loss REAL,
    n_backward INTEGER NOT NULL, logged INTEGER NOT NULL, lrs TEXT NOT NULL, scalars TEXT,
    detail_reason TEXT
);
CREATE TABLE IF NOT EXISTS param_stats (
    param_id INTEGER NOT NULL, step INTEGER NOT NULL, {_param_cols},
    PRIMARY KEY (param_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_stats (
    param_id INTEGER NOT NULL, name TEXT NOT NULL, step INTEGER NOT NULL, value REAL,
    PRIMARY KEY (param_id, name, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_stats (
    optimizer INTEGER NOT NULL, grp INTEGER NOT NULL, step INTEGER NOT NULL, lr REAL,
    hparams TEXT NOT NULL, PRIMARY KEY (optimizer, grp, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS histograms (
    param_id INTEGER NOT NULL, kind TEXT NOT NULL, step INTEGER NOT NULL, scale TEXT NOT NULL,
    lo REAL NOT NULL, hi REAL NOT NULL, counts BLOB NOT NULL, nan INTEGER NOT NULL,
    posinf INTEGER NOT NULL, neginf INTEGER NOT NULL, zeros INTEGER NOT NULL,
    sampled INTEGER NOT NULL, PRIMARY KEY (param_id, kind, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS module_stats (
    module_id INTEGER NOT NULL, step INTEGER NOT NULL, calls INTEGER NOT NULL,
    training INTEGER NOT NULL, shape TEXT NOT NULL, dtype TEXT NOT NULL, device TEXT NOT NULL,
    {_module_cols}, PRIMARY KEY (module_id, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, step INTEGER NOT NULL, kind TEXT NOT NULL, "where" TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY, code TEXT NOT NULL, severity TEXT NOT NULL, "where" TEXT NOT NULL,
    step INTEGER, message TEXT NOT NULL, details TEXT NOT NULL
);
"""


def create(conn: sqlite3.Connection) -> None:
    """Create the tables of a new store and stamp it with the schema version.

    The tables are written before switching to WAL so the main file carries a valid header (and
    our application id) from the first moment a reader can see it.
    """
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.executescript(DDL)
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
        (str(SCHEMA_VERSION),),
    )
    conn.commit()
    conn.execute("PRAGMA journal_mode=WAL")
