"""Data-parallel runs: the cross-rank check behind ``ddp-desync``.

The numbers and the rule that compares them are in :mod:`gradscope.capture.rank_compare`; the
rank and world size in :mod:`gradscope.capture.world`.

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

import os
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
from gradscope.capture.rank_compare import QUANTITIES, compare_ranks, disagree, local_numbers
from gradscope.capture.world import ddp_modules, initialised
from gradscope.errors import GradscopeError
from gradscope.options import WatchOptions
from gradscope.records import Event

try:
    import torch.distributed as dist
except ImportError:  # pragma: no cover - builds without distributed support
    dist = None  # type: ignore[assignment]

#: Seconds each rank waits for the others before the first cross-rank check.
HANDSHAKE_TIMEOUT = 30.0
#: At most this many parameters are reported per checked step (the worst first).
MAX_EVENTS_PER_CHECK = 10
#: Per-rank values are kept in the event for worlds up to this size.
MAX_RANKS_IN_DETAILS = 16

_handshakes = 0  # handshakes begun in this process: the n-th scope meets the n-th on each rank


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
        if not (self.instrument.enabled and self.is_due(step) and initialised()):
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
