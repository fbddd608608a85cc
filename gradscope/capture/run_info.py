"""What names and describes a run: its default store path and the meta written at start."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer

from gradscope.capture.naming import unwrap
from gradscope.capture.world import world
from gradscope.options import WatchOptions
from gradscope.store.ranks import shared_default, timestamped_default


def default_store_path(model: nn.Module, folder: str = "runs", *, shared: bool = False) -> Path:
    """``runs/<model class>-<YYYYmmdd-HHMMSS>.gsdb``, made unique if taken.

    ``shared``: one of several ranks; every rank must derive the same name without asking the
    others, so the launcher's start time names it (see :func:`shared_default`).
    """
    prefix = type(unwrap(model)).__name__.lower()
    return shared_default(folder, prefix) if shared else timestamped_default(folder, prefix)


def run_info(
    model: nn.Module | None, optimizers: list[Optimizer], options: WatchOptions
) -> dict[str, Any]:
    """The meta a run starts with: versions, command line, model and optimizer classes."""
    inner = unwrap(model) if model is not None else None
    rank, world_size = world()
    return {
        "gradscope_version": _version(),
        "torch_version": torch.__version__,
        "python": sys.version.split()[0],
        "command_line": list(sys.argv),
        "started": time.time(),
        "model": type(inner).__name__ if inner is not None else None,
        "wrapper": type(model).__name__ if model is not inner else None,
        "optimizers": [type(o).__name__ for o in optimizers],
        "options": asdict(options),
        "rank": rank,
        "world_size": world_size,
        # The loss series holds what the script computed, before a GradScaler multiplied it.
        "loss_unscaled": True,
    }


def _version() -> str:
    from gradscope import __version__

    return __version__
