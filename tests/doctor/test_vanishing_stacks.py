"""``vanishing-gradients`` compares like layers of a stack, not different kinds of layer.

The runs here are records written straight into the rule's view of a store: the per-element
gradients are the ones measured on real models (a transformer encoder classifier at
initialisation, a deep sigmoid stack), without training them in the test.
"""

from __future__ import annotations

import math
from typing import Any

from gradscope.doctor import Thresholds
from gradscope.doctor.context import Context
from gradscope.doctor.rules import vanishing_gradients as rule
from gradscope.records import ParamInfo


class Records:
    """The part of a store the rule reads: parameters and their gradient norms."""

    def __init__(self, weights: dict[str, tuple[tuple[int, ...], float]]) -> None:
        """``weights``: name → (shape, per-element gradient ‖g‖/√numel at every step)."""
        self.meta: dict[str, Any] = {}
        self.modules: list[Any] = []
        self.optimizers: list[Any] = []
        self._norms = {n: scale * math.sqrt(math.prod(s)) for n, (s, scale) in weights.items()}
        self.param_info = {
            n: ParamInfo(n, s, "float32", "cpu", True, n.rsplit(".", 1)[0])
            for n, (s, _) in weights.items()
        }

    @property
    def params(self) -> list[str]:
        return list(self.param_info)

    def series(
        self, metric: str, param: str | None = None, *, module: str | None = None
    ) -> tuple[list[int], list[float]]:
        assert metric == "grad_norm" and param is not None
        return [0, 1, 2], [self._norms[param]] * 3

    def events(self, kind: str | None = None) -> list[Any]:
        return []


def alerts(weights: dict[str, tuple[tuple[int, ...], float]]) -> list[Any]:
    return list(rule.check(Context(Records(weights), Thresholds())))


def test_a_head_far_above_a_healthy_encoder_is_not_vanishing() -> None:
    # Per-element gradients of a 4-layer d256 encoder classifier (tests/bench/models.py) at
    # initialisation: the head's is 2.5e4 times the first feed-forward layer's.
    weights = {
        f"encoder.layers.{i}.{part}.weight": (shape, scale * (1.2**i))
        for i in range(4)
        for part, shape, scale in (
            ("self_attn.out_proj", (256, 256), 3e-4),
            ("linear1", (1024, 256), 2.8e-6),
            ("linear2", (256, 1024), 4e-5),
        )
    }
    weights["head.weight"] = ((10, 256), 0.07)
    assert Thresholds().vanish_ratio > 2.8e-6 / 0.07  # across kinds the ratio is "vanishing"
    assert alerts(weights) == []


def test_a_deep_sigmoid_stack_is_vanishing_at_its_first_layer() -> None:
    # nn.Sequential of Linear/Sigmoid pairs: the gradient shrinks about 4x per layer.
    weights = {f"{2 * i}.weight": ((32, 32), 4.0 ** (i - 10)) for i in range(10)}
    weights["20.weight"] = ((1, 32), 1e-1)
    (alert,) = alerts(weights)
    assert alert.where == "0.weight"
    assert alert.details["late"] == "18.weight" and "stack of 11 like layers" in alert.message


def test_two_like_layers_are_not_a_stack() -> None:
    weights = {"0.weight": ((32, 32), 1e-9), "1.weight": ((32, 32), 1e-1)}
    assert alerts(weights) == []


def test_weights_of_different_rank_are_different_stacks() -> None:
    weights = {f"blocks.{i}.conv.weight": ((8, 8, 3, 3), 1e-3) for i in range(3)}
    weights |= {f"blocks.{i}.conv.bias_proj": ((8, 8), 1e-9 if i == 0 else 1e-1) for i in range(3)}
    (alert,) = alerts(weights)
    assert alert.where == "blocks.0.conv.bias_proj"
