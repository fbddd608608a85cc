"""``GradscopeCallback`` on a real Lightning ``Trainer`` (CPU, a few steps of a tiny module)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from integration_helpers import assert_no_hooks, assert_report_reads, dashboard_lines
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

pl = pytest.importorskip("lightning.pytorch")

import gradscope as gs  # noqa: E402
from gradscope.errors import GradscopeWarning  # noqa: E402
from gradscope.integrations import attachment  # noqa: E402
from gradscope.integrations.lightning import GradscopeCallback  # noqa: E402
from gradscope.options import OptionError  # noqa: E402

STEPS = 10
PARAMS = ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]


class Regressor(pl.LightningModule):
    """A two-layer MLP that keeps, per optimizer step, what the tests compare against."""

    def __init__(self, *, fail_at: int | None = None) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))
        self.fail_at = fail_at
        self.losses: list[float] = []
        self.grad_norms: list[float] = []

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.fail_at is not None and batch_idx == self.fail_at:
            raise RuntimeError("boom")
        x, y = batch
        loss = nn.functional.mse_loss(self.net(x), y)
        self.losses.append(loss.item())
        return loss

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # after backward (and unscaling), before the update: the gradient the optimizer uses
        self.grad_norms.append(self.net[0].weight.grad.norm().item())

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def loader() -> DataLoader:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 4, generator=g)
    return DataLoader(TensorDataset(x, x[:, :1] * 2 - x[:, 1:2]), batch_size=8)


def fit(
    callbacks: list[Any], *, steps: int = STEPS, fail_at: int | None = None, **trainer: Any
) -> tuple[Any, Regressor]:
    pl.seed_everything(0, verbose=False)
    module = Regressor(fail_at=fail_at)
    t = pl.Trainer(
        max_steps=steps,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
        **trainer,
    )
    t.fit(module, loader())
    return t, module


def test_fit_records_a_store_the_report_and_dashboard_read(tmp_store: Path) -> None:
    cb = GradscopeCallback(store=tmp_store)
    trainer, module = fit([cb])
    assert trainer.global_step == STEPS
    assert cb.store_path == tmp_store and cb.scope is not None and cb.scope.closed
    assert_no_hooks(module, *trainer.optimizers)
    with gs.open_store(tmp_store) as run:
        assert run.steps == list(range(STEPS))
        assert run.params == PARAMS == [n for n, _ in module.named_parameters()]
        assert run.meta["model"] == "Regressor" and run.meta["optimizers"] == ["Adam"]
        steps, losses = run.series("loss")
        assert steps == run.steps and losses == module.losses  # float32 values, exactly
        detail, ratios = run.series("update_ratio", "net.0.weight")
        assert detail == list(range(0, STEPS, 10)) and all(0 < r < 1 for r in ratios)
        _, lrs = run.series("lr")
        assert lrs == [1e-2] * STEPS
        assert_report_reads(run, PARAMS, STEPS)
    lines = dashboard_lines(tmp_store, "p:net.2.bias")
    assert any("net" in line.split() for line in lines)  # the module row
    assert any("bias" in line.split() for line in lines)  # its parameter rows


def test_grad_norms_are_from_steps_after_the_first(tmp_store: Path) -> None:
    """Every step from the second on has a finite, positive gradient norm."""
    cb = GradscopeCallback(store=tmp_store)
    fit([cb])
    with gs.open_store(tmp_store) as run:
        steps, norms = run.series("grad_norm", "net.0.weight")
        assert steps[-1] == STEPS - 1 and len(steps) >= STEPS - 1
        assert all(math.isfinite(v) and v > 0 for v in norms)


def test_grad_norms_are_those_the_optimizer_used(tmp_store: Path) -> None:
    cb = GradscopeCallback(store=tmp_store)
    _, module = fit([cb])
    with gs.open_store(tmp_store) as run:
        steps, norms = run.series("grad_norm", "net.0.weight")
        assert run.alerts == []
        assert steps == list(range(STEPS))
        assert norms == pytest.approx(module.grad_norms, rel=1e-6)


def test_training_is_bit_identical_with_and_without_the_callback(tmp_store: Path) -> None:
    _, plain = fit([])
    _, watched = fit([GradscopeCallback(store=tmp_store)])
    assert plain.losses == watched.losses
    for (name, a), b in zip(plain.state_dict().items(), watched.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_gradient_accumulation_counts_optimizer_steps(tmp_store: Path) -> None:
    cb = GradscopeCallback(store=tmp_store)
    trainer, module = fit([cb], steps=3, accumulate_grad_batches=2)
    assert trainer.global_step == 3
    with gs.open_store(tmp_store) as run:
        rows = run.step_rows()
        assert [r.n_backward for r in rows] == [2, 2, 2]
        # Lightning divides each batch's loss by 2 before backward: the step's loss is their mean
        pairs = zip(module.losses[::2], module.losses[1::2], strict=True)
        expected = [a / 2 + b / 2 for a, b in pairs]
        assert [r.loss for r in rows] == pytest.approx(expected, rel=1e-6)


class ManualRegressor(Regressor):
    """Manual optimisation: the module calls ``manual_backward`` and ``opt.step()`` itself."""

    def __init__(self) -> None:
        super().__init__()
        self.automatic_optimization = False

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        opt = self.optimizers()
        x, y = batch
        loss = nn.functional.mse_loss(self.net(x), y)
        opt.zero_grad()
        self.manual_backward(loss)
        opt.step()  # calls on_before_optimizer_step, which keeps the reference norm
        self.losses.append(loss.item())
        return loss


def test_manual_optimisation(tmp_store: Path) -> None:
    cb = GradscopeCallback(store=tmp_store)
    pl.seed_everything(0, verbose=False)
    module = ManualRegressor()
    trainer = pl.Trainer(
        max_steps=5,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[cb],
    )
    trainer.fit(module, loader())
    assert trainer.global_step == 5
    assert_no_hooks(module, *trainer.optimizers)
    with gs.open_store(tmp_store) as run:
        assert run.steps == list(range(5))
        assert run.series("loss")[1] == module.losses
        steps, norms = run.series("grad_norm", "net.0.weight")
        assert steps == run.steps
        assert norms == pytest.approx(module.grad_norms, rel=1e-6)


def test_scaled_loss_is_replaced_by_the_returned_loss(tmp_store: Path) -> None:
    """Under a GradScaler the backward root is loss × scale; the store keeps the real loss."""
    from lightning.pytorch.plugins import MixedPrecision

    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
    amp = MixedPrecision("16-mixed", "cpu", scaler=scaler)
    cb = GradscopeCallback(store=tmp_store)
    trainer, module = fit([cb], steps=4, plugins=[amp])
    assert trainer.global_step == 4
    with gs.open_store(tmp_store) as run:
        assert run.steps == [0, 1, 2, 3]
        _, losses = run.series("loss")
        assert losses == pytest.approx(module.losses, rel=1e-6)
        assert losses != pytest.approx([v * 2.0**8 for v in module.losses], rel=1e-3)


def test_a_failing_fit_still_closes_the_scope(tmp_store: Path) -> None:
    cb = GradscopeCallback(store=tmp_store)
    pl.seed_everything(0, verbose=False)
    module = Regressor(fail_at=3)
    trainer = pl.Trainer(
        max_steps=STEPS,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[cb],
    )
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(module, loader())
    assert cb.scope is not None and cb.scope.closed
    assert_no_hooks(module, *trainer.optimizers)
    with gs.open_store(tmp_store) as run:
        assert run.steps == [0, 1, 2]
        assert run.series("loss")[1] == module.losses


def test_a_second_fit_gets_its_own_store(tmp_path: Path) -> None:
    cb = GradscopeCallback(store=tmp_path / "run.gsdb")
    fit([cb], steps=2)
    fit([cb], steps=3)
    assert cb.store_path == tmp_path / "run-1.gsdb"
    with gs.open_store(tmp_path / "run.gsdb") as first, gs.open_store(cb.store_path) as second:
        assert (first.steps, second.steps) == ([0, 1], [0, 1, 2])


def test_default_store_is_the_one_gs_watch_picks(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    cb = GradscopeCallback()
    assert cb.store_path is None
    fit([cb], steps=1)
    assert cb.store_path is not None
    assert cb.store_path.parent == Path("runs") and cb.store_path.name.startswith("regressor-")
    assert (tmp_path / cb.store_path).exists()


def test_gradscope_failing_never_stops_the_fit(tmp_store: Path, monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("attach failed")

    cb = GradscopeCallback(store=tmp_store)
    monkeypatch.setattr(attachment, "watch", broken)
    with pytest.warns(GradscopeWarning, match="'lightning' instrument failed.*attach failed"):
        trainer, module = fit([cb], steps=3)
    assert trainer.global_step == 3 and len(module.losses) == 3
    assert cb.scope is None and not tmp_store.exists()
    assert_no_hooks(module, *trainer.optimizers)


def test_options_are_checked_when_the_callback_is_built() -> None:
    with pytest.raises(OptionError, match="every must be a positive integer, got every=0"):
        GradscopeCallback(every=0)
    with pytest.raises(TypeError, match=r"unknown gradscope\.watch option.*evry"):
        GradscopeCallback(evry=2)
    with pytest.raises(OptionError, match="hist_every was folded into detail_every"):
        GradscopeCallback(every=2, hist_every=3)
    with pytest.raises(OptionError, match="detail_every must be a positive integer"):
        GradscopeCallback(detail_every=0)


def test_options_reach_the_scope(tmp_store: Path) -> None:
    cb = GradscopeCallback(store=tmp_store, every=3, include="net.0")
    fit([cb], steps=7)
    with gs.open_store(tmp_store) as run:
        assert run.params == ["net.0.weight", "net.0.bias"]
        assert run.steps == list(range(7))
        assert [r.step for r in run.step_rows() if r.logged] == [0, 3, 6]


def test_the_pytorch_lightning_package_name_works_too(tmp_store: Path) -> None:
    """One class serves both packages: Lightning calls callback hooks by name."""
    ptl = pytest.importorskip("pytorch_lightning")
    cb = GradscopeCallback(store=tmp_store)

    class Classic(ptl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            x, y = batch
            return nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=1e-2)

    trainer = ptl.Trainer(
        max_steps=3,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[cb],
    )
    module = Classic()
    trainer.fit(module, loader())
    assert_no_hooks(module, *trainer.optimizers)
    with gs.open_store(tmp_store) as run:
        assert run.steps == [0, 1, 2] and run.params == PARAMS
