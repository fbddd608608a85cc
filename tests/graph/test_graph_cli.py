"""``gradscope graph``: a script's first step to an image or DOT file; a store's snapshot."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import gradscope.graph as gg
from gradscope.errors import GradscopeError
from gradscope.graph.cli import graph_command
from gradscope.graph.script import graph_from_script

SCRIPT = Path(__file__).parent / "fixtures" / "tiny_train.py"


def test_script_runs_one_step_and_reports_the_break(tmp_path: Path) -> None:
    out = tmp_path / "graph.gv"
    result = CliRunner().invoke(graph_command, [str(SCRIPT), "-o", str(out), "--steps", "5"])
    assert result.exit_code == 0, result.output
    assert "trained a step" not in result.output  # stopped at the first backward
    assert f"graph written to {out}" in result.output
    assert "detach: fc1.weight: the output of fc1 was cut" in result.output
    text = out.read_text()
    assert 'label="fc2: Linear"' in text and "|g|=" in text and "break0" in text


def test_graph_from_script_restores_everything() -> None:
    backward, argv = torch.autograd.backward, list(sys.argv)
    graph = graph_from_script(SCRIPT, ["--steps", "2"], heat=False)
    assert torch.autograd.backward is backward and sys.argv == argv
    assert not torch.overrides._get_current_function_mode_stack()
    assert {n.name for n in graph.params} == {"fc2.weight", "fc2.bias"}
    assert [c.path for c in graph.calls] == ["", "fc1", "fc2", "<CrossEntropyLoss>"]


def test_script_without_backward_is_an_error(tmp_path: Path) -> None:
    script = tmp_path / "nothing.py"
    script.write_text("import torch\nprint(torch.ones(1))\n")
    with pytest.raises(GradscopeError, match="never called backward"):
        graph_from_script(script)


def test_store_snapshot(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    x = torch.ones(2, requires_grad=True)
    graph = gg.capture_graph((3 * x).sum(), names={"x": x})
    with sqlite3.connect(store) as conn:  # a minimal store holding a snapshot
        from gradscope.store import schema

        schema.create(conn)
        conn.execute("INSERT INTO meta VALUES ('graph', ?)", (json.dumps(graph.to_dict()),))
    out = tmp_path / "graph.gv"
    result = CliRunner().invoke(graph_command, [str(store), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == graph.to_dot()


def test_store_without_snapshot_says_what_to_do(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    with sqlite3.connect(store) as conn:
        from gradscope.store import schema

        schema.create(conn)
        conn.execute("INSERT INTO meta (key, value) VALUES ('finished', '0')")  # a whole run
    result = CliRunner().invoke(graph_command, [str(store), "-o", str(tmp_path / "g.gv")])
    assert isinstance(result.exception, GradscopeError)
    assert "holds no graph snapshot" in str(result.exception)


def test_depth_option_is_validated() -> None:
    result = CliRunner().invoke(graph_command, [str(SCRIPT), "--depth", "deep"])
    assert result.exit_code == 2 and "expected auto, full or an integer" in result.output


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
def test_script_to_svg(tmp_path: Path) -> None:
    out = tmp_path / "graph.svg"
    result = CliRunner().invoke(graph_command, [str(SCRIPT), "-o", str(out), "--tree"])
    assert result.exit_code == 0, result.output
    assert out.read_text().lstrip().startswith("<?xml") and "NllLossBackward0" in result.output


def test_core_imports_neither_graphviz_nor_rich() -> None:
    code = (
        "import sys, torch, gradscope.graph as gg;"
        "x = torch.ones(2, requires_grad=True);"
        "g = gg.capture_graph((2 * x).sum()); g.to_dot();"
        "print(sorted(m for m in ('graphviz', 'rich', 'textual') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
