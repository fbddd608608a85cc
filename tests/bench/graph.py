"""Graph benchmark (run by hand): capture time against torchviz, and render time.

    python tests/bench/graph.py                 # both encoder sizes, prints a markdown table
    python tests/bench/graph.py --repeat 101    # more rounds: steadier numbers

Model: nn.TransformerEncoder (d_model 256, 4 heads, ff 1024, dropout on, batch-first) on a
(16, 128, 256) batch, mean of the output as the loss, at 4 and 12 layers. One forward; then all
arms run on that same graph, ``repeat`` rounds, in one process. Arms alternate within a round
and each round starts at the next arm, so every arm follows every other one equally often (an
arm that runs right after make_dot finds the caches full of its strings and is ~20% slower).
Reported: the best round (the least disturbed, as ``timeit`` advises) and the median.

- torchviz: ``make_dot(loss, params=dict(model.named_parameters()))`` — the Digraph is built,
  not rendered;
- gradscope: ``capture_graph(loss, model=model, depth=None)`` — the full graph, parameters named,
  edge shapes and dtypes read, no collapsing: everything is read from the autograd graph, but
  the Node/Edge records are built on first use;
- + records: the same, then ``graph.nodes`` read (what rendering or collapsing pays first);
- + attribution: capture with ``record=`` a recorded forward (a bisect per node at build time);
- floor: a bare iterative traversal that only reads each node's output shapes (no records
  built), i.e. what any capture with edge shapes must spend in torch's Python bindings;
- the recorded forward's own cost (hooks + cut detection) against a plain forward;
- render: ``capture_graph(..., depth="auto")`` of the recorded 12-layer forward, then ``dot``
  to SVG (the default collapsed view), wall time; target ≤ 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import torch
from torch import nn

import gradscope.graph as gg

CAPTURE_TARGET = 5.0  # × faster than make_dot
RENDER_TARGET_S = 3.0


def encoder(layers: int) -> nn.Module:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(256, 4, 1024, batch_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


def traversal_floor(loss: torch.Tensor) -> int:
    """Visit every node once and read its output shapes; build nothing."""
    seen: dict[int, object] = {}
    stack = [loss.grad_fn]
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen[id(fn)] = (fn, [tuple(m.shape) for m in fn._input_metadata])
        stack.extend(u for u, _ in fn.next_functions if u is not None)
    return len(seen)


def rounds_ms(arms: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Times of every arm in ms, ``repeat`` rounds, rotating which arm goes first."""
    names = list(arms)
    for fn in arms.values():
        fn()  # warm up caches (type tables, first wrapper objects)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            fn = arms[name]
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1e3)
    return times


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    return min(rounds_ms({"fn": fn}, repeat)["fn"])


def run(layers: int, repeat: int) -> dict[str, object]:
    import torchviz

    model = encoder(layers)
    x = torch.randn(16, 128, 256)
    with gg.record_modules(model) as rec:
        loss = model(x).mean()
    full = gg.capture_graph(loss, model=model, depth=None)

    def built() -> None:
        g = gg.capture_graph(loss, model=model, depth=None)
        g.nodes  # noqa: B018 - builds the records

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torchviz imports distutils
        times = rounds_ms(
            {
                "torchviz": lambda: torchviz.make_dot(loss, params=dict(model.named_parameters())),
                "gradscope": lambda: gg.capture_graph(loss, model=model, depth=None),
                "records": built,
                "attributed": lambda: gg.capture_graph(loss, model=model, record=rec, depth=None),
                "floor": lambda: traversal_floor(loss),
            },
            repeat,
        )
    out: dict[str, object] = {"nodes": len(full.nodes), "edges": len(full.edges), "times": times}

    def plain() -> None:
        model(x).mean()

    def recorded() -> None:
        with gg.record_modules(model):
            model(x).mean()

    out["forward"] = best_ms(plain, max(3, repeat // 8))
    out["recorded_forward"] = best_ms(recorded, max(3, repeat // 8))
    if layers == 12:
        t0 = time.perf_counter()
        view = gg.capture_graph(loss, model=model, record=rec)
        with TemporaryDirectory() as tmp:
            view.render(Path(tmp) / "graph.svg")
        out["render_s"] = time.perf_counter() - t0
        out["view_nodes"] = len(view.nodes)
        out["view_depth"] = view.depth
    return out


def _cell(times: list[float]) -> str:
    return f"{min(times):.2f} / {statistics.median(times):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=31)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.repeat} rounds; "
          "times in ms as best / median\n")  # fmt: skip
    print("| layers | nodes / edges | torchviz make_dot | gradscope capture | speed-up | + records "
          "| + attribution | traversal floor | forward | recorded forward |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    render = None
    for layers in (4, 12):
        r = run(layers, args.repeat)
        t: dict[str, list[float]] = r["times"]  # type: ignore[assignment]
        best = min(t["torchviz"]) / min(t["gradscope"])
        median = statistics.median(t["torchviz"]) / statistics.median(t["gradscope"])
        print(
            f"| {layers} | {r['nodes']} / {r['edges']} | {_cell(t['torchviz'])} "
            f"| {_cell(t['gradscope'])} | {best:.1f}× / {median:.1f}× | {_cell(t['records'])} "
            f"| {_cell(t['attributed'])} | {_cell(t['floor'])} | {r['forward']:.0f} "
            f"| {r['recorded_forward']:.0f} |"
        )
        if "render_s" in r:
            render = r
    print(f"\nCapture target: ≥ {CAPTURE_TARGET:.0f}× faster than make_dot.")
    if render is not None:
        ok = "meets" if render["render_s"] <= RENDER_TARGET_S else "MISSES"  # type: ignore[operator]
        print(
            f"Default (collapsed) view of the 12-layer model: depth {render['view_depth']}, "
            f"{render['view_nodes']} nodes; capture + collapse + dot to SVG: "
            f"{render['render_s']:.2f} s ({ok} the ≤ {RENDER_TARGET_S:.0f} s target)"
        )


if __name__ == "__main__":
    main()
