"""The two cadences and the flight recorder, read back from real stores.

Every logged step holds the loss, the group hyperparameters and the gradient statistics of
every parameter; detail steps (every ``detail_every``-th logged step, and the first) add
weights, updates, optimizer state, activations and histograms. The flight recorder makes the
step after a non-finite value, a gradient spike or a loss spike a detail step, and says why.
"""

from __future__ import annotations

import sqlite3
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn

import gradscope as gs
from gradscope.cli import main
from gradscope.options import OptionError

STEPS = 25


def model_and_optimizer() -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
    return model, torch.optim.Adam(model.parameters(), lr=1e-2)


def train(
    store: Path,
    *,
    tweak: Callable[[int, torch.Tensor], torch.Tensor] = lambda i, loss: loss,
    **options: object,
) -> None:
    """``STEPS`` Adam steps; ``tweak(i, loss)`` returns the loss step ``i`` backpropagates."""
    model, opt = model_and_optimizer()
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    with gs.watch(model, opt, store=store, doctor=False, **options):
        for i in range(STEPS):
            opt.zero_grad()
            tweak(i, nn.functional.cross_entropy(model(x), y)).backward()
            opt.step()


def steps_with(store: Path, table: str) -> list[int]:
    with closing(sqlite3.connect(store)) as conn:
        return [s for (s,) in conn.execute(f"SELECT DISTINCT step FROM {table} ORDER BY step")]


def reasons(store: Path) -> dict[int, str]:
    with gs.open_store(store) as run:
        return {r.step: r.detail_reason for r in run.step_rows() if r.detail_reason}


def test_default_cadence_logs_gradients_every_step_and_detail_every_tenth(
    tmp_store: Path,
) -> None:
    train(tmp_store)
    detail = [0, 10, 20]
    with gs.open_store(tmp_store) as run:
        assert run.series("loss")[0] == list(range(STEPS))
        for name in run.params:
            for metric in ("grad_norm", "grad_std", "grad_absmax", "grad_nan", "grad_zero_frac"):
                assert run.series(metric, name)[0] == list(range(STEPS)), (name, metric)
            for metric in ("weight_norm", "update_norm", "update_ratio", "state.exp_avg.norm"):
                assert run.series(metric, name)[0] == detail, (name, metric)
        assert run.series("act_mean", module="0")[0] == detail
        assert run.series("lr")[0] == list(range(STEPS))
    assert steps_with(tmp_store, "group_stats") == list(range(STEPS))
    assert steps_with(tmp_store, "histograms") == detail
    assert reasons(tmp_store) == dict.fromkeys(detail, "cadence")


def test_detail_every_one_records_everything_on_every_step(tmp_store: Path) -> None:
    train(tmp_store, detail_every=1)
    every = list(range(STEPS))
    with gs.open_store(tmp_store) as run:
        assert run.series("update_ratio", "2.weight")[0] == every
        assert run.series("state.exp_avg_sq.norm", "0.bias")[0] == every
        assert run.series("act_std", module="1")[0] == every
    assert steps_with(tmp_store, "histograms") == every


def test_a_nan_makes_the_next_step_a_detail_step_once(tmp_store: Path) -> None:
    def nan_at_12(i: int, loss: torch.Tensor) -> torch.Tensor:
        return loss * float("nan") if i == 12 else loss

    train(tmp_store, tweak=nan_at_12)
    # NaN from step 12 on (the weights take it): one detail step at the onset, then the cadence
    assert reasons(tmp_store) == {0: "cadence", 10: "cadence", 13: "nonfinite", 20: "cadence"}
    with gs.open_store(tmp_store) as run:
        assert 13 in run.series("grad_norm", "0.weight")[0]
        assert 13 in run.series("update_norm", "0.weight")[0]
    assert 13 in steps_with(tmp_store, "histograms")
    assert 13 in steps_with(tmp_store, "module_stats")
    assert 13 in steps_with(tmp_store, "state_stats")


def test_a_gradient_spike_makes_the_next_step_a_detail_step(tmp_store: Path) -> None:
    def spike_at_14(i: int, loss: torch.Tensor) -> torch.Tensor:
        return loss * 1000 if i == 14 else loss  # Adam's step barely notices

    train(tmp_store, tweak=spike_at_14)
    assert reasons(tmp_store) == {0: "cadence", 10: "cadence", 15: "grad-spike", 20: "cadence"}
    with gs.open_store(tmp_store) as run:
        assert run.series("weight_norm", "2.weight")[0] == [0, 10, 15, 20]


def test_a_loss_spike_with_calm_gradients_makes_the_next_step_a_detail_step(
    tmp_store: Path,
) -> None:
    def jump_at_16(i: int, loss: torch.Tensor) -> torch.Tensor:
        return loss + 100 if i == 16 else loss  # a constant: the gradients do not change

    train(tmp_store, tweak=jump_at_16)
    assert reasons(tmp_store) == {0: "cadence", 10: "cadence", 17: "loss-spike", 20: "cadence"}


def test_the_flight_recorder_also_logs_a_step_the_cadence_skips(tmp_store: Path) -> None:
    def spike_at_13(i: int, loss: torch.Tensor) -> torch.Tensor:
        return loss * 1000 if i == 13 else loss

    train(tmp_store, tweak=spike_at_13, every=1, detail_every=100)
    assert reasons(tmp_store) == {0: "cadence", 14: "grad-spike"}


def test_the_flight_recorder_never_fires_on_a_quiet_run(tmp_store: Path) -> None:
    train(tmp_store, every=1, detail_every=1000)
    assert reasons(tmp_store) == {0: "cadence"}


def test_folded_options_and_bad_detail_every_are_refused_in_one_sentence() -> None:
    model, opt = model_and_optimizer()
    with pytest.raises(OptionError, match="hist_every was folded into detail_every"):
        gs.watch(model, opt, hist_every=5)
    with pytest.raises(OptionError, match="act_every was folded into detail_every"):
        gs.watch(model, opt, act_every=5)
    with pytest.raises(OptionError, match="detail_every must be a positive integer"):
        gs.watch(model, opt, detail_every=0)


def test_gradscope_run_takes_detail_every(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import torch\n"
        "torch.manual_seed(0)\n"
        "model = torch.nn.Linear(3, 1)\n"
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "for _ in range(6):\n"
        "    opt.zero_grad()\n"
        "    model(torch.randn(4, 3)).pow(2).mean().backward()\n"
        "    opt.step()\n"
    )
    store = tmp_path / "r.gsdb"
    result = CliRunner().invoke(
        main, ["run", "-q", "--store", str(store), "--detail-every", "2", str(script)]
    )
    assert result.exit_code == 0, result.output
    with gs.open_store(store) as run:
        assert run.series("weight_norm", "weight")[0] == [0, 2, 4]
        assert run.series("grad_norm", "weight")[0] == list(range(6))


def test_a_schema_1_store_reads_its_logged_steps_as_detail_steps(tmp_store: Path) -> None:
    train(tmp_store, detail_every=1)
    with closing(sqlite3.connect(tmp_store)) as conn, conn:
        conn.execute("ALTER TABLE steps DROP COLUMN detail_reason")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with gs.open_store(tmp_store, check=True) as run:
        rows = run.step_rows()
        assert [r.detail_reason for r in rows] == ["cadence"] * STEPS
        assert run.step_rows_at([3])[0].loss == rows[3].loss


# -- host transfers ------------------------------------------------------------------------------

#: Tensor methods that copy a value to the host (on a GPU, each one is a sync).
TRANSFERS = ("item", "tolist", "cpu", "numpy", "__float__", "__int__", "__bool__", "__index__")
PACKAGE = str(Path(gs.__file__).parent)
TORCH = str(Path(torch.__file__).parent)


@contextmanager
def counting_transfers() -> Iterator[Counter[str]]:
    """Count the host transfers gradscope's own code asks for: the first frame outside torch
    that called the method is in the gradscope package (the optimizer's own ``.item()`` of its
    step count is not gradscope's)."""
    counts: Counter[str] = Counter()
    originals = {name: getattr(torch.Tensor, name) for name in TRANSFERS}

    def counted(name: str) -> Callable[..., object]:
        method = originals[name]

        def call(self: torch.Tensor, *args: object, **kwargs: object) -> object:
            for frame in reversed(traceback.extract_stack()[:-1]):
                if not frame.filename.startswith(TORCH):
                    if frame.filename.startswith(PACKAGE):
                        counts[f"{name} at {Path(frame.filename).name}:{frame.lineno}"] += 1
                    break
            return method(self, *args, **kwargs)

        return call

    for name in TRANSFERS:
        setattr(torch.Tensor, name, counted(name))
    try:
        yield counts
    finally:
        for name, method in originals.items():
            setattr(torch.Tensor, name, method)


@pytest.mark.parametrize("kind", ["logged", "detail", "nonfinite"])
def test_a_logged_step_makes_at_most_two_host_transfers(tmp_store: Path, kind: str) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(8, 1, 8, 8), torch.randint(0, 10, (8,))
    measured = {"logged": 7, "detail": 10, "nonfinite": 7}[kind]
    seen: Counter[str] = Counter()
    with gs.watch(model, opt, store=tmp_store, doctor=False):
        for i in range(12):
            opt.zero_grad()
            if i == measured:
                with counting_transfers() as seen:
                    loss = nn.functional.cross_entropy(model(x), y)
                    if kind == "nonfinite":
                        loss = loss * float("inf")
                    loss.backward()
                    opt.step()
                break
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    assert seen.total() >= 1, "the step was not logged"
    assert seen.total() <= 2, dict(seen)
