"""``ddp-desync``: a parameter (or its all-reduced gradient) differs across data-parallel ranks.

DistributedDataParallel keeps the replicas identical only by all-reducing gradients, so
parameters must agree bit for bit after every optimizer step. Capture compares a weight sum,
a weight norm and a gradient norm per parameter across the ranks on a few steps
(:mod:`gradscope.capture.ddp`) and writes a ``ddp_desync`` event naming the parameter, the
ranks that differ and by how much; this rule turns each into an error.
"""

from __future__ import annotations

from collections.abc import Iterator

from gradscope.doctor.context import Context, fmt
from gradscope.records import Alert

CODE = "ddp-desync"

_LABELS = {"weight_sum": "weight sum", "weight_norm": "weight norm", "grad_norm": "gradient norm"}


def check(ctx: Context) -> Iterator[Alert]:
    for event in ctx.events("ddp_desync"):
        d = event.details
        ranks = [int(r) for r in d.get("ranks", [])]
        reference = int(d.get("reference_rank", 0))
        quantities = [q for q in d.get("quantities", []) if q in _LABELS]
        diffs = d.get("max_abs_diff", {})
        off = ", ".join(f"{_LABELS[q]} off by {fmt(float(diffs.get(q, 0.0)))}" for q in quantities)
        who = _ranks_text(ranks)
        only_grads = quantities == ["grad_norm"]
        cause = (
            "Gradients are supposed to be equal after DDP's all-reduce, so this backward did not "
            "go through the DDP wrapper's reducer: a forward through `model.module(x)` instead "
            "of `model(x)`, or an `optimizer.step()` after backward passes that all ran inside "
            "`model.no_sync()`."
            if only_grads
            else "Something changed it on some ranks only: an in-place edit or `.data` write "
            "under an `if rank == ...`, an `optimizer.step()` inside `model.no_sync()`, a "
            "forward through `model.module(x)` that bypassed the all-reduce, random "
            "initialisation or loading after wrapping in DDP, or optimizer settings that differ "
            "per rank."
        )
        yield ctx.event_alert(
            CODE,
            "error",
            event,
            f"At step {event.step} `{event.where}` differs across data-parallel ranks: {who} "
            f"disagree{'s' if len(ranks) == 1 else ''} with rank {reference} ({off}). DDP keeps "
            "replicas identical only by averaging gradients, so from here on each rank trains a "
            f"different model and the averaged gradients mix mismatched replicas. {cause} Make "
            "every change to parameters on all ranks (or before `DDP(model)`), step outside "
            "`no_sync()`, call `model(x)`, keep buffers synchronised (`broadcast_buffers=True`, "
            "`SyncBatchNorm`) and pass `find_unused_parameters=True` if some ranks skip a "
            "parameter.",
            ranks=ranks,
            reference_rank=reference,
            quantities=quantities,
            max_abs_diff={q: float(diffs[q]) for q in quantities if q in diffs},
            world_size=d.get("world_size"),
        )


def _ranks_text(ranks: list[int]) -> str:
    if not ranks:
        return "some ranks"
    if len(ranks) == 1:
        return f"rank {ranks[0]}"
    return "ranks " + ", ".join(map(str, ranks))
