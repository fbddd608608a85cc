"""Stores for the dashboard's tests: a fixed synthetic run and a run recorded by real capture.

The fixed store has exact, known numbers, so snapshots are the same on every machine; the
recorded one proves the dashboard reads what ``gs.watch`` really writes.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
from tui_fixtures import FIXED_STEPS, add_graph, builder, golden_graph_snapshot, train


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


@pytest.fixture(scope="session")
def graph_capture() -> tuple[dict[str, Any], dict[str, float]]:
    """A graph snapshot captured from a real model, and its parameters' gradient norms."""
    return golden_graph_snapshot()


@pytest.fixture(scope="session")
def graph_store(
    tmp_path_factory: pytest.TempPathFactory, graph_capture: tuple[dict[str, Any], dict]
) -> Path:
    """The fixed store plus the graph snapshot of the same model layout (meta key ``graph``).
    Tests that write next to the store (exports) copy it first."""
    path = tmp_path_factory.mktemp("graph") / "run.gsdb"
    builder.write_store(
        path, layers=2, steps=FIXED_STEPS, sparse_every=10, extras=True, alerts=True
    )
    return add_graph(path, graph_capture[0])


@pytest.fixture(scope="session")
def nonfinite_store(
    tmp_path_factory: pytest.TempPathFactory, graph_capture: tuple[dict[str, Any], dict]
) -> Path:
    """The fixed store with NaN, +Inf, -Inf and missing values in every series (loss, lr,
    every parameter metric, optimizer state, activations, histograms), a fourth alert, and the
    graph snapshot with non-finite gradient norms on three nodes."""
    path = tmp_path_factory.mktemp("nonfinite") / "run.gsdb"
    builder.write_store(
        path,
        layers=2,
        steps=FIXED_STEPS,
        sparse_every=10,
        extras=True,
        alerts=True,
        nonfinite=True,
    )
    graph = copy.deepcopy(graph_capture[0])
    norms = graph["heat"]["norms"]
    for node, value in zip(sorted(norms)[:3], (math.nan, math.inf, -math.inf), strict=True):
        norms[node] = value
    return add_graph(path, graph)
