"""Graph benchmark (run by hand): capture time against torchviz, and render time.

    python tests/bench/graph.py            # both encoder sizes, prints a markdown table
    python tests/bench/graph.py --repeat 20

Model: nn.TransformerEncoder (d_model 256, 4 heads, ff 1024, dropout on, batch-first) on a
(16, 128, 256) batch, mean of the output as the loss, at 4 and 12 layers. One forward; then
each arm runs ``repeat`` times on that same graph and the best (least disturbed) time is
reported, as ``timeit`` advises:

- torchviz: ``make_dot(loss, params=dict(model.named_parameters()))`` — the Digraph is built,
  not rendered;
- gradscope: ``capture_graph(loss, model=model, depth=None)`` — the full graph, parameters named,
  edge shapes read, no collapsing (the same work as make_dot, plus shapes);
- gradscope + attribution: the same with ``record=`` a recorded forward (bisect per node);
- floor: a bare iterative traversal that only reads each node's output shapes (no records
  built), i.e. what any capture with edge shapes must spend in torch's Python bindings;
- the recorded forward's own cost (hooks + cut detection) against a plain forward;
- render: ``capture_graph(..., depth="auto")`` of the recorded 12-layer forward, then ``dot``
  to SVG (the default collapsed view), wall time.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory

import torch
from torch import nn

import gradscope.graph as gg


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


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm up caches (type tables, first wrapper objects)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1e3  # the least disturbed run: other processes only ever add time


def run(layers: int, repeat: int) -> dict[str, float]:
    import torchviz

    model = encoder(layers)
    x = torch.randn(16, 128, 256)
    with gg.record_modules(model) as rec:
        loss = model(x).mean()
    params = lambda: dict(model.named_parameters())  # noqa: E731
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        out["torchviz"] = best_ms(lambda: torchviz.make_dot(loss, params=params()), repeat)
    full = gg.capture_graph(loss, model=model, depth=None)
    out["nodes"] = len(full.nodes)
    out["edges"] = len(full.edges)
    out["gradscope"] = best_ms(lambda: gg.capture_graph(loss, model=model, depth=None), repeat)
    out["floor"] = best_ms(lambda: traversal_floor(loss), repeat)
    out["attributed"] = best_ms(
        lambda: gg.capture_graph(loss, model=model, record=rec, depth=None), repeat
    )

    def plain() -> None:
        model(x).mean()

    def recorded() -> None:
        with gg.record_modules(model):
            model(x).mean()

    out["forward"] = best_ms(plain, max(3, repeat // 4))
    out["recorded_forward"] = best_ms(recorded, max(3, repeat // 4))
    if layers == 12:
        t0 = time.perf_counter()
        view = gg.capture_graph(loss, model=model, record=rec)
        with TemporaryDirectory() as tmp:
            view.render(Path(tmp) / "graph.svg")
        out["render_s"] = time.perf_counter() - t0
        out["view_nodes"] = len(view.nodes)
        out["view_depth"] = float(view.depth if view.depth is not None else -1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, best of {args.repeat}\n")
    print("| layers | nodes / edges | torchviz make_dot | gradscope capture | speed-up "
          "| traversal floor | + attribution | forward | recorded forward |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    render = None
    for layers in (4, 12):
        r = run(layers, args.repeat)
        print(
            f"| {layers} | {r['nodes']:.0f} / {r['edges']:.0f} | {r['torchviz']:.2f} ms "
            f"| {r['gradscope']:.2f} ms | {r['torchviz'] / r['gradscope']:.1f}x "
            f"| {r['floor']:.2f} ms | {r['attributed']:.2f} ms | {r['forward']:.0f} ms "
            f"| {r['recorded_forward']:.0f} ms |"
        )
        if "render_s" in r:
            render = r
    if render is not None:
        print(
            f"\nDefault view of the 12-layer model: depth {render['view_depth']:.0f}, "
            f"{render['view_nodes']:.0f} nodes; capture + collapse + dot to SVG: "
            f"{render['render_s']:.2f} s"
        )


if __name__ == "__main__":
    main()
