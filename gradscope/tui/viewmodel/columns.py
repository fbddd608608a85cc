"""The values behind each row of the module/parameter table, computed once per refresh.

Separate from the widget so the table draws from plain tuples: a row whose tuple did not change
is not redrawn, and tests can check the numbers without a terminal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gradscope.tui.viewmodel import health
from gradscope.tui.viewmodel.data import StoreData
from gradscope.tui.viewmodel.rows import TreeModel, TreeRow, module_totals


@dataclass(frozen=True)
class RowValues:
    """What one row shows; equal values mean an identical line on screen."""

    row: TreeRow
    grad_norm: float | None
    update_ratio: float | None
    weight_norm: float | None
    health: str
    trend: tuple[float, ...]


def row_values(tree: TreeModel, data: StoreData) -> dict[str, dict[str, object]]:
    """``{row key: {metric: value, "health": …, "trend": …}}`` for every module and parameter.

    Parameters show their last row; modules the totals of the parameters under them, the worst
    health among those, and the L2 norm of their gradient-norm trends. A module without
    parameters (an activation) has no trend, and a health only when its outputs were not finite.
    """
    values: dict[str, dict[str, object]] = {}
    squares: dict[str, dict[int, float]] = {}
    for name in data.params:
        points = data.spark_points(name)
        squares[name] = {s: v * v for s, v in points.items()}
        values[f"p:{name}"] = {
            **(data.latest.get(name) or {}),
            "health": data.health(name),
            "trend": tuple(points.values()),
        }
    for path, totals in module_totals(tree, data.latest).items():
        under = tree.params_under(path)
        summed: dict[int, float] = {}
        for name in under:
            for step, square in squares.get(name, {}).items():
                summed[step] = summed.get(step, 0.0) + square
        worst = health.worst(str(values[f"p:{p}"]["health"]) for p in under)
        if not under:
            worst = health.activation_health(data.activations.get(path))
        values[f"m:{path}"] = {
            **totals,
            "health": worst,
            "trend": tuple(math.sqrt(summed[s]) for s in sorted(summed)),
        }
    return values


def visible_rows(tree: TreeModel, data: StoreData, search: str = "") -> list[RowValues]:
    """The rows the table shows now (folds, sort and search applied), with their values."""
    values = row_values(tree, data)
    out = []
    for row in tree.rows(values, search):
        v = values.get(row.key, {})
        out.append(
            RowValues(
                row=row,
                grad_norm=_float(v.get("grad_norm")),
                update_ratio=_float(v.get("update_ratio")),
                weight_norm=_float(v.get("weight_norm")),
                health=str(v.get("health", "")),
                trend=tuple(v.get("trend", ())),  # type: ignore[arg-type]
            )
        )
    return out


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None
