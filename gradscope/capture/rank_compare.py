"""Comparing one parameter across ranks: the numbers each rank contributes, and one rule for
when they disagree. Pure functions of tensors, so they are easy to test.

Per parameter a rank contributes ``QUANTITIES`` in float64. DDP keeps replicas bit-identical,
so any real drift is many orders of magnitude above :data:`RTOL` of the quantity's magnitude.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from gradscope.capture.pending import by_device

#: Relative difference (of a parameter's own magnitude) above which ranks disagree. DDP makes
#: the replicas bit-identical, so any real drift is many orders of magnitude above this.
RTOL = 1e-6
#: What is compared, per parameter, in this order.
QUANTITIES = ("weight_sum", "weight_norm", "grad_norm")

_NO_GRAD = -1.0  # grad_norm of a parameter whose .grad is None


@torch.no_grad()
def local_numbers(params: Sequence[torch.Tensor]) -> torch.Tensor:
    """``[weight sum, weight norm, grad norm]`` per parameter, float64, flat, on the CPU or on
    the parameters' device when they all share one.

    Non-finite values become large finite sentinels so that reductions compare them too; a
    missing gradient is ``-1``.
    """
    rows = [_row(p) for p in params]
    if not rows:
        return torch.zeros(0, dtype=torch.float64)
    groups = by_device(rows)
    if len(groups) == 1:
        out = torch.stack(rows)
    else:
        parts = [torch.stack([rows[i] for i in idx]).cpu() for idx in groups]
        out = torch.empty(len(rows), 3, dtype=torch.float64)
        for idx, part in zip(groups, parts, strict=True):
            out[idx] = part
    return torch.nan_to_num(out, nan=1e300, posinf=1e301, neginf=-1e301).reshape(-1)


def _row(p: torch.Tensor) -> torch.Tensor:
    w = _real(p.detach())
    g = p.grad
    if g is None:
        gnorm = torch.tensor(_NO_GRAD, dtype=torch.float64, device=w.device)
    else:
        g = g.coalesce().values() if g.is_sparse else g
        gnorm = torch.linalg.vector_norm(_real(g.detach()), dtype=torch.float64)
    wsum = w.sum(dtype=torch.float64)
    wnorm = torch.linalg.vector_norm(w, dtype=torch.float64)
    return torch.stack([wsum, wnorm, gnorm.to(w.device)])


def _real(t: torch.Tensor) -> torch.Tensor:
    return torch.view_as_real(t) if t.is_complex() else t


def _scale(a: torch.Tensor, b: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
    """The magnitude each difference is judged against, per parameter and quantity.

    A sum can be near zero while its terms are not, so the weight sum is measured against
    ``sqrt(numel) * ‖w‖`` (the largest the sum can be); norms against themselves.
    """
    norms = torch.maximum(a.abs(), b.abs())
    return torch.stack([sizes.sqrt() * norms[:, 1], norms[:, 1], norms[:, 2]], dim=1)


def disagree(hi: torch.Tensor, lo: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
    """Per parameter: whether the largest and smallest value of any quantity differ."""
    return ((hi - lo) > RTOL * _scale(hi, lo, sizes)).any(dim=1)


def values_disagree(a: Sequence[float], b: Sequence[float], numel: int) -> bool:
    """:func:`disagree` for two ranks' ``QUANTITIES`` of one parameter (the same rule)."""
    pair = torch.tensor([list(a), list(b)], dtype=torch.float64)
    hi, lo = pair.max(dim=0).values.view(1, 3), pair.min(dim=0).values.view(1, 3)
    return bool(disagree(hi, lo, torch.tensor([float(numel)], dtype=torch.float64))[0])


def compare_ranks(per_rank: list[list[float]], numel: int) -> dict[str, Any] | None:
    """Which ranks disagree about one parameter, against the largest group that agrees.

    ``per_rank[r]`` is rank ``r``'s ``QUANTITIES``. Ties go to the group with the lowest rank
    (rank 0 is where DDP broadcast the parameters from), so with two ranks the other is named.
    """
    n = len(per_rank)
    if n > 64:  # O(n²) comparisons: against rank 0 only
        reference = 0
    else:
        counts = [
            sum(not values_disagree(per_rank[r], per_rank[s], numel) for s in range(n))
            for r in range(n)
        ]
        reference = max(range(n), key=lambda r: (counts[r], -r))
    ref = per_rank[reference]
    differ = [r for r in range(n) if values_disagree(ref, per_rank[r], numel)]
    if not differ:
        return None
    quantities, max_abs, rel = [], {}, 0.0
    for k, q in enumerate(QUANTITIES):
        diff = max(abs(per_rank[r][k] - ref[k]) for r in differ)
        if diff > 0:
            quantities.append(q)
            max_abs[q] = diff
            scale = math.sqrt(numel) * abs(ref[1]) if k == 0 else abs(ref[k])
            rel = max(rel, diff / scale if scale > 0 else math.inf)
    return {
        "ranks": differ,
        "reference": reference,
        "quantities": quantities,
        "max_abs_diff": max_abs,
        "rel_diff": min(rel, 1e300),
    }
