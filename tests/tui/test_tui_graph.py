"""The graph view with Pilot: the tree of module calls, a node's detail, search, depth, focus,
the keys in ``?``, the narrow layout, and the rows of a model that reuses a module and ties a
weight.

The store holds a graph captured from a real model by ``capture_graph`` (see
``tui_fixtures.graph_snapshot``); gradient norms in the view are checked against
``p.grad.norm()`` of that model after the same backward.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch
from graph_pilot import FIRST_ROWS, SIZE, notifications, text_of, tree
from textual.widgets import Input
from torch import nn
from tui_fixtures import (
    golden_graph_snapshot,
    graph_snapshot,
    sync,
    write_golden_graph_snapshot,
)

from gradscope.graph import capture_graph
from gradscope.numbers import fixed
from gradscope.tui import make_app
from gradscope.tui.screens.graph import GraphScreen
from gradscope.tui.screens.help import HelpScreen
from gradscope.tui.viewmodel.graph_outline import outline
from gradscope.tui.widgets.graph_tree import GraphTree


@sync
async def test_graph_view_shows_calls_nodes_and_breaks(graph_store: Path) -> None:
    app = make_app(graph_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        assert app.current_mode == "graph" and isinstance(app.screen, GraphScreen)
        assert text_of(app, "#graph-title") == (
            "autograd graph · 47 nodes, 50 edges · depth full (+ -) · 3 params not reached"
        )
        assert tree(app).keys == FIRST_ROWS
        labels = [tree(app).get_node_at_line(i).label.plain for i in (0, 1, 2, 10, 16, 19)]
        assert labels == [
            "(model) · FixedNet",
            "layers.0 · Block",
            "layers.0.fc · Linear",
            "head.weight  (1, 4)  ‖g‖ 2.952",
            "MseLossBackward0  ()  ‖g‖ 1",
            "embed.weight · frozen",
        ]
        detail = text_of(app, "#graph-detail")
        assert detail.startswith("(model) · FixedNet\ngradients enabled\n43 nodes: 10 operations")
        assert "not reached by the output\n  embed.weight   frozen\n  unused.weight  never-ran" in (
            detail
        )


@sync
async def test_unfolding_a_module_and_the_detail_of_its_nodes(
    graph_store: Path, graph_capture: tuple[dict, dict[str, float]]
) -> None:
    norms = graph_capture[1]
    app = make_app(graph_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "down", "down")
        assert tree(app).cursor_key == "c:3"
        await pilot.press("enter")  # unfold layers.0.fc
        assert tree(app).keys[2:9] == ["c:3", "n42", "n38", "n41", "n39", "n37", "n35"]
        await pilot.press("down")
        assert tree(app).cursor_key == "n42"
        assert text_of(app, "#graph-detail") == (
            "layers.0.fc.weight\n"
            "parameter · id n42\n"
            "in layers.0.fc (Linear)\n"
            "shape (4, 4) · float32 · requires_grad=True\n"
            f"gradient ‖g‖ {norms['layers.0.fc.weight']:.6g}\n\n"
            "out (forward)\n"
            "  (4, 4)  to AccumulateGrad → layers.0.fc.weight"
        )
        await pilot.press(*["down"] * 5)
        detail = text_of(app, "#graph-detail")
        assert tree(app).cursor_key == "n35"
        assert detail.startswith("AddmmBackward0\nbackward function · id n35\nin layers.0.fc")
        assert "in (forward)\n  (4)     from AccumulateGrad → layers.0.fc.bias\n" in detail
        assert "out (forward)\n  (8, 4)  to ReluBackward0" in detail
        assert "saved for backward\n  mat1  (8, 4) float32" in detail
        assert "attributes\n  alpha             1\n  beta              1" in detail
        await pilot.press("shift+left", "enter")  # to layers.0.fc's row, and fold it
        assert tree(app).cursor_key == "c:3"
        assert tree(app).keys[2:4] == ["c:3", "c:4"]


@sync
async def test_a_parameter_saved_for_backward_and_its_heat(
    graph_store: Path, graph_capture: tuple[dict, dict[str, float]]
) -> None:
    norms = graph_capture[1]
    app = make_app(graph_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        tree(app).go_to("n13")  # layers.1.norm.weight, inside a folded call
        await pilot.pause()
        assert "c:9" in tree(app).keys and tree(app).cursor_key == "n13"
        detail = text_of(app, "#graph-detail")
        assert f"gradient ‖g‖ {norms['layers.1.norm.weight']:.6g}" in detail
        assert detail.endswith("saved as\n  weight  by NativeLayerNormBackward0")
        tree(app).go_to("n7")
        await pilot.pause()
        detail = text_of(app, "#graph-detail")
        assert "  weight   (4) float32  (= layers.1.norm.weight)" in detail


@sync
async def test_search_narrows_and_escape_restores(graph_store: Path) -> None:
    app = make_app(graph_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"norm.b")
        assert tree(app).keys == ["c:0", "c:2", "c:5", "n31", "n30", "c:6", "c:9", "n15", "n14"]
        await pilot.press("enter")
        assert isinstance(app.focused, GraphTree) and tree(app).cursor_key == "c:0"
        await pilot.press("escape")
        assert tree(app).keys == FIRST_ROWS  # the folding from before the search is back


@sync
async def test_depth_collapses_module_calls_and_keeps_the_cursor(graph_store: Path) -> None:
    app = make_app(graph_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "down", "down", "enter", "down")  # on layers.0.fc.weight
        await pilot.press("minus")
        assert "· 18 nodes, 17 edges · depth 3 (+ -)" in text_of(app, "#graph-title")
        assert tree(app).keys[:10] == [
            "c:0", "c:2", "m3", "m4", "m5", "c:6", "m7", "m8", "m9", "c:10"
        ]  # fmt: skip
        assert tree(app).cursor_key == "m3"  # the node that took layers.0.fc.weight in
        detail = text_of(app, "#graph-detail")
        assert detail.startswith(
            "layers.0.fc · Linear\nmodule call drawn as one node (+ draws its inside) · id m3\n"
            "in layers.0 (Block)\nlargest gradient inside ‖g‖ "
        )
        # the gradient comes from a real backward pass: its last digits depend on the BLAS build
        largest = float(detail.split("‖g‖ ", 1)[1].split()[0])
        assert largest == pytest.approx(3.38842, abs=5e-5)
        await pilot.press("minus")
        assert "depth 2" in text_of(app, "#graph-title")
        assert tree(app).cursor_key == "m2"
        assert tree(app).keys[:4] == ["c:0", "m2", "m6", "c:10"]
        await pilot.press("minus")
        assert "depth 1" in text_of(app, "#graph-title")
        await pilot.press("minus")  # no shallower level: says so, changes nothing
        assert notifications(app)[-1] == ("this is the shallowest depth", "information")
        await pilot.press("plus", "plus")
        assert "depth 3" in text_of(app, "#graph-title")
        assert tree(app).cursor_key in ("c:2", "m2")
        await pilot.press("plus")
        assert "depth full" in text_of(app, "#graph-title")


@sync
async def test_focus_shows_one_call_and_f_again_shows_all(graph_store: Path) -> None:
    app = make_app(graph_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "down", "f")  # on layers.0
        title = text_of(app, "#graph-title")
        assert "· 17 nodes, 18 edges ·" in title and "only layers.0 (f: all)" in title
        assert tree(app).keys == ["c:0", "c:2", "c:3", "c:4", "c:5"]
        await pilot.press("f")
        assert tree(app).keys == FIRST_ROWS and tree(app).cursor_key == "c:2"
        await pilot.press("end", "f")  # a graph break is in no call
        assert "put the cursor in a module's rows" in notifications(app)[-1][0]


@sync
async def test_help_lists_the_graph_keys(graph_store: Path) -> None:
    app = make_app(graph_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.keys)
        assert keys["5"] == "Graph" and keys["x"] == "Export SVG" and keys["/"] == "Search"
        assert keys["+"] == "Depth +" and keys["-"] == "Depth -" and keys["f"] == "Only this call"
        assert keys["e"] == "Unfold all" and keys["c"] == "Fold all"


@sync
async def test_graph_view_holds_at_80x24(graph_store: Path) -> None:
    app = make_app(graph_store, interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        body_tree = tree(app)
        side = app.screen.query_one("#graph-side")
        assert body_tree.region.width == 80 and side.region.width == 80
        assert body_tree.region.y < side.region.y and body_tree.region.height >= 6


class Twice(nn.Module):
    """``fc`` runs twice; ``out`` shares its weight with ``emb``."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(5, 3)
        self.fc = nn.Linear(3, 3)
        self.out = nn.Linear(3, 5, bias=False)
        self.out.weight = self.emb.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(self.fc(self.fc(self.emb(tokens))))


def test_rows_of_a_reused_module_and_a_tied_weight() -> None:
    torch.manual_seed(0)
    model = Twice()
    graph = capture_graph(lambda: model(torch.tensor([0, 1, 2])).sum(), model=model, grads=True)
    rows = outline(graph)
    assert [r.key for r in rows] == ["c:0", "n1", "n0"]
    assert [r.label.plain for r in rows[0].children[1:3]] == ["fc · Linear", "fc #2 · Linear"]
    collapsed = outline(graph.collapse(1))[0].children
    labels = {r.key: r.label.plain for r in collapsed}
    assert list(labels) == ["n14", "n12", "n6", "m1", "m2", "m3", "m4", "n13", "n11", "n5"]
    assert labels["m3"].startswith("fc #2 · Linear  2 ops, 0 params  ‖g‖ ")
    # the tied weight stays a row of its own next to the modules that use it, with its gradient
    assert labels["n12"] == f"emb.weight  (5, 3)  ‖g‖ {fixed(float(model.emb.weight.grad.norm()))}"


@sync
async def test_the_graph_gs_watch_saved_matches_its_first_step(trained_store: Path) -> None:
    app = make_app(trained_store, interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        rows = tree(app)
        rows.action_unfold_all()
        await pilot.pause()
        labels = {
            rows.get_node_at_line(i).data: rows.get_node_at_line(i).label.plain
            for i in range(rows.last_line + 1)
        }
        params = {label.split()[0]: label for label in labels.values() if "." in label.split()[0]}
        for name in ("encoder.0.weight", "encoder.2.bias", "head.weight"):
            # the heat map of the first backward is the gradient norm watch logged at step 0
            first = app.data.run.param_row_at(name, 0)
            assert params[name].endswith(f"‖g‖ {fixed(first.values['grad_norm'])}")
        assert [labels[k] for k in labels if k.startswith("b:")] == [
            "unused.weight · never-ran",
            "unused.bias · never-ran",
        ]


def test_golden_graph_is_what_capture_records() -> None:
    """The dashboard's graph fixture equals a live capture of the same model and step, with
    floats compared to float32 precision (their last digits depend on the BLAS build)."""
    if os.environ.get("GRADSCOPE_UPDATE_GOLDEN") == "1":
        write_golden_graph_snapshot()
    golden, golden_norms = golden_graph_snapshot()
    live, live_norms = graph_snapshot()
    live = json.loads(json.dumps(live))  # tuples as the JSON file holds them: lists
    assert live_norms == pytest.approx(golden_norms, rel=1e-4)
    assert _strip_floats(live) == _strip_floats(golden)
    assert _floats(live) == pytest.approx(_floats(golden), rel=1e-4, abs=1e-7)


def _strip_floats(value: Any) -> Any:
    if isinstance(value, float):
        return "float"
    if isinstance(value, dict):
        return {k: _strip_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_floats(v) for v in value]
    return value


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for k in sorted(value) for f in _floats(value[k])]
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return []
