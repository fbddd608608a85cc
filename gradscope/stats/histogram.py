"""Histograms of many tensors in one pass over strided samples, on the tensors' device.

Exact 32-bin histograms of every gradient every step cost 2–23 % of a step on 2 CPU threads, so
each tensor is looked at through a deterministic strided sample of at most ``max_samples``
elements (no random numbers are drawn: training's RNG stream is never touched). All tensors are
binned together: one ``cat``, a ``scatter_reduce`` for each end of the ranges and one
``bincount`` for the bins and the NaN/Inf counts alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

DEFAULT_BINS = 32
DEFAULT_MAX_SAMPLES = 65_536
SPECIAL_SLOTS = 4  # per tensor, after its bins: NaN, +Inf, -Inf, zero (log scale)


def strided_sample(t: torch.Tensor, max_samples: int | None) -> torch.Tensor:
    """A 1-D float32 view of ``t`` thinned to at most ``max_samples`` evenly spaced elements."""
    if t.is_sparse:
        t = t.coalesce().values()
    flat = t.detach().reshape(-1)
    if flat.is_complex():
        flat = flat.abs()
    if max_samples is not None and flat.numel() > max_samples:
        stride = math.ceil(flat.numel() / max_samples)
        flat = flat[::stride]
    return flat.float()


@torch.no_grad()
def histograms(
    tensors: Sequence[torch.Tensor],
    *,
    bins: int = DEFAULT_BINS,
    scale: str = "linear",
    max_samples: int | None = DEFAULT_MAX_SAMPLES,
) -> tuple[torch.Tensor, list[int]]:
    """Bin every tensor into ``bins`` bins over its own finite range.

    Returns a device tensor of shape ``(len(tensors), bins + 6)`` holding, per tensor, the bin
    counts then ``lo, hi, nan, posinf, neginf, zeros``, and the number of sampled elements per
    tensor. With ``scale="log"`` the bins are over log10|x| of non-zero finite values. All
    tensors must share one device.
    """
    if scale not in ("linear", "log"):
        raise ValueError(f"histogram scale must be 'linear' or 'log', got {scale!r}")
    samples = [strided_sample(t, max_samples) for t in tensors]
    lengths = [s.numel() for s in samples]
    n = len(samples)
    x = torch.cat(samples) if samples else torch.zeros(0)
    device = x.device
    seg = torch.repeat_interleave(
        torch.arange(n, device=device), torch.tensor(lengths, device=device)
    )
    finite = torch.isfinite(x)
    zero = x == 0
    if scale == "log":
        binned = finite & ~zero
        v = torch.log10(torch.where(binned, x.abs(), torch.ones_like(x)))
    else:
        binned = finite
        v = torch.where(finite, x, torch.zeros_like(x))
    inf = torch.full((n,), math.inf, dtype=x.dtype, device=device)  # not the default dtype
    lo = inf.scatter_reduce(0, seg, torch.where(binned, v, math.inf), "amin")
    hi = (-inf).scatter_reduce(0, seg, torch.where(binned, v, -math.inf), "amax")
    empty = ~torch.isfinite(lo)
    lo = torch.where(empty, torch.zeros_like(lo), lo)
    hi = torch.where(empty, torch.zeros_like(hi), hi)
    width = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    pos = (v - lo[seg]) / width[seg] * bins
    idx = torch.nan_to_num(pos, nan=0.0, posinf=bins - 1, neginf=0.0).clamp(0, bins - 1).long()
    # Values that are not binned get slots of their own past the bins (NaN, +Inf, -Inf, and
    # zero on the log scale), so one bincount counts everything.
    special = torch.where(torch.isnan(x), bins, torch.where(x > 0, bins + 1, bins + 2))
    if scale == "log":
        special = torch.where(zero, bins + 3, special)
    slots = bins + SPECIAL_SLOTS
    slot = torch.where(binned, idx, special)
    counts = torch.bincount(seg * slots + slot, minlength=n * slots).reshape(n, slots).double()
    if scale == "log":
        zeros = counts[:, bins + 3]
    else:  # zeros are binned on the linear scale
        nonzero = torch.stack([torch.count_nonzero(s) for s in samples]) if samples else seg[:0]
        zeros = (torch.tensor(lengths, device=device) - nonzero).double()
    extras = torch.stack(
        [
            lo.double(),
            hi.double(),
            counts[:, bins],
            counts[:, bins + 1],
            counts[:, bins + 2],
            zeros,
        ],
        dim=1,
    )
    return torch.cat([counts[:, :bins], extras], dim=1), lengths
