"""The run summary as plain data: what ``gradscope report`` prints and ``--json`` emits."""

from __future__ import annotations

import math
from typing import Any

from gradscope.doctor.runner import findings
from gradscope.store.reader import Run

#: Points kept per trend (series are downsampled by averaging buckets).
TREND_POINTS = 16


def downsample(values: list[float], points: int = TREND_POINTS) -> list[float]:
    """Bucket means of ``values`` (non-finite values dropped), at most ``points`` of them."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) <= points:
        return finite
    size = len(finite) / points
    return [
        sum(chunk) / len(chunk)
        for i in range(points)
        if (chunk := finite[int(i * size) : int((i + 1) * size)])
    ]


def run_summary(run: Run) -> dict[str, Any]:
    """Model, parameters (latest values and grad-norm trend), optimizer groups, loss and alerts.

    A distributed run opened by its logical path (``run.all_ranks``) also gets ``ranks``: each
    rank's steps, loss and latest gradient norms (the rest is the opened rank's; the alerts are
    every rank's, merged).
    """
    meta = run.meta
    steps, losses = run.series("loss")
    info = run.param_info
    params = []
    for name in run.params:
        latest = run.latest(name)
        _, grad_norms = run.series("grad_norm", name)
        p = info[name]
        params.append(
            {
                "name": name,
                "aliases": list(p.aliases),
                "shape": list(p.shape),
                "requires_grad": p.requires_grad,
                "grad_norm": latest.get("grad_norm"),
                "update_ratio": latest.get("update_ratio"),
                "weight_norm": latest.get("weight_norm"),
                "grad_nan": latest.get("grad_nan"),
                "grad_inf": latest.get("grad_inf"),
                "trend": downsample(grad_norms),
            }
        )
    optimizers = []
    for opt in run.optimizers:
        groups = [{"group": g.group, "lr": g.lr, **g.hparams} for g in run.groups(opt.index)] or [
            {"group": g.index, "lr": g.hparams.get("lr"), **g.hparams} for g in opt.groups
        ]
        sizes = {g.index: len(g.params) for g in opt.groups}
        for g in groups:
            g["n_params"] = sizes.get(g["group"], 0)
        optimizers.append({"index": opt.index, "type": opt.type, "groups": groups})
    finite_losses = [v for v in losses if math.isfinite(v)]
    distributed: dict[str, Any] = {"rank": run.rank, "world_size": run.world_size}
    if run.all_ranks:
        distributed["ranks"] = [_rank_summary(run, r) for r in run.ranks]
    return {
        **distributed,
        "store": str(run.path),
        "model": meta.get("model"),
        "n_params": meta.get("n_params"),
        "n_trainable": meta.get("n_trainable"),
        "devices": meta.get("devices"),
        "torch_version": meta.get("torch_version"),
        "steps": (run.last_step or 0) + 1 if run.last_step is not None else 0,
        "finished": "finished" in meta,
        "loss": {
            "first": losses[0] if losses else None,
            "last": losses[-1] if losses else None,
            "min": min(finite_losses) if finite_losses else None,
            "nonfinite_steps": [
                s for s, v in zip(steps, losses, strict=True) if not math.isfinite(v)
            ][:20],
            "trend": downsample(losses),
        },
        "optimizers": optimizers,
        "params": params,
        "alerts": [
            {
                "code": a.code,
                "severity": a.severity,
                "where": a.where,
                "step": a.step,
                "message": a.message,
                "details": a.details,
            }
            for a in findings(run)
        ],
    }


def _rank_summary(run: Run, rank: int) -> dict[str, Any]:
    """What a reader compares across ranks: steps, loss and the latest gradient norms."""
    other = run if rank == run.rank else run.rank_run(rank)
    try:
        _, losses = other.series("loss")
        finite = [v for v in losses if math.isfinite(v)]
        norms = {name: row["grad_norm"] for name, row in other.latest_rows(("grad_norm",)).items()}
        squares = [v * v for v in norms.values() if v is not None and math.isfinite(v)]
        last = other.last_step
        return {
            "rank": rank,
            "store": str(other.path),
            "steps": last + 1 if last is not None else 0,
            "finished": "finished" in other.meta,
            "loss": {
                "first": losses[0] if losses else None,
                "last": losses[-1] if losses else None,
                "min": min(finite) if finite else None,
            },
            "grad_norm_total": math.sqrt(sum(squares)) if squares else None,
            "grad_norm": norms,
        }
    finally:
        if other is not run:
            other.close()
