"""Text from a store is data: names that look like markup or hold an ESC are shown as spelled.

A model whose modules are named ``[/]`` (a markup closing tag), ``[bold red]x[/bold red]`` and
``\\x1b[31mred`` (an ANSI colour escape), trained for real under ``gs.watch``, with an optimizer
class and a hyperparameter key named the same way. Every view shows the names literally and
never sends a raw ESC to the terminal; the data views (JSON, CSV) keep them exactly.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from rich.console import Console
from torch import nn

import gradscope as gs
from gradscope.cli import main

MARKUP = "[/]"
STYLED = "[bold red]x[/bold red]"
ESCAPED = "\x1b[31mred"
SHOWN = "\\x1b[31mred"  # how the views spell the ESC name
OPTIMIZER = "Opt[b]\x1b[0m"
HPARAM = "[red]k\x1b"


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleDict(
            {MARKUP: nn.Linear(4, 8), STYLED: nn.ReLU(), ESCAPED: nn.Linear(8, 2)}
        )
        self.spare = nn.ModuleDict({MARKUP: nn.Linear(2, 2)})  # never runs: an alert names it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers.values():
            x = layer(x)
        return x


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("names") / "names.gsdb"
    torch.manual_seed(0)
    model = Net()
    optimizer = type(OPTIMIZER, (torch.optim.SGD,), {})(model.parameters(), lr=0.1)
    optimizer.param_groups[0][HPARAM] = 1.0
    x, y = torch.randn(16, 4), torch.randn(16, 2)
    with (
        pytest.warns(gs.DiagnosisWarning, match="unused-parameter"),
        gs.watch(model, optimizer, store=path) as scope,
    ):
        for _ in range(5):
            optimizer.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
            scope.log(**{HPARAM: 0.5})
    return path


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout_bytes.decode()


def test_report_shows_the_names_as_spelled(store: Path) -> None:
    code, out = cli("report", str(store))
    assert code == 0, out
    assert "\x1b" not in out
    for name in (f"layers.{MARKUP}.weight", f"layers.{SHOWN}.bias", f"spare.{MARKUP}.bias"):
        assert name in out
    assert "Opt[b]\\x1b[0m" in out  # the optimizer class, in the header and the groups table
    assert "[red]k\\x1b=1.0" in out.replace("\n", "").replace("│", "").replace(" ", "")


def test_report_on_a_terminal_sends_no_escape_of_the_store(store: Path) -> None:
    """Styles are escape sequences on a terminal; the name's own ESC is never one of them."""
    from gradscope.render.report import print_report

    buffer = io.StringIO()
    with gs.open_store(store) as run:
        print_report(run, console=Console(file=buffer, force_terminal=True, width=120))
    out = buffer.getvalue()
    assert "\x1b[31mred" not in out and "\x1b[0m\x1b[0m" not in out
    assert f"layers.{SHOWN}.weight" in out and STYLED not in out  # ReLU has no parameter


def test_doctor_shows_the_names_as_spelled(store: Path) -> None:
    code, out = cli("doctor", str(store))
    assert code == 0, out
    assert "\x1b" not in out
    assert "unused-parameter  at spare" in out
    assert f"spare.{MARKUP}.weight" in out


def test_doctor_json_and_csv_keep_the_names_exactly(store: Path, tmp_path: Path) -> None:
    code, out = cli("doctor", str(store), "--json")
    assert code == 0
    (alert,) = json.loads(out)
    assert f"spare.{MARKUP}.weight" in alert["message"]
    code, out = cli("report", str(store), "--json")
    assert {p["name"] for p in json.loads(out)["params"]} >= {f"layers.{ESCAPED}.weight"}
    code, out = cli("export", str(store), "-f", "csv", "-o", str(tmp_path / "csv"))
    assert code == 0, out
    with (tmp_path / "csv" / "modules.csv").open(newline="", encoding="utf-8") as f:
        modules = {row["module"] for row in csv.DictReader(f)}
    assert {f"layers.{MARKUP}", f"layers.{STYLED}", f"layers.{ESCAPED}"} <= modules


def test_tensorboard_tags_spell_the_escape(store: Path, tmp_path: Path) -> None:
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    code, out = cli("export", str(store), "-f", "tensorboard", "-o", str(tmp_path / "tb"))
    assert code == 0, out
    acc = accumulator.EventAccumulator(str(tmp_path / "tb" / "names"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert f"grad_norm/layers.{MARKUP}.weight" in tags
    assert f"grad_norm/layers.{SHOWN}.weight" in tags
    assert f"act_mean/layers.{STYLED}" in tags
    assert not any("\x1b" in tag for tag in tags)


def test_dashboard_shows_the_names_as_spelled(store: Path) -> None:
    from gradscope.tui import make_app

    async def visit() -> list[str]:
        app = make_app(store, interval=3600)
        screens = []
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            for key in ("1", "3", "4", "5", "2"):  # overview, alerts, optimizer, graph, parameter
                await pilot.press(key)
                await pilot.pause()
                screens.append(app.export_screenshot().replace("&#160;", " "))
        return screens

    overview, alerts, optimizer, graph, param = asyncio.run(visit())
    for screen in (overview, alerts, optimizer, graph, param):
        assert "\x1b" not in screen
    assert f"{MARKUP} Linear" in overview and f"{SHOWN} Linear" in overview
    assert f"{STYLED} ReLU" in overview
    assert "Opt[b]\\x1b[0m" in overview  # the header
    assert f"spare.{MARKUP}.weight" in alerts
    assert "[red]k\\x1b" in optimizer
    assert f"layers.{MARKUP}.weight" in graph and f"{SHOWN}" in graph
    assert f"{MARKUP}.weight · Linear " in param  # the parameter view's title
    assert "Opt[b]\\x1b[0m · group 0" in param  # and its group table


def test_live_warnings_and_the_run_summary_spell_the_escape(tmp_path: Path) -> None:
    """The live diagnosis warning and ``gradscope run``'s summary print names from the model."""
    script = tmp_path / "train.py"
    script.write_text(
        "import torch\n"
        "from torch import nn\n"
        "torch.manual_seed(0)\n"
        "model = nn.ModuleDict({'used': nn.Linear(3, 1), '\\x1b[31mspare': nn.Linear(3, 1)})\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for _ in range(20):\n"
        "    opt.zero_grad()\n"
        "    model['used'](torch.randn(4, 3)).pow(2).mean().backward()\n"
        "    opt.step()\n"
    )
    result = CliRunner().invoke(main, ["run", "--store", str(tmp_path / "r.gsdb"), str(script)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "unused-parameter" in result.output and "\\x1b[31mspare.weight" in result.output
    with pytest.warns(gs.DiagnosisWarning) as caught:
        torch.manual_seed(0)
        model = nn.ModuleDict({"used": nn.Linear(3, 1), ESCAPED: nn.Linear(3, 1)})
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        with gs.watch(model, opt, store=tmp_path / "w.gsdb"):
            for _ in range(20):
                opt.zero_grad()
                model["used"](torch.randn(4, 3)).pow(2).mean().backward()
                opt.step()
    texts = [str(w.message) for w in caught]
    assert any(SHOWN in t for t in texts) and not any("\x1b" in t for t in texts)
