"""Rendering: golden DOT text, one real image per format, the no-``dot`` path, Jupyter, rich.

Golden files live in tests/graph/golden/; regenerate them after an intended change with
``GRADSCOPE_UPDATE_GOLDEN=1 python -m pytest tests/graph/test_graph_render.py`` and review the
diff.
"""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from rich.console import Console
from torch import nn
from tutorial_functions import Exp

import gradscope as gs
import gradscope.graph as gg
from gradscope.errors import GradscopeError
from gradscope.graph import Graph

GOLDEN = Path(__file__).parent / "golden"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


class TinyMLP(nn.Module):
    """Weights set by hand so gradients (and the heat map) are exact numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)
        self.spare = nn.Linear(2, 2)  # never called: a graph break
        for i, p in enumerate(self.parameters()):
            nn.init.constant_(p, 0.5 / (i + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def seed_norm() -> Graph:
    x = torch.ones(3, requires_grad=True)
    return gg.capture_graph((4 * x).norm(), names={"x": x})


def least_squares_saved() -> Graph:
    X = torch.arange(6.0).reshape(2, 3)
    y = torch.ones(2)
    w = torch.ones(3, requires_grad=True)
    loss = (X.mv(w) - y).pow(2).sum()
    return gg.capture_graph(loss, names={"w": w}, saved=True, attrs=True)


def mlp_heat() -> Graph:
    model = TinyMLP()
    x = torch.ones(2, 3)
    graph = gg.capture_graph(lambda: model(x).sum(), model=model, grads=True)
    return graph


def custom_exp() -> Graph:
    x = torch.zeros(2, requires_grad=True)
    return gg.capture_graph(Exp.apply(x).sum(), names={"x": x})


CASES = {"seed_norm": seed_norm, "least_squares_saved": least_squares_saved,
         "mlp_heat": mlp_heat, "custom_exp": custom_exp}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_dot_matches_golden(name: str) -> None:
    text = CASES[name]().to_dot()
    path = GOLDEN / f"{name}.gv"
    if os.environ.get("GRADSCOPE_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_dot_is_deterministic_across_captures() -> None:
    assert mlp_heat().to_dot() == mlp_heat().to_dot()


def test_mlp_golden_has_clusters_heat_breaks_and_legend() -> None:
    text = mlp_heat().to_dot()
    assert 'label="fc1: Linear"' in text and "\tlegend [shape=plaintext" in text
    assert 'label="spare.weight\\nnever-ran: spare"' in text
    assert "|g|=1.00e+00" in text  # d(sum)/d(sum)


@needs_dot
@pytest.mark.parametrize("fmt,magic", [("svg", b"<svg"), ("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_render_each_format(tmp_path: Path, fmt: str, magic: bytes) -> None:
    out = mlp_heat().render(tmp_path / f"graph.{fmt}")
    data = out.read_bytes()
    assert out.suffix == f".{fmt}" and len(data) > 500
    assert magic in data[:400]


def test_render_dot_text_needs_no_graphviz(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    graph = seed_norm()
    out = graph.render(tmp_path / "graph.gv")
    assert out.read_text() == graph.to_dot()


def test_without_dot_render_explains_how_to_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None
    graph = seed_norm()
    with pytest.raises(GradscopeError, match=r"apt-get install graphviz.*brew install graphviz"):
        graph.render(tmp_path / "graph.svg")
    assert not (tmp_path / "graph.svg").exists()
    assert graph.to_dot().startswith("digraph gradscope {")
    bundle = graph._repr_mimebundle_()
    assert "image/svg+xml" not in bundle and bundle["text/vnd.graphviz"] == graph.to_dot()
    assert graph._repr_svg_() is None


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GradscopeError, match="cannot render a graph as 'jpg'"):
        seed_norm().render(tmp_path / "graph.jpg")


@needs_dot
def test_jupyter_gets_svg() -> None:
    bundle = seed_norm()._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert bundle["text/plain"] == "Graph(5 nodes, 4 edges)"


def test_rich_tree_text() -> None:
    console = Console(width=80, record=True, color_system=None, file=io.StringIO())
    console.print(mlp_heat())
    assert console.export_text() == (GOLDEN / "mlp_heat.txt").read_text(encoding="utf-8")


def test_json_round_trip() -> None:
    graph = mlp_heat()
    data = json.loads(json.dumps(graph.to_dict()))
    again = Graph.from_dict(data)
    assert again.to_dot() == graph.to_dot()
    collapsed = graph.collapse(1)
    assert (
        Graph.from_dict(json.loads(json.dumps(collapsed.to_dict()))).to_dot() == collapsed.to_dot()
    )


@pytest.mark.parametrize(
    "clone",
    [copy.copy, copy.deepcopy, lambda g: pickle.loads(pickle.dumps(g))],
    ids=["copy", "deepcopy", "pickle"],
)
def test_a_copied_graph_keeps_its_drawings(clone: Callable[[Graph], Graph]) -> None:
    """A graph fresh from capture (records not built yet) and a collapsed one (with its full
    graph) come back as drawable graphs with the same DOT text."""
    model, x = TinyMLP(), torch.ones(2, 3)
    fresh = gg.capture_graph(lambda: model(x).sum(), model=model, grads=True, depth=None)
    assert fresh._build is not None  # records not built yet
    reference = mlp_heat().to_dot()
    again = clone(fresh)
    assert type(again) is Graph and again.to_dot() == reference
    collapsed = mlp_heat().collapse(1)
    again = clone(collapsed)
    assert type(again) is Graph and type(again.full) is Graph
    assert again.to_dot() == collapsed.to_dot() and again.full.to_dot() == reference


def test_graph_data_becomes_drawable() -> None:
    """The data a store or the dashboard holds (``GraphData``) gets the drawings without a
    copy of its records; the public names are the drawable class."""
    graph = mlp_heat().collapse(1)
    data = gg.GraphData.from_dict(graph.to_dict())
    assert type(data) is gg.GraphData and not hasattr(data, "to_dot")
    drawable = Graph.of(data)
    assert drawable.nodes is data.nodes and type(drawable.full) is Graph
    assert drawable.to_dot() == graph.to_dot()
    assert gs.Graph is gg.Graph is Graph and Graph.of(drawable) is drawable
