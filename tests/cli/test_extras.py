"""Without an optional part (the dashboard's textual, the graphviz package) the command that
needs it says which extra to install, in one line with exit code 2; recording needs neither."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from cli_helpers import fresh_python
from torch import nn

import gradscope as gs

#: Hides the given packages (``sys.modules[name] = None`` makes ``import name`` fail), then runs
#: each command through the click group in this interpreter; prints exit codes and stderr.
WITHOUT = """
import json, sys
for name in json.loads(sys.argv[1]):
    sys.modules[name] = None
from click.testing import CliRunner
import gradscope.cli
out = []
for args in json.loads(sys.argv[2]):
    result = CliRunner().invoke(gradscope.cli.main, args)
    out.append({"code": result.exit_code, "stderr": result.stderr,
                "error": repr(result.exception) if result.exit_code not in (0, 2) else None})
print(json.dumps(out))
"""


def run_without(hidden: list[str], commands: list[list[str]], cwd: Path) -> list[dict]:
    return fresh_python(WITHOUT, hidden, commands, cwd=cwd)


def small_store(path: Path) -> Path:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt, store=path):
        for _ in range(3):
            opt.zero_grad()
            model(torch.randn(8, 3)).pow(2).mean().backward()
            opt.step()
    return path


def test_each_missing_part_names_its_extra_in_one_line(tmp_path: Path) -> None:
    store = str(small_store(tmp_path / "run.gsdb"))
    tui, demo, image, text, report = run_without(
        ["textual", "textual_plotext", "graphviz"],
        [
            ["tui", store],
            ["demo", "linreg", "--tui", "--steps", "2"],
            ["graph", store, "-o", str(tmp_path / "g.svg")],
            ["graph", store, "-o", str(tmp_path / "g.dot")],
            ["report", store],
        ],
        tmp_path,
    )
    assert tui["code"] == 2, tui
    assert tui["stderr"] == (
        "gradscope: error: the dashboard needs the textual package, which is not installed; "
        "install it with `pip install 'gradscope[tui]'`\n"
    )
    assert demo["code"] == 2 and "pip install 'gradscope[tui]'" in demo["stderr"], demo
    assert demo["stderr"].count("\n") == 1
    assert image["code"] == 2 and image["stderr"].count("\n") == 1, image
    if shutil.which("dot"):
        assert "pip install 'gradscope[graph]'" in image["stderr"], image
    else:  # without Graphviz's program the system package is named first
        assert "apt-get install graphviz" in image["stderr"], image
    assert not (tmp_path / "g.svg").exists()
    assert text["code"] == 0, text  # DOT text needs no package
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert report["code"] == 0, report
