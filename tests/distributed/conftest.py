"""One launch of each torchrun script per session: the runs are slow, the checks are not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch.distributed as dist
from ddp_helpers import SCRIPTS, torchrun

# The CPU build of torch always has gloo; without it these tests must fail, not vanish.
assert dist.is_available() and dist.is_gloo_available(), "torch.distributed with gloo is missing"


@pytest.fixture(scope="session")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of one launch of ``ddp_watch.py`` (every gs.watch scenario, both ranks)."""
    out = tmp_path_factory.mktemp("ddp_watch")
    result = torchrun(str(SCRIPTS / "ddp_watch.py"), str(out))
    assert result.returncode == 0, result.stderr[-4000:]
    # two processes share the pipe, so their lines may interleave: count, do not split
    assert sorted(re.findall(r"rank \d done", result.stdout)) == ["rank 0 done", "rank 1 done"]
    return out
