"""Data-parallel runs: which rank this is, and the cross-rank check behind ``ddp-desync``.

DistributedDataParallel keeps every rank's parameters identical by all-reducing gradients;
when something rank-local changes a parameter (an in-place edit on one rank, a forward that
bypassed the DDP wrapper, an optimizer step inside ``no_sync()``) the replicas drift apart
silently. :class:`DesyncCheck` notices: right after ``optimizer.step()`` on a few steps it
reduces three numbers per parameter (weight sum, weight norm, gradient norm, in float64)
across the ranks and records an ``Event`` for every parameter whose numbers disagree.

Collectives are only safe when every rank makes the same calls in the same order, so:

- whether a step is checked depends only on the step count (every rank counts its own
  ``optimizer.step()`` calls the same way) and on facts that are equal on every rank (the
  world size, the DDP-wrapped parameters);
- before the first collective the ranks meet through the process group's key-value store,
  with a timeout (:data:`HANDSHAKE_TIMEOUT`): if a rank never arrives (only rank 0 called
  ``gs.watch``), the check switches off without issuing a collective, so it can never pair
  with one of DDP's own all-reduces;
- a rank whose local computation fails still takes part in the next collective and says so,
  and then every rank switches the check off together.
"""

from __future__ import annotations

import math
import os
import sys
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer

from gradscope.capture.guard import Instrument
from gradscope.capture.handles import OPTIMIZER_STEP_POST, HookGroup
from gradscope.capture.naming import WatchedParam
from gradscope.capture.pending import by_device
from gradscope.errors import GradscopeError
from gradscope.options import WatchOptions
from gradscope.records import Event
from gradscope.store.ranks import env_world

try:
    import torch.distributed as dist
except ImportError:  # pragma: no cover - builds without distributed support
    dist = None  # type: ignore[assignment]

#: Seconds each rank waits for the others before the first cross-rank check.
HANDSHAKE_TIMEOUT = 30.0
#: Relative difference (of a parameter's own magnitude) above which ranks disagree. DDP makes
#: the replicas bit-identical, so any real drift is many orders of magnitude above this.
RTOL = 1e-6
#: At most this many parameters are reported per checked step (the worst first).
MAX_EVENTS_PER_CHECK = 10
#: Per-rank values are kept in the event for worlds up to this size.
MAX_RANKS_IN_DETAILS = 16
#: What is compared, per parameter, in this order.
QUANTITIES = ("weight_sum", "weight_norm", "grad_norm")

_NO_GRAD = -1.0  # grad_norm of a parameter whose .grad is None
_handshakes = 0  # handshakes begun in this process: the n-th scope meets the n-th on each rank


def world() -> tuple[int, int]:
    """``(rank, world_size)``: from torch.distributed once initialised, else the environment."""
    if _initialised():
        return dist.get_rank(), dist.get_world_size()
    return env_world()


def _initialised() -> bool:
    return dist is not None and dist.is_available() and dist.is_initialized()


def ddp_modules(models: Mapping[str, nn.Module]) -> list[nn.Module]:
    """Every ``DistributedDataParallel`` in the watched models (wrapping them or inside them)."""
    if dist is None or not dist.is_available():
        return []
    ddp = nn.parallel.DistributedDataParallel
    out: list[nn.Module] = []
    for model in models.values():
        out += [m for m in model.modules() if isinstance(m, ddp) and all(m is not o for o in out)]
    return out


def refuse_sharded(model: nn.Module) -> None:
    """Raise for FSDP models: each rank holds a shard, so per-parameter statistics would lie."""
    fsdp = sys.modules.get("torch.distributed.fsdp")  # a sharded model has imported it
    kinds = tuple(
        k for k in (getattr(fsdp, "FullyShardedDataParallel", None),
                    getattr(fsdp, "FSDPModule", None)) if isinstance(k, type)
    )  # fmt: skip
    if kinds and any(isinstance(m, kinds) for m in model.modules()):
        raise GradscopeError(
            "gradscope.watch does not support FSDP-sharded models (each rank holds only a shard "
            "of every parameter): watch the model under DistributedDataParallel, or unsharded "
            "in a single process"
        )


class DesyncCheck:
    """Compares the DDP-synchronised parameters across ranks after some optimizer steps.

    ``params`` gives the watched parameters (read at each checked step, so models added later
    count); ``emit`` receives the ``ddp_desync`` events. Attach it to the optimizer whose
    steps count; it keeps its own step count so a failure elsewhere in the scope cannot make
    the ranks' schedules differ.
    """

    def __init__(
        self,
        options: WatchOptions,
        *,
        models: Callable[[], Mapping[str, nn.Module]],
        params: Callable[[], Sequence[WatchedParam]],
        emit: Callable[[Event], None],
    ) -> None:
        self._options = options
        self._models = models
        self._params = params
        self._emit = emit
        self.instrument = Instrument("ddp", strict=options.strict)
        self._steps = 0
        self._met: bool | None = None  # handshake outcome once tried
        self._reported: set[str] = set()
        self._models_key: tuple[int, ...] = ()
        self._has_ddp = False

    def attach(self, optimizer: Optimizer, hooks: HookGroup) -> None:
        """Check after each step of ``optimizer`` (a process-wide hook: it carries nothing)."""
        target = weakref.ref(optimizer)

        def after_step(opt: Optimizer, args: Any, kwargs: Any) -> None:
            if opt is target():
                self._after_step(opt, args, kwargs)

        hooks.add(OPTIMIZER_STEP_POST.listen(after_step))

    def after_reduce(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` (called at the end of a backward pass) once DDP's gradients are final.

        DDP's reducer writes the all-reduced gradients into ``.grad`` in an autograd callback
        that it queues during backward, after gradscope's own end-of-backward callback; a
        callback queued now runs after it, so ``fn`` sees what the optimizer will see.
        """
        models = self._models()
        key = tuple(id(m) for m in models.values())
        if key != self._models_key:
            self._models_key, self._has_ddp = key, bool(ddp_modules(models))
        if self._has_ddp:
            torch.autograd.Variable._execution_engine.queue_callback(fn)
        else:
            fn()

    def is_due(self, step: int) -> bool:
        """Logged steps 0 and 1, then the cadence's detail steps: sparse, the same on each rank."""
        opts = self._options
        return step % opts.every == 0 and (step <= 1 or step % opts.detail_period == 0)

    def _after_step(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        step = self._steps
        self._steps += 1
        if not (self.instrument.enabled and self.is_due(step) and _initialised()):
            return
        if dist.get_world_size() < 2 or os.environ.get("GRADSCOPE_DDP_CHECK") == "0":
            return
        groups = self._groups()
        if groups:
            self.instrument.run(self._check, step, groups)

    def _groups(self) -> list[tuple[Any, list[WatchedParam]]]:
        """``(process group, watched parameters)`` per DDP process group, in model order."""
        watched = {id(wp.param): wp for wp in self._params()}
        out: list[tuple[Any, list[WatchedParam]]] = []
        for ddp in ddp_modules(self._models()):
            ignored = set(getattr(ddp, "parameters_to_ignore", ()) or ())
            wps = [
                watched[id(p)]
                for name, p in ddp.module.named_parameters()
                if name not in ignored and id(p) in watched
            ]
            group = getattr(ddp, "process_group", None)
            for g, existing in out:
                if g is group:
                    existing += [wp for wp in wps if all(wp is not e for e in existing)]
                    break
            else:
                if wps:
                    out.append((group, wps))
        return out

    # -- the check ------------------------------------------------------------------------------

    def _check(self, step: int, groups: list[tuple[Any, list[WatchedParam]]]) -> None:
        if self._met is None:
            self._met = self._handshake()
        if not self._met:
            return
        for group, wps in groups:
            if not self._check_group(step, group, wps):
                return

    def _handshake(self) -> bool:
        """Meet every rank through the store; ``False`` (and the check off) if one never comes.

        Two rounds: a rank that timed out in the first never posts its second key, so every
        rank then times out in the second and none of them issues a collective.
        """
        global _handshakes
        n, _handshakes = _handshakes, _handshakes + 1
        get_store = getattr(dist.distributed_c10d, "_get_default_store", None)
        if get_store is None:
            self._off("this torch has no process-group store to meet the other ranks through")
            return False
        store = get_store()
        rank, size = dist.get_rank(), dist.get_world_size()
        restart = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
        prefix = f"gradscope/ddp-check/{restart}/{n}"
        timeout = timedelta(seconds=HANDSHAKE_TIMEOUT)
        for phase in ("ready", "go"):
            store.set(f"{prefix}/{phase}/{rank}", "1")
            try:
                store.wait([f"{prefix}/{phase}/{r}" for r in range(size)], timeout)
            except RuntimeError:
                self._off(
                    f"not every rank reached it within {HANDSHAKE_TIMEOUT:g} s; call gs.watch "
                    "on every rank (gradscope run does) to compare them"
                )
                return False
        return True

    def _off(self, why: str) -> None:
        self.instrument.report(GradscopeError(f"the cross-rank ddp-desync check is off: {why}"))

    def _check_group(self, step: int, group: Any, wps: list[WatchedParam]) -> bool:
        device = _comm_device(group, wps)
        try:
            local = local_numbers([wp.param for wp in wps]).to(device)
            error: Exception | None = None
        except Exception as exc:  # reported after the collective, so no rank is left waiting
            local = torch.zeros(3 * len(wps), dtype=torch.float64, device=device)
            error = exc
        numel = float(sum(wp.param.numel() for wp in wps))
        header = torch.tensor(
            [float(error is not None), len(wps), -len(wps), numel, -numel],
            dtype=torch.float64,
            device=device,
        )
        dist.all_reduce(header, op=dist.ReduceOp.MAX, group=group)
        failed, n_hi, n_lo, numel_hi, numel_lo = header.tolist()
        if error is not None:
            self.instrument.fail(error)
            return False
        if failed:
            self._off("it failed on another rank")
            return False
        if n_hi != -n_lo or numel_hi != -numel_lo:
            self._off("the ranks watch different parameters")
            return False
        both = torch.cat([local, -local])
        dist.all_reduce(both, op=dist.ReduceOp.MAX, group=group)
        hi, lo = both[: local.numel()], -both[local.numel() :]
        sizes = torch.tensor([wp.param.numel() for wp in wps], dtype=torch.float64, device=device)
        flagged = disagree(hi.view(-1, 3), lo.view(-1, 3), sizes)
        if not bool(flagged.any()):  # the same answer on every rank: it comes from the reduction
            return True
        gathered = [torch.empty_like(local) for _ in range(dist.get_world_size(group))]
        dist.all_gather(gathered, local, group=group)
        ranks = dist.get_process_group_ranks(group) if group is not None else None
        chosen = [wp for wp, bad in zip(wps, flagged.tolist(), strict=True) if bad]
        self._report(step, wps, chosen, torch.stack(gathered).cpu(), ranks)
        return True

    def _report(
        self,
        step: int,
        wps: list[WatchedParam],
        flagged: list[WatchedParam],
        values: torch.Tensor,
        ranks: list[int] | None,
    ) -> None:
        """One event per parameter that differs (worst first), once per parameter per run."""
        world_size = values.shape[0]
        ranks = ranks or list(range(world_size))
        table = values.view(world_size, len(wps), 3).double().tolist()
        found = []
        chosen = {id(wp) for wp in flagged}
        for i, wp in enumerate(wps):
            if wp.name in self._reported or id(wp) not in chosen:
                continue
            per_rank = [table[r][i] for r in range(world_size)]
            verdict = compare_ranks(per_rank, wp.param.numel())
            if verdict is not None:
                found.append((verdict["rel_diff"], wp, verdict, per_rank))
        found.sort(key=lambda f: -f[0])
        for _, wp, verdict, per_rank in found[:MAX_EVENTS_PER_CHECK]:
            self._reported.add(wp.name)
            details: dict[str, Any] = {
                "ranks": [ranks[r] for r in verdict["ranks"]],
                "reference_rank": ranks[verdict["reference"]],
                "world_size": world_size,
                "quantities": verdict["quantities"],
                "max_abs_diff": verdict["max_abs_diff"],
                "rel_diff": verdict["rel_diff"],
                "n_params": len(found),
            }
            if world_size <= MAX_RANKS_IN_DETAILS:
                details["values"] = {
                    q: [row[k] for row in per_rank] for k, q in enumerate(QUANTITIES)
                }
            self._emit(Event(step, "ddp_desync", wp.name, details))


# -- numbers (pure functions of tensors, so they are easy to test) --------------------------------


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
    """:func:`disagree` for two ranks' ``QUANTITIES`` of one parameter, in plain floats."""
    norm, gnorm = max(abs(a[1]), abs(b[1])), max(abs(a[2]), abs(b[2]))
    scales = (math.sqrt(numel) * norm, norm, gnorm)
    return any(abs(x - y) > RTOL * s for x, y, s in zip(a, b, scales, strict=True))


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


def _comm_device(group: Any, wps: list[WatchedParam]) -> torch.device:
    """Where the collectives' tensors must live: the CPU for gloo/MPI, else the parameters'
    accelerator (NCCL takes CUDA tensors only)."""
    backend = str(dist.get_backend(group)).lower()
    if "gloo" in backend or "mpi" in backend:
        return torch.device("cpu")
    for wp in wps:
        if wp.param.device.type != "cpu":
            device = wp.param.device
            if device.type == "cuda" and device.index is None:
                return torch.device("cuda", torch.cuda.current_device())
            return device
    return torch.device("cpu")
