"""Commands that only read a store start without importing torch (a one-line error in 0.3 s,
not 4 s), checked in a fresh interpreter that runs each command in-process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch
from cli_helpers import fresh_python
from torch import nn

import gradscope as gs

#: Runs each argument list (JSON) through the click group in this interpreter, then reports
#: the exit codes and whether torch was imported by any of them.
IN_PROCESS = """
import json, sys
from click.testing import CliRunner
import gradscope.cli
codes = []
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(gradscope.cli.main, args)
    codes.append(result.exit_code)
print(json.dumps({"codes": codes, "torch": "torch" in sys.modules}))
"""


def run_in_fresh_interpreter(commands: list[list[str]], cwd: Path) -> dict:
    return fresh_python(IN_PROCESS, commands, cwd=cwd)


def test_read_only_commands_do_not_import_torch(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt, store=store):
        for _ in range(3):
            opt.zero_grad()
            nn.functional.mse_loss(model(torch.randn(8, 3)), torch.randn(8, 1)).backward()
            opt.step()
    s = str(store)
    commands = [
        ["report", s],
        ["report", "--json", s],
        ["doctor", s],
        ["doctor", "--json", s],
        ["graph", s, "-o", str(tmp_path / "g.dot")],
        ["export", s, "--format", "csv", "-o", str(tmp_path / "csv")],
        ["report", str(tmp_path / "missing.gsdb")],
    ]
    seen = run_in_fresh_interpreter(commands, tmp_path)
    assert seen == {"codes": [0, 0, 0, 0, 0, 0, 2], "torch": False}
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_dashboard_reads_a_store_without_torch(tmp_path: Path) -> None:
    store = tmp_path / "run.gsdb"
    model = nn.Linear(2, 1)
    with gs.watch(model, store=store):
        model(torch.ones(1, 2)).sum().backward()
    code = f"""
import asyncio, sys
from gradscope.tui.app import make_app
async def main():
    app = make_app({str(store)!r}, interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "1")
asyncio.run(main())
print("torch" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "False"
