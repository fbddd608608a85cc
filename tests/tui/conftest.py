"""Stores for the dashboard's tests: a fixed synthetic run and a run recorded by real capture.

The fixed store has exact, known numbers, so snapshots are the same on every machine; the
recorded one proves the dashboard reads what ``gs.watch`` really writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_fixtures import FIXED_STEPS, builder, train


@pytest.fixture(scope="session")
def fixed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 steps of a 12-parameter model with one vanishing, one exploding, one NaN, one frozen
    and two never-graded parameters, two AdamW groups under StepLR, and three alerts."""
    path = tmp_path_factory.mktemp("fixed") / "run.gsdb"
    return builder.write_store(
        path, layers=2, steps=FIXED_STEPS, sparse_every=10, extras=True, alerts=True
    )


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 steps recorded by the real capture code."""
    path = tmp_path_factory.mktemp("trained") / "run.gsdb"
    train(path, 30)
    return path
