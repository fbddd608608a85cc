"""How graph images tell things apart: node kinds by shape under any fill, a heat scale that one
outlier cannot ruin, a legend beside the output, ``--no-heat`` on stores, the drawing's
direction and depth for tall models, call numbers, and the ``--tree`` output.

The DOT text is read back (``dot_parse``) and compared by node attributes; golden files hold
those attributes as JSON (``GRADSCOPE_UPDATE_GOLDEN=1`` rewrites them; review the diff).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import get_args

import pytest
import torch
from click.testing import CliRunner
from dot_parse import graph_attributes, nodes, same_rank
from torch import nn
from tutorial_functions import Exp

import gradscope as gs
import gradscope.graph as gg
from gradscope.graph.cli import graph_command
from gradscope.graph.layout import AUTO_MAX_RANKS, extent, ranks
from gradscope.graph.model import FUNCTION_KINDS, TENSOR_KINDS, NodeKind
from gradscope.graph.script import graph_from_script
from gradscope.render.dot import HEAT, font_colour, pick_rankdir, robust_range
from gradscope.render.styles import KINDS

GOLDEN = Path(__file__).parent / "golden"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
BLUE = "#2166ac"
KIND_SHAPES = {"param": "cylinder", "leaf": "parallelogram", "output": "doubleoctagon",
               "op": None, "accumulate": None, "custom": None, "saved": "note"}  # fmt: skip


def constant_init(model: nn.Module) -> None:
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) / (i + 1))


class KindsNet(nn.Module):
    """A parameter, an input leaf, built-in ops, a custom Function and the output."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        constant_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return Exp.apply(self.fc(x)).sum()


class Outlier(nn.Module):
    """A side branch scaled by 1e-7: its weight's gradient is seven decades below the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 8)
        self.head = nn.Linear(8, 2)
        self.side = nn.Linear(4, 8, bias=False)
        constant_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.fc1(x) + 1e-7 * self.side(x))
        return self.head(torch.tanh(self.fc2(h)))


def kinds_graph(heat: bool) -> gg.Graph:
    model = KindsNet()
    x = torch.linspace(-1, 1, 6).reshape(2, 3).requires_grad_()
    return gg.capture_graph(lambda: model(x), model=model, names={"x": x}, grads=heat)


def outlier_graph() -> gg.Graph:
    model = Outlier()
    x = torch.linspace(-1, 1, 12).reshape(3, 4)
    return gg.capture_graph(lambda: model(x).pow(2).mean(), model=model, grads=True)


def structure(dot: str) -> dict[str, dict[str, str]]:
    """Node attributes without tooltips, gradient values masked (their digits are not the
    point; where each node falls on the scale is)."""
    out = {}
    for node_id, attrs in nodes(dot).items():
        attrs.pop("tooltip", None)
        if "label" in attrs:
            attrs["label"] = re.sub(r"-?\d\.\d+e[+-]\d\d", "#", attrs["label"])
        out[node_id] = attrs
    return out


def check_golden(name: str, dot: str) -> None:
    path = GOLDEN / f"{name}.json"
    found = structure(dot)
    if os.environ.get("GRADSCOPE_UPDATE_GOLDEN"):
        path.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert found == json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("heat", [False, True], ids=["plain", "heat"])
def test_node_kinds_keep_their_shapes_under_the_heat_fill(heat: bool) -> None:
    graph = kinds_graph(heat)
    dot = graph.to_dot()
    check_golden(f"kinds_{'heat' if heat else 'plain'}", dot)
    drawn = nodes(dot)
    for node in graph.nodes:
        attrs = drawn[node.id]
        assert attrs.get("shape") == KIND_SHAPES[node.kind], node
        assert (attrs.get("peripheries") == "2") == (node.kind == "custom")
        if heat and node.kind != "saved":  # a saved tensor gets no gradient of its own
            assert attrs["fillcolor"] in HEAT and "|g|=" in attrs["label"]
        else:
            assert attrs["fillcolor"] == KINDS[node.kind].fill and "|g|" not in attrs["label"]
    if heat:
        legend = drawn["legend"]["label"]
        for look, kind in [("cylinder", "parameter"), ("parallelogram", "input (leaf)"),
                           ("double octagon", "output (loss)"), ("double box", "custom Function"),
                           ("box", "operation")]:  # fmt: skip
            assert f'>{look}</TD><TD BORDER="0" ALIGN="LEFT">{kind}<' in legend
    else:
        assert "legend" not in drawn


def test_one_outlier_does_not_stretch_the_heat_scale() -> None:
    graph = outlier_graph()
    dot = graph.to_dot()
    check_golden("outlier_heat", dot)
    drawn = nodes(dot)
    side = {n.id for n in graph.nodes if (graph.grad_norm(n.id) or 1) < 1e-8}
    names = sorted(graph.node(i).name for i in side)
    assert names == ["AccumulateGrad", "MmBackward0", "TBackward0", "side.weight"]
    for node_id in side:
        attrs = drawn[node_id]
        assert "(≤ scale)" in attrs["label"] and attrs["color"] == BLUE
        assert attrs["penwidth"] == "3" and attrs["fillcolor"] == HEAT[0]
    others = [drawn[n.id]["fillcolor"] for n in graph.nodes if n.id not in side and
              graph.grad_norm(n.id)]  # fmt: skip
    assert len(set(others)) >= 5  # the rest spread over the scale, not one dark red
    legend = drawn["legend"]["label"]
    assert f'COLOR="{BLUE}" BORDER="3"><FONT COLOR="black">≤ ' in legend
    assert "4 nodes below the scale" in legend and "blue border" in legend
    assert {graph.outputs[0].id, "legend"} in same_rank(dot)  # beside the output


def test_a_smooth_spread_is_not_clipped() -> None:
    logs = [float(i) for i in range(-8, 1)]  # vanishing gradients: every decade present
    assert robust_range(logs) == (-8.0, 0.0)
    assert robust_range(sorted([-7.0, -1.0, -0.5, -0.4, -0.3, -0.2])) == (-1.0, -0.2)


def test_legend_text_reads_on_every_swatch() -> None:
    assert font_colour("#800026") == font_colour("#bd0026") == "white"
    assert font_colour("#ffffcc") == font_colour("#fd8d3c") == "black"
    drawn = nodes(outlier_graph().to_dot())
    swatches = re.findall(r'BGCOLOR="(#\w+)"[^>]*><FONT COLOR="(\w+)"', drawn["legend"]["label"])
    assert swatches and all(font == font_colour(fill) for fill, font in swatches)
    assert ("#800026", "white") in swatches


def train_with_store(store: Path) -> None:
    torch.manual_seed(0)
    model = Outlier()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt, store=store):
        for _ in range(2):
            opt.zero_grad()
            model(torch.randn(3, 4)).pow(2).mean().backward()
            opt.step()


def test_no_heat_applies_to_stores(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    train_with_store(store)
    runner = CliRunner()
    for name, flag in [("heat.gv", "--heat"), ("plain.gv", "--no-heat")]:
        result = runner.invoke(graph_command, [str(store), "-o", str(tmp_path / name), flag])
        assert result.exit_code == 0, result.output
    heat = (tmp_path / "heat.gv").read_text()
    plain = (tmp_path / "plain.gv").read_text()
    assert heat != plain
    drawn_heat, drawn_plain = nodes(heat), nodes(plain)
    assert "legend" in drawn_heat and "legend" not in drawn_plain
    assert set(drawn_heat) - {"legend"} == set(drawn_plain)  # the same graph
    assert any(a.get("fillcolor") in HEAT for a in drawn_heat.values())
    graph = gg.Graph.from_dict(json.loads(json.dumps(gs.open_store(store).graph_snapshot())))
    for node in graph.nodes:
        attrs = drawn_plain[node.id]
        assert attrs["fillcolor"] == KINDS[node.kind].fill and "|g|" not in attrs["label"]


def tall_graph() -> gg.Graph:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
    model = nn.TransformerEncoder(layer, 12, enable_nested_tensor=False)
    return gg.capture_graph(lambda: model(torch.randn(2, 3, 16)).mean(), model=model)


def test_a_twelve_layer_transformer_is_drawn_short_by_default() -> None:
    graph = tall_graph()
    assert graph.full is not None and graph.depth == 2  # one node per layer
    rank = ranks([n.id for n in graph.nodes], [(e.src, e.dst) for e in graph.edges])
    assert extent(rank)[0] <= AUTO_MAX_RANKS
    full = graph.full
    full_ranks = ranks([n.id for n in full.nodes], [(e.src, e.dst) for e in full.edges])
    assert extent(full_ranks)[0] > 300  # what it would be in full
    layers = [n.name for n in graph.nodes if n.kind == "module"]
    assert layers == [f"layers.{i}" for i in reversed(range(12))]


@needs_dot
def test_the_default_drawing_of_a_tall_model_is_not_a_strip(tmp_path: Path) -> None:
    out = tall_graph().render(tmp_path / "tall.svg")
    width, height = map(float, re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"',
                                         out.read_text()).groups())  # fmt: skip
    assert height < 1600, (width, height)  # in full: over 300 ranks, some 25,000 points


def test_rankdir_is_chosen_and_can_be_forced(tmp_path: Path) -> None:
    assert pick_rankdir(tall_graph()) == "TB"  # a chain: left-right would be wider still

    class Fan(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = nn.ModuleList(nn.Linear(4, 1) for _ in range(16))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.stack([h(x) for h in self.heads]).sum()

    fan = Fan()
    wide = gg.capture_graph(lambda: fan(torch.ones(2, 4)), model=fan)
    assert pick_rankdir(wide) == "LR"
    assert graph_attributes(wide.to_dot())["rankdir"] == "LR"
    for direction in ("TB", "LR", "BT", "RL"):
        assert graph_attributes(wide.to_dot(rankdir=direction))["rankdir"] == direction
    with pytest.raises(ValueError, match="rankdir must be one of"):
        wide.to_dot(rankdir="up")
    script = tmp_path / "fan.py"
    script.write_text(
        "import torch\nfrom torch import nn\n"
        "model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))\n"
        "model(torch.ones(2, 3)).sum().backward()\n"
    )
    out = tmp_path / "g.gv"
    result = CliRunner().invoke(graph_command, [str(script), "-o", str(out), "--rankdir", "LR"])
    assert result.exit_code == 0, result.output
    assert graph_attributes(out.read_text())["rankdir"] == "LR"


TWICE = """
import torch
from torch import nn
import gradscope.graph as gg

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)
        self.aux = nn.Linear(2, 2)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))

model = Net()
x = torch.ones(3, 4)
for b in gg.capture_graph(lambda: model(x).sum(), model=model).breaks:  # a first forward
    print("script says:", b.param)
with torch.no_grad():
    model(x)  # an evaluation
loss = model(x).sum() + {second}
loss.backward()
"""


def test_calls_are_numbered_within_the_graph_and_the_tree_lists_breaks_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "twice.py"
    script.write_text(TWICE.format(second="0"))
    result = CliRunner().invoke(graph_command, [str(script), "--tree"])
    assert result.exit_code == 0, result.output
    assert "#2" not in result.output and "· head" in result.output
    assert result.output.count("aux.weight: never-ran") == 1  # once, in the tree
    assert result.output.count("script says: aux.weight") == 1  # the script's own print
    assert list(tmp_path.iterdir()) == [script]  # --tree alone writes no file

    script.write_text(TWICE.format(second="model(2 * x).sum()"))  # really called twice
    graph = graph_from_script(script, heat=False, depth=None)
    titles = sorted(c.title for c in graph.calls if c.path == "head")
    assert titles[:2] == ["head", "head #2"]
    drawn = [n.call for n in graph.nodes if n.call is not None]
    assert {graph.calls[c].title for c in drawn} >= {"head", "head #2"}


@needs_dot
def test_legend_and_kinds_render_with_dot() -> None:
    dot = outlier_graph().to_dot()
    svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True)
    assert "below the scale" in svg.stdout and "double octagon" in svg.stdout
    assert "Warning" not in svg.stderr


def test_every_node_kind_has_one_style() -> None:
    """The style table, the tensor/function split and the ``NodeKind`` literal name the same
    kinds (a module call is neither a tensor nor a function)."""
    kinds = set(get_args(NodeKind))
    assert set(KINDS) == kinds
    assert kinds - {"module"} == TENSOR_KINDS | FUNCTION_KINDS
    assert not TENSOR_KINDS & FUNCTION_KINDS
