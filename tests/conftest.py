"""Shared fixtures: two intra-op threads (the machine has two cores) and a store path per test."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture
def tmp_store(tmp_path: Path) -> Path:
    """A fresh ``*.gsdb`` path in the test's temporary folder (the file does not exist yet)."""
    return tmp_path / "run.gsdb"
