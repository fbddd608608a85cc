"""Measure what the doctor's statistical rules judge, on healthy runs (docs/doctor/thresholds.md).

    python tests/doctor/measure_thresholds.py              # trains the five demos (≈ 5 min)
    python tests/doctor/measure_thresholds.py --stores DIR  # reuse DIR/<demo>.gsdb if present

Trains every demo model for its default number of steps, plus the MLP and LeNet rebuilt with
``nn.ReLU`` modules (the demos call ``F.relu``, which no module hook sees) to measure healthy
ReLU zero fractions, then prints one row per run with the quantity each rule compares against
its threshold, and the margin between the worst healthy value and the default threshold.
Not a test: the numbers are for people choosing thresholds.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import torch
from torch import nn

import gradscope as gs
from gradscope.demo.tasks import EXAMPLES, train_step
from gradscope.doctor import Thresholds, diagnose
from gradscope.doctor.context import Context
from gradscope.doctor.rules import (
    dead_relu,
    exploding_gradients,
    loss_stalled,
    update_ratio,
    vanishing_gradients,
)

DEMOS = ("linreg", "mlp", "lenet", "gru", "transformer")


def relu_mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def relu_lenet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip


def train_variant(name: str, build: object, path: Path) -> Path:
    """Train ``build()`` on demo ``name``'s task, optimizer and loss, as the demo does."""
    example = EXAMPLES[name]
    torch.manual_seed(0)
    model = build()  # type: ignore[operator]
    optimizer = example.build_optimizer(model)
    batches = example.batches(torch.Generator().manual_seed(0))
    with gs.watch(model, optimizer, store=path):
        for _ in range(example.default_steps):
            train_step(example, model, optimizer, next(batches))
    return path


def stores(folder: Path) -> dict[str, Path]:
    from rich.console import Console

    from gradscope.demo.run import run_demo

    out = {}
    quiet = Console(file=open("/dev/null", "w"))  # noqa: SIM115 - lives as long as the script
    for name in DEMOS:
        path = folder / f"{name}.gsdb"
        if not path.exists():
            run_demo(name, store=path, console=quiet)
        out[name] = path
    for name, build in (("mlp-relu", relu_mlp), ("lenet-relu", relu_lenet)):
        path = folder / f"{name}.gsdb"
        if not path.exists():
            train_variant(name.split("-")[0], build, path)
        out[name] = path
    return out


def measure(path: Path) -> dict[str, float]:
    with gs.open_store(path) as run:
        ctx = Context(run)
        e = exploding_gradients.measure(ctx)
        u = update_ratio.measure(ctx)
        return {
            "steps": float(len(ctx.losses[0])),
            "growth": e["growth"],
            "peak": e["peak"],
            "vanish": vanishing_gradients.measure(ctx)["ratio"],
            "update_min": u["min"],
            "update_max_weight": u["max_weight"],
            "update_max_any": u["max_any"],
            "zero_frac": dead_relu.measure(ctx)["max_zero_frac"],
            "loss_change": loss_stalled.measure(ctx)["change"],
            "alerts": float(len(diagnose(run, strict=True))),
        }


def worst(rows: dict[str, dict[str, float]], key: str, pick: object) -> float:
    values = [r[key] for r in rows.values() if math.isfinite(r[key])]
    return pick(values) if values else math.nan  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=Path, help="folder for (and of) the runs' stores")
    args = parser.parse_args()
    folder = args.stores or Path(tempfile.mkdtemp(prefix="gradscope-thresholds-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = {name: measure(path) for name, path in stores(folder).items()}
    keys = list(next(iter(rows.values())))
    print("| run | " + " | ".join(keys) + " |")
    print("|" + "---|" * (len(keys) + 1))
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.3g}" for k in keys) + " |")
    t = Thresholds()
    margins = {
        "explode_growth": t.explode_growth / worst(rows, "growth", max),
        "explode_bound": t.explode_bound / worst(rows, "peak", max),
        "vanish_ratio": worst(rows, "vanish", min) / t.vanish_ratio,
        "update_low": worst(rows, "update_min", min) / t.update_low,
        "update_high": t.update_high / worst(rows, "update_max_weight", max),
        "dead_fraction": (1 - worst(rows, "zero_frac", max)) / (1 - t.dead_fraction),
        "stall_change": worst(rows, "loss_change", min) / t.stall_change,
    }
    print()
    for name, margin in margins.items():
        print(f"{name} = {getattr(t, name):g}: margin {margin:.3g}x")


if __name__ == "__main__":
    main()
