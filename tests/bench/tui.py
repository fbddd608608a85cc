"""How fast the dashboard opens and follows a long run.

Run by hand (pytest does not collect this file)::

    python tests/bench/tui.py                       # 100,000 steps x 200 parameters
    python tests/bench/tui.py --steps 20000 --layers 10 --store /tmp/small.gsdb

The store is written straight into SQLite with ``executemany`` in the documented layout (what a
``gs.watch`` run of that length would leave, without training for hours): per step a ``steps``
row, one ``param_stats`` row per parameter and one ``group_stats`` row per group; optimizer state
and histograms every ``--sparse-every`` steps. It is kept at ``--store`` and reused by later runs
of the same size (``--rebuild`` writes it again). The numbers measured:

* ``open``: from ``make_app`` to the overview's parameter table holding every row, in a headless
  app of 120x36 (the store opened, the tree built, the latest values and sparklines read);
* ``refresh``: while a writer appends 10 steps between polls, the median and worst cost of one
  refresh over ``--refreshes`` polls: the poll alone (reading what is new, wall time), and the
  poll plus redrawing the header and table and rendering the screen (CPU time of the process,
  so the idle waits of the test harness between frames are not counted);
* ``detail``: opening the parameter view (plots, histogram, optimizer state) of one parameter.

The store is made by ``tests/tui/store_builder.py``, which also makes the dashboard tests' small
fixed store.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any


def _load_builder() -> ModuleType:
    path = Path(__file__).parents[1] / "tui" / "store_builder.py"
    spec = importlib.util.spec_from_file_location("gradscope_tui_store_builder", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


builder = _load_builder()


# -- the benchmark ------------------------------------------------------------------------------


async def measure(path: Path, *, layers: int, steps: int, refreshes: int) -> dict[str, Any]:
    """Open the dashboard on ``path``, then time polls while steps are appended."""
    from gradscope.tui import make_app
    from gradscope.tui.widgets.param_table import ParamTable

    start = time.perf_counter()
    app = make_app(path, interval=3600)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ParamTable)
        opened = time.perf_counter() - start
        rows = table.row_count
        polls, refreshes_ms = [], []
        first = (app.data.last_step or 0) + 1
        for _ in range(refreshes):
            builder.append_steps(path, first, 10, layers=layers, steps=steps)
            first += 10
            c0, t0 = time.process_time(), time.perf_counter()
            update = app.data.poll()
            t1 = time.perf_counter()
            assert update is not None and update.steps
            app.screen.post_message(_updated(update))
            await pilot.pause()  # handles the message and renders the screen
            polls.append((t1 - t0) * 1e3)
            refreshes_ms.append((time.process_time() - c0) * 1e3)
        assert app.data.last_step == first - 1
        print("refreshes (ms):", " ".join(f"{x:.0f}" for x in refreshes_ms))
        t0 = time.perf_counter()
        await pilot.press("2")
        await pilot.pause()
        detail = time.perf_counter() - t0
    return {
        "open_s": opened,
        "rows": rows,
        "poll_ms": (statistics.median(polls), max(polls)),
        "refresh_ms": (statistics.median(refreshes_ms), max(refreshes_ms)),
        "detail_s": detail,
    }


def _updated(update: Any) -> Any:
    from gradscope.tui.messages import StoreUpdated

    return StoreUpdated(update)


def _truncate(path: Path, steps: int) -> None:
    """Remove the steps a measurement appended, so the store stays the size it was built."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DELETE FROM steps WHERE step >= ?", (steps,))
        conn.execute("DELETE FROM param_stats WHERE step >= ?", (steps,))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--layers", type=int, default=50, help="4 parameters per layer")
    parser.add_argument("--sparse-every", type=int, default=100)
    parser.add_argument("--refreshes", type=int, default=30)
    parser.add_argument("--store", type=Path, default=None)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    path = args.store or Path(tempfile.gettempdir()) / (
        f"gradscope-bench-tui-{args.steps}x{4 * args.layers}.gsdb"
    )
    if args.rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        t0 = time.perf_counter()
        builder.write_store(
            path,
            layers=args.layers,
            steps=args.steps,
            sparse_every=args.sparse_every,
            finished=False,
        )
        print(f"built {path} in {time.perf_counter() - t0:.0f} s")
    print(
        f"store: {path} ({path.stat().st_size / 1e9:.2f} GB), {args.steps} steps x "
        f"{4 * args.layers} parameters"
    )
    try:
        with builder.live_writer(path):  # followed as a live run, as while training writes it
            result = asyncio.run(
                measure(path, layers=args.layers, steps=args.steps, refreshes=args.refreshes)
            )
    finally:
        _truncate(path, args.steps)
    print(f"open to a usable overview: {result['open_s']:.2f} s ({result['rows']} rows)")
    print("poll (read new rows): median {:.1f} ms, max {:.1f} ms".format(*result["poll_ms"]))
    print(
        "refresh (poll + redraw + render, CPU): median {:.1f} ms, max {:.1f} ms".format(
            *result["refresh_ms"]
        )
    )
    print(f"open the parameter view: {result['detail_s'] * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
