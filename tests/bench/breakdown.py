"""Where a logged step's overhead goes: time spent inside gradscope's callbacks, by entry point.

Run by hand (pytest does not collect this file)::

    python tests/bench/breakdown.py --model lenet            # every=1, 300 timed steps
    python tests/bench/breakdown.py --model transformer --steps 40 --every 10
    python tests/bench/breakdown.py --model transformer --steps 40 --detail-every 1

Each entry point of the capture (the optimizer's pre- and post-step hooks, the end of a backward
pass, the module forward hooks, the output-gradient hooks, the per-parameter gradient hooks,
the loss clone of the backward wrapper) is wrapped with a timer; nested calls count once, in
the outermost one. The figures are main-thread wall time inside those calls, so they leave out
what the capture costs the training code around it (evicted caches, the writer thread's share
of the cores): ``overhead.py`` measures the whole. The store writer's own CPU time (its
thread's, per step) is printed too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

import gradscope as gs
from gradscope.capture import backward, loss, modules, step
from gradscope.store.rows import RowEncoder

try:
    from .models import MODELS
except ImportError:  # run as a script: python tests/bench/breakdown.py
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from models import MODELS  # type: ignore[no-redef]

WRITER = "store writer (its thread's CPU)"
ENTRY_POINTS: list[tuple[Any, str, str]] = [
    (step.StepPath, "_step_started", "optimizer pre-step"),
    (step.StepPath, "_step_finished", "optimizer post-step"),
    (step.StepPath, "backward_ended", "backward end"),
    (modules.ModuleWatcher, "_record", "module forward"),
    (modules.ModuleWatcher, "_grad_seen", "module output grad"),
    (backward.BackwardTracker, "_seen", "parameter grad hooks"),
    (loss, "scalar_root", "loss clone"),
]


def instrument(totals: dict[str, float]) -> Callable[[], None]:
    """Wrap every entry point with a timer; returns a function that undoes it."""
    depth = [0]
    originals = []
    for owner, attr, label in ENTRY_POINTS:
        original = getattr(owner, attr)
        originals.append((owner, attr, original))

        def timed(*args: Any, _f: Any = original, _label: str = label, **kwargs: Any) -> Any:
            if depth[0]:
                return _f(*args, **kwargs)
            depth[0] += 1
            start = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                totals[_label] += time.perf_counter() - start
                depth[0] -= 1

        setattr(owner, attr, timed)

    write = RowEncoder.write

    def timed_write(self: RowEncoder, *args: Any) -> None:
        start = time.thread_time()
        try:
            write(self, *args)
        finally:
            totals[WRITER] += time.thread_time() - start

    RowEncoder.write = timed_write  # type: ignore[method-assign]

    def undo() -> None:
        for owner, attr, original in originals:
            setattr(owner, attr, original)
        RowEncoder.write = write  # type: ignore[method-assign]

    return undo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lenet", choices=sorted(MODELS))
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--detail-every", type=int, default=10)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    warnings.simplefilter("ignore")  # the benchmark's random labels stall the loss
    spec = MODELS[args.model]
    batches = spec.batches(8)
    model = spec.model(seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    totals: dict[str, float] = defaultdict(float)
    undo = instrument(totals)
    times: list[float] = []
    try:
        with (
            tempfile.TemporaryDirectory() as d,
            gs.watch(
                model,
                opt,
                store=Path(d) / "breakdown.gsdb",
                every=args.every,
                detail_every=args.detail_every,
            ) as scope,
        ):
            for i in range(args.warmup + args.steps):
                if i == args.warmup:
                    scope.flush()
                    totals.clear()
                x, y = batches[i % len(batches)]
                start = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                loss_fn(model(x), y).backward()
                opt.step()
                if i >= args.warmup:
                    times.append(time.perf_counter() - start)
            scope.flush()
    finally:
        undo()
    n = args.steps
    writer = totals.pop(WRITER, 0.0)
    inside = sum(totals.values())
    print(
        f"{spec.describe}, every={args.every}, detail_every={args.detail_every}: "
        f"median step {statistics.median(times) * 1e3:.2f} ms"
        f", {inside / n * 1e3:.3f} ms of it inside gradscope's callbacks"
    )
    for label, total in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {label:22s} {total / n * 1e3:8.3f} ms/step")
    print(f"  {WRITER}: {writer / n * 1e3:.3f} ms/step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
