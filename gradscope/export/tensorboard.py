"""TensorBoard event files written with ``tensorboard``'s own writer and protocol buffers.

No ``torch.utils.tensorboard``: only the ``tensorboard`` package (what TensorBoard itself reads
with), so the files are exactly what its event reader expects. Each gradscope step becomes one
event at that step and the step's wall time, holding every scalar and histogram of the step.
Histograms are the store's own bins and counts (``HistogramProto`` with our bin edges), never
re-binned from made-up samples.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from typing_extensions import Unpack

from gradscope.errors import GradscopeError
from gradscope.export.output import EVENT_SUFFIX, check_folder, earlier_events, new_events
from gradscope.export.tables import (
    Chunk,
    ExportOptions,
    Layout,
    opened_runs,
    plan,
    ranks,
    walk,
)
from gradscope.store.ranks import split_rank
from gradscope.store.reader import Run
from gradscope.text_safety import visible

ROOT_MODULE = "(root)"


def _tensorboard() -> tuple[Any, Any, Any]:
    """``(Event, HistogramProto, EventFileWriter)`` from the ``tensorboard`` package."""
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import HistogramProto
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise GradscopeError(
            'TensorBoard export needs the tensorboard package: pip install "gradscope[tensorboard]"'
        ) from None
    return Event, HistogramProto, EventFileWriter


def histogram_tag(kind: str, scale: str, param: str) -> str:
    """``grad_hist/<param>``; on the log scale ``grad_hist_log10/<param>`` (bins over log10|x|)."""
    return f"{kind}_hist{'_log10' if scale == 'log' else ''}/{visible(param)}"


def bucket_limits(lo: float, hi: float, bins: int) -> list[float]:
    """Right edges of ``bins`` equal bins over ``[lo, hi]`` (TensorBoard's ``bucket_limit``).

    TensorBoard takes bucket ``i`` as ``(limit[i-1], limit[i]]`` with ``min`` as the first left
    edge and ``max`` as the last right edge, so the last limit is ``hi`` itself.
    """
    width = (hi - lo) / bins
    return [lo + (i + 1) * width for i in range(bins - 1)] + [hi]


def histogram_proto(proto: Any, lo: float, hi: float, counts: Sequence[int]) -> Any:
    """A ``HistogramProto`` of stored bins; sum and sum of squares from the bin centres.

    A tensor whose finite values are all equal (``lo == hi``) has everything in one bin; it
    becomes one bucket of zero width rather than bins over a range that was never seen.
    """
    if hi <= lo:
        limits, counts = [hi], [sum(counts)]
    else:
        limits = bucket_limits(lo, hi, len(counts))
    lefts = [lo, *limits[:-1]]
    centres = [(a + b) / 2 for a, b in zip(lefts, limits, strict=True)]
    return proto(
        min=lo,
        max=hi,
        num=float(sum(counts)),
        sum=sum(c * x for c, x in zip(counts, centres, strict=True)),
        sum_squares=sum(c * x * x for c, x in zip(counts, centres, strict=True)),
        bucket_limit=limits,
        bucket=[float(c) for c in counts],
    )


class _Tags:
    """Tag names (``grad_norm/fc1.weight``), built once per parameter or module, not per value.

    TensorBoard shows tags as they are: a control character in a name (a module named with an
    ESC) is spelled out, as every view does; the CSV and Parquet tables keep names exactly.
    """

    def __init__(self, layout: Layout) -> None:
        self.steps = (
            "duration",
            "loss",
            *(f"lr/group{i}" for i in range(layout.n_lrs)),
            *map(visible, layout.scalar_columns),
        )
        self._param = (*layout.param_metrics, *(f"state.{n}" for n in layout.state_names))
        self._module = layout.module_metrics
        self._cache: dict[tuple[bool, str], tuple[str, ...]] = {}

    def of(self, name: str, *, module: bool = False) -> tuple[str, ...]:
        tags = self._cache.get((module, name))
        if tags is None:
            label = visible((name or ROOT_MODULE) if module else name)
            metrics = self._module if module else self._param
            tags = self._cache[module, name] = tuple(f"{m}/{label}" for m in metrics)
        return tags


def _events(chunk: Chunk, layout: Layout, tags: _Tags, protos: tuple[Any, ...]) -> list[Any]:
    """One ``Event`` per step of one window of rows, in step order, values added in place."""
    event, histo, _ = protos
    lead = 2 if layout.rank else 1
    out: dict[int, Any] = defaultdict(event)
    for row in chunk.steps:
        record = out[row[0]]
        record.wall_time = row[lead]
        add = record.summary.value.add
        # duration, loss, then (after n_backward and logged) the lrs and scope.log scalars
        for tag, v in zip(tags.steps, (*row[lead + 1 : lead + 3], *row[lead + 5 :]), strict=True):
            if v is not None:
                add(tag=tag, simple_value=v)
    for row in chunk.params:
        add = out[row[0]].summary.value.add
        for tag, v in zip(tags.of(row[lead]), row[lead + 1 :], strict=True):
            if v is not None:
                add(tag=tag, simple_value=v)
    for row in chunk.modules:
        add = out[row[0]].summary.value.add
        for tag, v in zip(tags.of(row[lead], module=True), row[lead + 3 :], strict=True):
            if v is not None:
                add(tag=tag, simple_value=v)
    for step, name, kind, scale, lo, hi, counts in chunk.histograms:
        out[step].summary.value.add(
            tag=histogram_tag(kind, scale, name), histo=histogram_proto(histo, lo, hi, counts)
        )
    for step, record in out.items():
        record.step = step
    return [out[s] for s in sorted(out)]


def run_name(runs: Sequence[Run]) -> str:
    """The run folder of an export: the store's name without ``.gsdb`` (and without ``.rank<N>``
    when several ranks are exported together), as TensorBoard will list the run."""
    path = Path(runs[0].path)
    return (split_rank(path)[0] if len(runs) > 1 or runs[0].all_ranks else path).stem


def to_tensorboard(
    runs: Any, path: str | os.PathLike[str], **options: Unpack[ExportOptions]
) -> Path:
    """Write TensorBoard event files into a run folder of the log folder ``path``; return it.

    The run folder is named after the store (``path/exp1/`` for ``exp1.gsdb``), so ``path`` can
    be a log folder that already holds other runs, the user's own included: TensorBoard shows
    the export as a run of its own. ``runs`` is a :class:`Run`, a store path, or a list of them;
    several stores (one per rank) go to ``path/<run>/rank<N>/``, one TensorBoard run each.
    A run folder that already holds event files is refused; with ``force``, the event files
    an earlier gradscope export wrote there are replaced once the new ones are written, and
    event files gradscope did not write are never deleted (the export is refused instead).
    """
    metrics, progress = options.get("metrics"), options.get("progress")
    force = options.get("force", False)
    protos = _tensorboard()
    writer_class = protos[2]
    out = Path(path)
    check_folder(out, "tensorboard")
    with opened_runs(runs) as opened:
        layout = plan(opened, metrics)
        tags = _Tags(layout)
        root = out / run_name(opened)
        logdirs = [root / f"rank{r}" for r in ranks(opened)] if len(opened) > 1 else [root]
        earlier = earlier_events(logdirs, force=force)
        writer: Any = None
        current, wall = -1, 0.0
        with new_events(logdirs):
            try:
                for index, _, chunk in walk(opened, layout, histograms=True, progress=progress):
                    if index != current:  # the next store: its own folder and writer
                        if writer is not None:
                            writer.close()
                        logdirs[index].mkdir(parents=True, exist_ok=True)
                        writer = writer_class(str(logdirs[index]), filename_suffix=EVENT_SUFFIX)
                        current, wall = index, 0.0
                    for record in _events(chunk, layout, tags, protos):
                        if record.wall_time == 0:  # statistics without a step row: keep time
                            record.wall_time = wall
                        wall = record.wall_time
                        writer.add_event(record)
            finally:
                if writer is not None:
                    writer.close()
        for old in earlier:
            old.unlink(missing_ok=True)
    return root
