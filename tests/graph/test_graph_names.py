"""Module names are data: DOT labels, the legend's HTML, the tree and the CLI show them as written.

``add_module`` accepts any name without a dot, so a model can hold ``[/]`` (console markup),
``<b>`` and ``{a|b}`` (special in Graphviz's HTML and record labels), quotes, backslashes
(Graphviz's ``\\N`` escapes) and an ESC character (a terminal escape sequence).
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from dot_parse import nodes
from torch import nn

import gradscope.graph as gg
from gradscope.graph.cli import graph_command
from gradscope.render.dot import html

NAMES = ["[/]", "[bold red]x[/bold red]", "<b>", '"quotes"', "back\\N\\slash", "{a|b}<c>",
         "esc\x1b[31mred"]  # fmt: skip
#: How each name reads once control characters are spelled out.
SHOWN = [name.replace("\x1b", "\\x1b") for name in NAMES]


class Odd(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        for name in NAMES:
            self.add_module(name, nn.Linear(2, 2))
        self.add_module("never<ran>", nn.Linear(2, 2))  # a graph break with an odd name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in NAMES:
            x = torch.tanh(getattr(self, name)(x))
        return x


def odd_graph() -> gg.Graph:
    model = Odd()
    return gg.capture_graph(lambda: model(torch.ones(1, 2)).sum(), model=model, grads=True)


def test_dot_labels_hold_the_names_as_written() -> None:
    graph = odd_graph()
    dot = graph.to_dot()
    assert "\x1b" not in dot
    labels = [a["label"] for a in nodes(dot).values()]
    for shown in SHOWN:
        assert any(label.startswith(f"{shown}.weight\n(2, 2)\n|g|=") for label in labels)
        assert f'label="{_dot_escaped(shown)}: Linear"' in dot  # the cluster title
    assert "never<ran>.weight\\nnever-ran: never<ran>" in dot


def _dot_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
def test_dot_draws_the_names_literally() -> None:
    dot = odd_graph().to_dot()
    svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
    assert svg.returncode == 0, svg.stderr
    root = ET.fromstring(svg.stdout)  # well-formed XML: no raw control character in it
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    for shown in SHOWN:
        assert f"{shown}.weight" in texts
        assert f"{shown}: Linear" in texts
    assert "never<ran>.weight" in texts


def test_html_label_text_is_escaped() -> None:
    assert html('<b>&"x"\x1b') == "&lt;b&gt;&amp;&quot;x&quot;\\x1b"


SCRIPT = """
import torch
from torch import nn

NAMES = {names!r}

class Odd(nn.Module):
    def __init__(self):
        super().__init__()
        for name in NAMES:
            self.add_module(name, nn.Linear(2, 2))
        self.add_module("never[/]ran", nn.Linear(2, 2))

    def forward(self, x):
        for name in NAMES:
            x = getattr(self, name)(x)
        return x

model = Odd()
model(torch.ones(1, 2)).sum().backward()
"""


@pytest.mark.parametrize("tree", [True, False], ids=["tree", "list"])
def test_cli_prints_the_names_as_written(tmp_path: Path, tree: bool) -> None:
    script = tmp_path / "odd.py"
    script.write_text(SCRIPT.format(names=NAMES))
    args = [str(script), "--tree"] if tree else [str(script), "-o", str(tmp_path / "g.gv")]
    result = CliRunner().invoke(graph_command, args, color=True)
    assert result.exit_code == 0, result.output
    assert "\x1b[31m" not in result.output  # the name's ESC never reaches the terminal
    assert ("never[/]ran.weight: never-ran" if tree else "never-ran: never[/]ran.weight") in (
        result.output
    )
    if tree:
        for shown in SHOWN:
            assert f"{shown}.weight (2, 2)" in result.output  # markup not interpreted
