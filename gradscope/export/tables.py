"""The rows every export format writes, read from a store a bounded window of steps at a time.

A 100,000-step run of a 200-parameter model holds 20 million ``param_stats`` rows, so nothing
here reads a whole table: each window covers at most ``CHUNK_ROWS`` rows and is fetched by
primary-key seeks (``CROSS JOIN`` keeps ``params`` the outer loop, as in the reader's bulk
reads). The columns come from :func:`gradscope.export.layout.plan`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from gradscope.errors import GradscopeError
from gradscope.export.layout import Layout, cursor, plan
from gradscope.store.codec import decode_counts
from gradscope.store.reader import Run, open_store

__all__ = ["CHUNK_ROWS", "Chunk", "Layout", "Progress", "chunks", "opened_runs", "plan", "walk"]

CHUNK_ROWS = 20_000
_END = 2**62

#: ``progress(done, total)``, in steps, called after each window has been written.
Progress = Callable[[int, int], None]


class ExportOptions(TypedDict, total=False):
    """The keyword options every export format takes.

    ``metrics``: the metric names to keep (default: all); ``progress``: called with (rows done,
    rows in all) as the export goes; ``force``: replace files an earlier export wrote.
    """

    metrics: Sequence[str] | None
    progress: Progress | None
    force: bool


@contextlib.contextmanager
def opened_runs(runs: Any) -> Iterator[list[Run]]:
    """The runs to export, one per rank: from a :class:`Run`, a store path, or a list of either.

    A distributed run's logical path (``runs/x.gsdb`` for ``runs/x.rank<R>.gsdb``) stands for
    every rank's file, as in the report and the doctor. Stores opened here are closed on exit;
    a ``Run`` handed in stays open.
    """
    items = list(runs) if isinstance(runs, (list, tuple)) else [runs]
    if not items:
        raise GradscopeError("nothing to export: pass at least one store")
    opened: list[Run] = []
    owned: list[Run] = []
    try:
        for item in items:
            run = item if isinstance(item, Run) else open_store(item)
            if run is not item:
                owned.append(run)
            opened.append(run)
            if getattr(run, "all_ranks", False):
                for rank in run.ranks:
                    if rank != run.rank:
                        owned.append(other := run.rank_run(rank))
                        opened.append(other)
        yield opened
    finally:
        for run in owned:
            run.close()


@dataclass
class Chunk:
    """The rows of one window of steps ``[start, end)`` of one run, each table in step order."""

    start: int
    end: int
    steps: list[tuple[Any, ...]] = field(default_factory=list)
    params: list[tuple[Any, ...]] = field(default_factory=list)
    modules: list[tuple[Any, ...]] = field(default_factory=list)
    #: ``(step, param, kind, scale, lo, hi, counts)`` (TensorBoard only)
    histograms: list[tuple[Any, ...]] = field(default_factory=list)


def ranks(runs: Sequence[Run]) -> list[int]:
    """Each run's rank from its meta (``RANK`` when recorded), or its place in the list when
    those repeat (several single-process stores exported together)."""
    recorded = [int(r.meta.get("rank", i)) for i, r in enumerate(runs)]
    return recorded if len(set(recorded)) == len(recorded) else list(range(len(runs)))


def _windows(run: Run, per_window: int) -> Iterator[tuple[int, int]]:
    """Back-to-back step ranges ``[start, end)`` holding at most ``per_window`` logged steps."""
    start = -1
    while True:
        row = cursor(
            run,
            "SELECT step FROM steps WHERE step > ? AND logged = 1 ORDER BY step LIMIT 1 OFFSET ?",
            (start, per_window),
        ).fetchone()
        if row is None:
            yield start + 1, _END
            return
        yield start + 1, row[0]
        start = row[0] - 1


def _param_rows(
    run: Run, layout: Layout, lead: tuple[Any, ...], start: int, end: int
) -> list[tuple[Any, ...]]:
    """Metrics and optimizer state side by side, pivoted by SQLite (one seek per state value).

    Rows come out of SQLite in their final shape, so a value costs no Python work unless it is
    a NaN; state recorded where ``param_stats`` has no row is found by a second query.
    """
    names = layout.state_names
    cols = "".join(f", s.{m}" for m in layout.param_metrics)
    states = "".join(
        ", (SELECT value FROM state_stats t WHERE t.param_id = p.id AND t.name = ?"
        " AND t.step = s.step)"
        for _ in names
    )
    rows = cursor(
        run,
        f"SELECT s.step{', ?' * len(lead)}, p.name{cols}{states} FROM params p"
        " CROSS JOIN param_stats s ON s.param_id = p.id AND s.step >= ? AND s.step < ?"
        " ORDER BY s.step, p.id",
        (*lead, *names, start, end),
    ).fetchall()
    if names:
        marks = ", ".join("?" for _ in names)
        orphans = cursor(
            run,
            "SELECT s.step, p.name, s.name, s.value FROM params p CROSS JOIN state_stats s"
            f" ON s.param_id = p.id AND s.name IN ({marks}) AND s.step >= ? AND s.step < ?"
            " WHERE NOT EXISTS"
            " (SELECT 1 FROM param_stats q WHERE q.param_id = p.id AND q.step = s.step)",
            (*names, start, end),
        ).fetchall()
        if orphans:
            rows = _with_orphans(run, layout, lead, rows, orphans)
    return rows


def _with_orphans(
    run: Run,
    layout: Layout,
    lead: tuple[Any, ...],
    rows: list[tuple[Any, ...]],
    orphans: list[tuple[Any, ...]],
) -> list[tuple[Any, ...]]:
    """Add rows for optimizer state whose step has no gradient/weight statistics."""
    where = {n: i for i, n in enumerate(layout.state_names)}
    extra: dict[tuple[int, str], list[Any]] = {}
    for step, param, name, value in orphans:
        row = extra.setdefault((step, param), [None] * len(where))
        row[where[name]] = value
    blank = (None,) * len(layout.param_metrics)
    rows = rows + [(step, *lead, param, *blank, *v) for (step, param), v in extra.items()]
    order = {name: i for i, name in enumerate(run.params)}
    return sorted(rows, key=lambda r: (r[0], order.get(r[len(lead) + 1], -1)))


def _step_rows(
    run: Run, layout: Layout, lead: tuple[Any, ...], start: int, end: int
) -> list[tuple[Any, ...]]:
    """The window's step records (the read API's own query and decoding) as table rows."""
    out = []
    for r in run.step_rows(start, before=end):
        lrs = (*r.lrs, *[None] * (layout.n_lrs - len(r.lrs)))
        values = (r.scalars.get(s) for s in layout.scalars)
        out.append(
            (r.step, *lead, r.wall_time, r.duration, r.loss, r.n_backward, r.logged, *lrs, *values)
        )
    return out


def _module_rows(
    run: Run, layout: Layout, lead: tuple[Any, ...], start: int, end: int
) -> list[tuple[Any, ...]]:
    cols = "".join(f", s.{m}" for m in layout.module_metrics)
    rows = [
        (step, *lead, path, calls, bool(training), *values)
        for step, path, calls, training, *values in cursor(
            run,
            f"SELECT s.step, m.path, s.calls, s.training{cols} FROM modules m"
            " CROSS JOIN module_stats s ON s.module_id = m.id AND s.step >= ? AND s.step < ?"
            " ORDER BY s.step, m.id",
            (start, end),
        )
    ]
    return rows


def _histogram_rows(run: Run, layout: Layout, start: int, end: int) -> list[tuple[Any, ...]]:
    if not layout.histograms:
        return []
    marks = ", ".join("?" for _ in layout.histograms)
    return [
        (step, name, kind, scale, lo, hi, decode_counts(blob))
        for step, name, kind, scale, lo, hi, blob in cursor(
            run,
            "SELECT s.step, p.name, s.kind, s.scale, s.lo, s.hi, s.counts FROM params p"
            f" CROSS JOIN histograms s ON s.param_id = p.id AND s.kind IN ({marks})"
            " AND s.step >= ? AND s.step < ? ORDER BY s.step, p.id, s.kind",
            (*layout.histograms, start, end),
        )
    ]


def chunks(
    run: Run, layout: Layout, *, rank: int | None = None, histograms: bool = False
) -> Iterator[Chunk]:
    """Every row of ``run`` in windows of at most about ``CHUNK_ROWS`` rows, oldest first."""
    lead = (rank,) if layout.rank else ()
    width = len(run.params) + len(run.modules)
    for start, end in _windows(run, max(1, CHUNK_ROWS // max(1, width))):
        chunk = Chunk(start, end)
        chunk.steps = _step_rows(run, layout, lead, start, end)
        chunk.params = _param_rows(run, layout, lead, start, end)
        chunk.modules = _module_rows(run, layout, lead, start, end)
        if histograms:
            chunk.histograms = _histogram_rows(run, layout, start, end)
        yield chunk


def step_span(run: Run) -> int:
    """How many step numbers the run covers: the unit of the progress callbacks."""
    row = cursor(run, "SELECT MIN(step), MAX(step) FROM steps").fetchone()
    return 0 if row is None or row[0] is None else row[1] - row[0] + 1


def walk(
    runs: Sequence[Run],
    layout: Layout,
    *,
    histograms: bool = False,
    progress: Progress | None = None,
) -> Iterator[tuple[int, Run, Chunk]]:
    """``(index, run, chunk)`` over every run in turn, reporting progress after each chunk."""
    spans = [step_span(r) for r in runs]
    total, done = sum(spans), 0
    for index, (run, rank) in enumerate(zip(runs, ranks(runs), strict=True)):
        first = cursor(run, "SELECT MIN(step) FROM steps").fetchone()[0] or 0
        for chunk in chunks(run, layout, rank=rank, histograms=histograms):
            yield index, run, chunk
            if progress is not None:
                covered = min(chunk.end, first + spans[index]) - first
                progress(done + max(0, covered), total)
        done += spans[index]
    if progress is not None:
        progress(total, total)
