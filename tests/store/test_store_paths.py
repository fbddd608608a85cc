"""Store names that mean something in a URI (``#``, ``?``, ``%20``, ``[``, spaces, unicode) are
just names: written, read and reported under exactly that name, with no stray file beside."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import gradscope as gs
from gradscope.cli import main

NAMES = (
    "exp#3.gsdb",
    "what?now.gsdb",
    "a%20b%2Fc.gsdb",
    "grid[1].gsdb",
    "with space.gsdb",
    "ünï-实验.gsdb",
)
STEPS = 6


def _train(store: Path) -> list[float]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    with gs.watch(model, opt, store=store) as scope:
        for _ in range(STEPS):
            opt.zero_grad()
            loss = model(torch.randn(5, 4)).pow(2).mean()
            loss.backward()
            opt.step()
            scope.log(loss=loss)
            losses.append(loss.item())
    return losses


@pytest.mark.parametrize("name", NAMES)
def test_odd_store_names_round_trip_with_no_stray_file(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "runs#1 [x]"  # the folder's name is odd too
    store = folder / name
    losses = _train(store)
    assert sorted(p.name for p in folder.iterdir()) == [name]
    with gs.open_store(store) as run:
        assert run.steps == list(range(STEPS))
        assert run.series("loss")[1] == pytest.approx(losses)
        assert run.meta["failed_instruments"] == {}  # the live doctor read the same file
        assert "finished" in run.meta
    runner = CliRunner()
    for command in (
        ["report", str(store)],
        ["doctor", str(store)],
        ["report", "--json", str(store)],
    ):
        result = runner.invoke(main, command)
        assert result.exit_code == 0, result.output
        assert result.stderr == ""
    assert sorted(p.name for p in folder.iterdir()) == [name]


def test_an_existing_file_under_the_unquoted_name_is_left_alone(tmp_path: Path) -> None:
    """``exp#3.gsdb`` read as a URI would be ``exp``: that file must be neither read nor
    written."""
    decoy = tmp_path / "exp"
    decoy.write_bytes(b"user data")
    store = tmp_path / "exp#3.gsdb"
    _train(store)
    result = CliRunner().invoke(main, ["report", str(store)])
    assert result.exit_code == 0, result.output
    assert "steps: 6" in result.stdout
    assert decoy.read_bytes() == b"user data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp", "exp#3.gsdb"]
