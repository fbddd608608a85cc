"""Time and peak memory of an export of a synthetic long run (not collected by pytest).

    python tests/export/bench_export.py --steps 5000 --params 200 --format parquet

Builds a store with the real schema (random values, two optimizer-state entries a parameter)
in a temporary folder unless ``--store`` names an existing one, then exports it once.
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from gradscope.export import export
from gradscope.records import PARAM_METRICS
from gradscope.store import schema

STATES = ("momentum_buffer.norm", "step.value")


def synthetic_store(path: Path, steps: int, params: int) -> Path:
    conn = sqlite3.connect(path)
    schema.create(conn)
    conn.execute("PRAGMA synchronous=OFF")
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [("rank", "0"), ("world_size", "1")])
    conn.executemany(
        "INSERT INTO params VALUES (?, ?, '[]', '[10]', 'float32', 'cpu', 1, 'm')",
        [(i, f"layer{i}.weight") for i in range(params)],
    )
    marks = ", ".join("?" for _ in PARAM_METRICS)
    for first in range(0, steps, 1000):
        window = range(first, min(steps, first + 1000))
        conn.executemany(
            "INSERT INTO steps VALUES (?, ?, 0.01, ?, 1, 1, '[0.1]', NULL, 'cadence')",
            [(s, 1e9 + s, 1.0 / (s + 1)) for s in window],
        )
        conn.executemany(
            f"INSERT INTO param_stats VALUES (?, ?, {marks})",
            [
                (p, s, *(random.random() for _ in PARAM_METRICS))
                for s in window
                for p in range(params)
            ],
        )
        conn.executemany(
            "INSERT INTO state_stats VALUES (?, ?, ?, ?)",
            [(p, n, s, random.random()) for s in window for p in range(params) for n in STATES],
        )
        conn.commit()
    conn.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--params", type=int, default=200)
    parser.add_argument("--format", default="parquet", choices=("csv", "parquet", "tensorboard"))
    parser.add_argument("--metric", action="append", help="as gradscope export -m")
    parser.add_argument("--store", type=Path, help="export this store instead of a new one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or synthetic_store(Path(tmp) / "bench.gsdb", args.steps, args.params)
        started = time.perf_counter()
        export(store, args.format, Path(tmp) / "out", metrics=args.metric)
        elapsed = time.perf_counter() - started
        size = sum(f.stat().st_size for f in (Path(tmp) / "out").rglob("*") if f.is_file())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{args.format}: {elapsed:.1f} s, peak RSS {peak} MB, output {size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
