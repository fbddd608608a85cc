"""``vanishing-gradients``: early layers' gradients are orders of magnitude below later ones'.

Each weight (a parameter with two or more dimensions; a ``(1, C)`` or ``(1, C, 1, 1)``
parameter not named ``weight`` is a bias kept in broadcast shape, and a bias that feeds a
BatchNorm gets no gradient by design, so it is left out) is summarised by its median
per-element gradient, ‖g‖/√numel over the logged steps. Vanishing is a property of depth, so
weights are compared only within a stack of like layers: those whose names differ only in their
indices (``encoder.layers.0.linear1.weight`` … ``encoder.layers.11.linear1.weight``, or the
``0.weight``, ``2.weight`` … of a ``Sequential``), at least three deep. Across different kinds
of layer the per-element gradient differs by orders of magnitude in healthy models (a
classifier head against attention query/key weights at initialisation), which is no diagnosis.
Within each stack the pair of an earlier and a later weight (model order) with the smallest
ratio is judged. Embedding tables are left out: only the rows of the tokens in a batch get a
gradient, so their per-element gradient is small by design.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from gradscope.doctor.context import Context, fmt, median
from gradscope.records import Alert

CODE = "vanishing-gradients"
SPARSE_MODULES = frozenset({"Embedding", "EmbeddingBag"})
MIN_STACK = 3  # like layers needed before a shrinking gradient says "vanishing"


def layer_scales(ctx: Context) -> list[tuple[str, float]]:
    """``(weight, median per-element gradient)`` in model order, for weights with a gradient."""
    out = []
    for name in ctx.trained:
        info = ctx.param_info[name]
        if not is_weight(name, info.shape) or ctx.module_types.get(info.module) in SPARSE_MODULES:
            continue
        scale = median(ctx.series("grad_norm", name)[1]) / math.sqrt(max(info.numel, 1))
        if math.isfinite(scale) and scale > 0:
            out.append((name, scale))
    return out


def is_weight(name: str, shape: tuple[int, ...] | list[int]) -> bool:
    """A matrix or kernel: two or more dimensions, and not a bias in broadcast shape (one
    dimension longer than 1, under a name other than ``weight``)."""
    if len(shape) < 2:
        return False
    return sum(d > 1 for d in shape) >= 2 or name.rpartition(".")[2] == "weight"


def stack_of(name: str, ndim: int) -> tuple[str, int]:
    """The stack a weight belongs to: its name with every index (a numeric part, as
    ``nn.Sequential`` and ``nn.ModuleList`` name their children) replaced, and its rank."""
    return ".".join("#" if part.isdigit() else part for part in name.split(".")), ndim


def stacks(ctx: Context) -> list[list[tuple[str, float]]]:
    """``layer_scales`` grouped into stacks of like layers, in model order, ``MIN_STACK`` deep."""
    groups: dict[tuple[str, int], list[tuple[str, float]]] = {}
    for name, scale in layer_scales(ctx):
        key = stack_of(name, len(ctx.param_info[name].shape))
        groups.setdefault(key, []).append((name, scale))
    return [g for g in groups.values() if len(g) >= MIN_STACK]


def measure(ctx: Context) -> dict[str, Any]:
    """The smallest earlier/later ratio within a stack, and its pair (NaN: no stack)."""
    worst: dict[str, Any] = {"ratio": math.nan, "early": None, "late": None}
    for scales in stacks(ctx):
        for i, (early, a) in enumerate(scales):
            for late, b in scales[i + 1 :]:
                if math.isnan(worst["ratio"]) or a / b < worst["ratio"]:
                    worst = {"ratio": a / b, "early": early, "late": late, "scales": (a, b),
                             "depth": len(scales)}  # fmt: skip
    return worst


def check(ctx: Context) -> Iterator[Alert]:
    m = measure(ctx)
    if not (m["ratio"] < ctx.thresholds.vanish_ratio):
        return
    early, late = m["early"], m["late"]
    a, b = m["scales"]
    yield ctx.alert(
        CODE,
        "warning",
        early,
        None,
        f"The gradient of `{early}` is {fmt(m['ratio'])} times that of `{late}` per element "
        f"(median {fmt(a)} vs {fmt(b)}, in a stack of {m['depth']} like layers): it shrinks by "
        "orders of magnitude on the way back through the layers, so the early layers barely "
        "learn. Saturating activations "
        "(sigmoid, tanh) in a deep stack are the classic cause: use ReLU/GELU, add "
        "normalisation or residual connections, and a matching init, e.g. "
        "`nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')`.",
        ratio=m["ratio"],
        late=late,
    )
