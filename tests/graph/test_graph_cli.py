"""``gradscope graph``: a script's first step to an image or DOT file; a store's snapshot."""

from __future__ import annotations

import json
import runpy
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner, Result

import gradscope.graph as gg
from gradscope.errors import GradscopeError
from gradscope.graph.cli import graph_command
from gradscope.graph.script import graph_from_script
from gradscope.store.reader import open_store

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


WATCHED = """
import sys
import torch
from torch import nn
import gradscope as gs

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
with gs.watch(model, opt, store=sys.argv[1]):
    for _ in range(5):
        opt.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()
        opt.step()
"""


def invoke(*args: str) -> Result:
    from gradscope.cli import main

    return CliRunner().invoke(main, ["graph", *args])


def test_a_scope_the_script_opens_does_not_touch_its_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "watched.py"
    script.write_text(WATCHED)
    store = tmp_path / "mine.gsdb"
    monkeypatch.setattr(sys, "argv", [str(script), str(store)])
    runpy.run_path(str(script), run_name="__main__")  # the user's own run
    before = store.read_bytes()
    with open_store(store) as run:
        assert len(run.steps) == 5
    result = invoke(str(script), str(store), "-o", "g.gv")
    assert result.exit_code == 0, result.output
    assert store.read_bytes() == before  # not replaced, not even opened for writing
    with open_store(store) as run:
        assert len(run.steps) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.gv", "mine.gsdb", "watched.py"]
    assert "unused" not in result.output and "warning" not in result.output.lower()


def test_an_existing_output_is_refused_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "graph.svg"
    out.write_text("the user's drawing")
    result = invoke(str(SCRIPT), "-o", str(out), "--steps", "1")
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert out.read_text() == "the user's drawing"
    result = invoke(str(SCRIPT), "-o", str(out), "--force", "--format", "dot", "--steps", "1")
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("digraph gradscope {")


BACKWARD_FAILS = """
import torch

class Broken(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("boom in backward")

x = torch.ones(3, requires_grad=True)
loss = Broken.apply(x).sum()
try:
    loss.backward()
except RuntimeError:
    pass  # a script that swallows it must not go on under gradscope graph
open("went_on.txt", "w").write("trained anyway")
"""


def test_an_exception_in_the_first_backward_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "fails.py"
    script.write_text(BACKWARD_FAILS)
    result = invoke(str(script), "-o", "g.gv")
    assert result.exit_code == 2
    err = result.stderr
    assert err.startswith("Traceback (most recent call last):")
    assert "loss.backward()" in err and 'raise RuntimeError("boom in backward")' in err
    assert "RuntimeError: boom in backward" in err
    package = str(Path(gg.__file__).resolve().parent.parent)
    assert package not in err  # the script's frames, none of gradscope's
    last = err.strip().splitlines()[-1]
    assert (
        last.startswith("gradscope: error: ")
        and "raised RuntimeError in its first backward()" in last
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fails.py"]  # no graph, no went_on


def test_an_exception_before_backward_is_reported(tmp_path: Path) -> None:
    script = tmp_path / "early.py"
    script.write_text(
        "import torch\n\ndef load():\n    raise ValueError('no data here')\n\nload()\n"
    )
    result = invoke(str(script), "-o", str(tmp_path / "g.gv"))
    assert result.exit_code == 2
    assert "ValueError: no data here" in result.stderr and "load()" in result.stderr
    assert "raised ValueError before its first backward()" in result.stderr
    assert not (tmp_path / "g.gv").exists()
