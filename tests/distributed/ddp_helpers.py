"""Launching real DDP runs: ``torchrun --nproc_per_node=2`` on CPU with gloo, on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).parent.parent / "fixtures" / "distributed"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m torch.distributed.run --nproc_per_node=2 ARGS`` on a free local port."""
    return subprocess.run(
        [
            sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
            "--master_addr=127.0.0.1", f"--master_port={free_port()}", *args,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "CI": "true", "OMP_NUM_THREADS": "1"},
        stdin=subprocess.DEVNULL,
        timeout=900,
        check=False,
    )  # fmt: skip


def expected(folder: Path, scenario: str, rank: int) -> dict[str, Any]:
    """What the script wrote down for ``scenario`` on ``rank`` (``<scenario>.rank<R>.json``)."""
    return json.loads((folder / f"{scenario}.rank{rank}.json").read_text())
