"""Which process of a distributed run this is, and which models it cannot watch.

The rank and world size come from ``torch.distributed`` once it is initialised, else from the
launcher's environment (``RANK``, ``WORLD_SIZE``), so a store path can be chosen before the
process group exists.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from torch import nn

from gradscope.errors import GradscopeError
from gradscope.store.ranks import env_world

try:
    import torch.distributed as dist
except ImportError:  # pragma: no cover - builds without distributed support
    dist = None  # type: ignore[assignment]


def world() -> tuple[int, int]:
    """``(rank, world_size)``: from torch.distributed once initialised, else the environment."""
    if initialised():
        return dist.get_rank(), dist.get_world_size()
    return env_world()


def initialised() -> bool:
    return dist is not None and dist.is_available() and dist.is_initialized()


def ddp_modules(models: Mapping[str, nn.Module]) -> list[nn.parallel.DistributedDataParallel]:
    """Every ``DistributedDataParallel`` in the watched models (wrapping them or inside them)."""
    if dist is None or not dist.is_available():
        return []
    ddp = nn.parallel.DistributedDataParallel
    out: list[nn.parallel.DistributedDataParallel] = []
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
