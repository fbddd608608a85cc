"""The awkward cases of real training loops, each checked against values computed in the test."""

from __future__ import annotations

import copy
import math
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim import Optimizer

import gradscope as gs
from gradscope.errors import GradscopeError

REL, ABS = 1e-5, 1e-7


def close_to(expected: Any, rel: float = REL) -> Any:
    return pytest.approx(expected, rel=rel, abs=ABS)


class Three(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 5)
        self.fc2 = nn.Linear(5, 5)
        self.fc3 = nn.Linear(5, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc3(torch.tanh(self.fc2(torch.tanh(self.fc1(x)))))


def step(model: nn.Module, opt: Optimizer, x: Tensor, y: Tensor) -> float:
    opt.zero_grad()
    loss = F.mse_loss(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def grad_norms_before_step(opt: Optimizer, model: nn.Module) -> list[dict[str, float]]:
    """Register (before gradscope) a pre-step hook that notes every gradient's norm."""
    seen: list[dict[str, float]] = []

    def hook(*_: Any) -> None:
        seen.append(
            {n: float(p.grad.norm()) for n, p in model.named_parameters() if p.grad is not None}
        )

    opt.register_step_pre_hook(hook)
    return seen


# -- parameters that get no gradient ------------------------------------------------------------


class WithUnused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.unused = nn.Linear(3, 3)
        self.fc2 = nn.Linear(3, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def test_unused_layer_has_weight_rows_but_no_grad_rows(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = WithUnused()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    unused_norm = float(model.unused.weight.detach().norm())
    with gs.watch(model, opt, store=tmp_store, detail_every=1):
        for _ in range(2):
            step(model, opt, torch.randn(6, 4), torch.randn(6, 2))
    run = gs.open_store(tmp_store)
    assert "unused.weight" in run.params
    assert run.series("grad_norm", "unused.weight") == ([], [])
    assert run.series("grad_nan", "unused.weight") == ([], [])
    assert run.series("weight_norm", "unused.weight") == ([0, 1], close_to([unused_norm] * 2))
    assert run.series("update_norm", "unused.weight") == ([0, 1], [0.0, 0.0])
    assert run.state("unused.weight") == {}  # SGD kept no momentum for it
    assert run.series("grad_norm", "fc1.weight")[0] == [0, 1]


def test_frozen_parameters_are_described_and_weighed_not_graded(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = Three()
    model.fc1.requires_grad_(False)
    frozen_norm = float(model.fc1.weight.norm())
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(trainable, lr=1e-2)
    with gs.watch(model, opt, store=tmp_store, detail_every=1):
        for _ in range(2):
            step(model, opt, torch.randn(6, 4), torch.randn(6, 2))
    run = gs.open_store(tmp_store)
    info = run.param_info
    assert run.params == [n for n, _ in model.named_parameters()]
    assert not info["fc1.weight"].requires_grad and info["fc2.weight"].requires_grad
    assert run.series("grad_norm", "fc1.weight") == ([], [])
    assert run.series("weight_norm", "fc1.weight") == ([0, 1], close_to([frozen_norm] * 2))
    assert run.series("grad_norm", "fc2.weight")[0] == [0, 1]
    assert run.optimizers[0].groups[0].params == (
        "fc2.weight",
        "fc2.bias",
        "fc3.weight",
        "fc3.bias",
    )
    assert run.meta["n_trainable"] == sum(p.numel() for p in trainable)


def test_parameters_unfrozen_mid_training_get_grad_rows_from_then(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = Three()
    model.fc1.requires_grad_(False)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = grad_norms_before_step(opt, model)
    with gs.watch(model, opt, store=tmp_store):
        for i in range(4):
            if i == 2:
                model.fc1.requires_grad_(True)
            step(model, opt, torch.randn(6, 4), torch.randn(6, 2))
    run = gs.open_store(tmp_store)
    assert run.series("grad_norm", "fc1.weight") == (
        [2, 3],
        close_to([seen[2]["fc1.weight"], seen[3]["fc1.weight"]]),
    )
    assert run.series("grad_norm", "fc2.weight")[0] == [0, 1, 2, 3]
    assert [r.n_backward for r in run.step_rows()] == [1, 1, 1, 1]


# -- sharing and repetition ---------------------------------------------------------------------


class TiedLM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.mix = nn.Linear(4, 4)
        self.dec = nn.Linear(4, 10, bias=False)
        self.dec.weight = self.emb.weight

    def forward(self, idx: Tensor) -> Tensor:
        return self.dec(torch.tanh(self.mix(self.emb(idx))))


def test_tied_weights_recorded_once_with_alias(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = TiedLM()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = grad_norms_before_step(opt, model)
    idx = torch.tensor([1, 2, 3, 3, 7])
    with gs.watch(model, opt, store=tmp_store):
        for _ in range(2):
            opt.zero_grad()
            F.cross_entropy(model(idx), torch.tensor([2, 3, 4, 4, 8])).backward()
            opt.step()
    run = gs.open_store(tmp_store)
    assert run.params == ["emb.weight", "mix.weight", "mix.bias"]
    assert run.param_info["emb.weight"].aliases == ("dec.weight",)
    expected = close_to([s["emb.weight"] for s in seen])  # both uses, accumulated
    assert run.series("grad_norm", "emb.weight") == ([0, 1], expected)
    assert run.series("grad_norm", "dec.weight") == ([0, 1], expected)


class Twice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.out = nn.Linear(4, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.fc(torch.tanh(self.fc(x))))


def test_module_called_twice_combines_both_calls(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = Twice()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    outputs: list[Tensor] = []
    out_grads: list[Tensor] = []

    def capture(module: nn.Module, args: Any, output: Tensor) -> None:
        outputs.append(output.detach().clone())
        output.register_hook(lambda g: out_grads.append(g.clone()))

    handle = model.fc.register_forward_hook(capture)
    with gs.watch(model, opt, store=tmp_store, detail_every=1):
        step(model, opt, torch.randn(6, 4), torch.randn(6, 2))
    handle.remove()
    run = gs.open_store(tmp_store)
    row = run.module_latest("fc")
    assert row is not None and row.calls == 2
    assert run.module_latest("out").calls == 1
    both = torch.cat([o.reshape(-1) for o in outputs]).double()
    assert row.values["act_mean"] == close_to(float(both.mean()))
    assert row.values["act_std"] == close_to(float(both.std()), rel=1e-4)
    assert row.values["act_absmax"] == float(both.abs().max())
    assert row.shape == (6, 4)
    grad_norm = math.sqrt(sum(float(g.norm()) ** 2 for g in out_grads))
    assert len(out_grads) == 2 and row.values["out_grad_norm"] == close_to(grad_norm)


@dataclass
class Prediction:
    logits: Tensor
    n: int


class DictHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x: Tensor) -> dict[str, Any]:
        return {"mask": x > 0, "value": self.lin(x)}  # the bool tensor is not an activation


class TupleHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return torch.argmax(x, dim=1), self.lin(x) * 2.0


class DataclassHead(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x: Tensor) -> Prediction:
        return Prediction(logits=self.lin(x) - 1.0, n=x.shape[0])


class Heads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.d = DictHead()
        self.t = TupleHead()
        self.c = DataclassHead()

    def forward(self, x: Tensor) -> Tensor:
        return self.d(x)["value"].sum() + self.t(x)[1].pow(2).sum() + self.c(x).logits.mean()


def test_dict_tuple_and_dataclass_outputs_get_activation_stats(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = Heads()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(5, 4)
    with torch.no_grad():
        expected = {
            "d": model.d(x)["value"],
            "t": model.t(x)[1],
            "c": model.c(x).logits,
        }
    with gs.watch(model, opt, store=tmp_store, detail_every=1):
        opt.zero_grad()
        model(x).backward()
        opt.step()
    run = gs.open_store(tmp_store)
    for path, value in expected.items():
        row = run.module_latest(path)
        assert row is not None, path
        assert row.shape == (5, 3)
        assert row.values["act_mean"] == close_to(float(value.double().mean())), path
        assert row.values["act_absmax"] == float(value.abs().max()), path
        assert row.values["out_grad_norm"] is not None and row.values["out_grad_norm"] > 0, path


def _train_with_optional_eval(store: Path, interleave_eval: bool) -> gs.Run:
    torch.manual_seed(0)
    model = Three()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    data = [(torch.randn(6, 4), torch.randn(6, 2)) for _ in range(3)]
    other = torch.randn(20, 4) * 5.0 + 3.0

    def evaluate() -> None:
        model.eval()
        with torch.no_grad():
            model(other)
        model.train()

    with gs.watch(model, opt, store=store, detail_every=1):
        for x, y in data:
            if interleave_eval:
                evaluate()
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            if interleave_eval:
                evaluate()  # between backward and step, inside the logged step
            opt.step()
    return gs.open_store(store)


def test_eval_forwards_under_no_grad_do_not_change_activation_stats(tmp_path: Path) -> None:
    plain = _train_with_optional_eval(tmp_path / "plain.gsdb", interleave_eval=False)
    mixed = _train_with_optional_eval(tmp_path / "mixed.gsdb", interleave_eval=True)
    for module in ("fc1", "fc2", "fc3"):
        for metric in ("act_mean", "act_std", "act_absmax", "out_grad_norm"):
            steps, values = plain.series(metric, module=module)
            assert steps == [0, 1, 2]
            assert mixed.series(metric, module=module) == (steps, values), (module, metric)
        row = mixed.module_latest(module)
        assert row.calls == 1 and row.training is True
        assert row.shape == (6, 2 if module == "fc3" else 5)


# -- gradients that are unusual -----------------------------------------------------------------


class SparseModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(20, 3, sparse=True)

    def forward(self, idx: Tensor) -> Tensor:
        return self.emb(idx).pow(2).sum() * 0.5


def test_sparse_embedding_gradient_stats(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = SparseModel()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    grads: list[Tensor] = []
    opt.register_step_pre_hook(lambda *_: grads.append(model.emb.weight.grad.clone()))
    batches = [torch.tensor([1, 4, 4, 9]), torch.tensor([0, 19, 19, 19, 5])]
    with gs.watch(model, opt, store=tmp_store):
        for idx in batches:
            opt.zero_grad()
            model(idx).backward()
            opt.step()
    run = gs.open_store(tmp_store)
    assert all(g.is_sparse for g in grads)
    name = "emb.weight"
    norms = [float(g.coalesce().values().norm()) for g in grads]
    dense = [g.to_dense() for g in grads]
    assert run.series("grad_norm", name) == ([0, 1], close_to(norms))
    zero_frac = [float((d == 0).double().mean()) for d in dense]  # implicit zeros count
    assert zero_frac[0] == pytest.approx(17 / 20)
    assert run.series("grad_zero_frac", name)[1] == pytest.approx(zero_frac, abs=1e-12)
    assert run.series("grad_mean", name)[1] == close_to([float(d.mean()) for d in dense])
    assert run.series("grad_min", name)[1] == [float(d.min()) for d in dense]
    assert run.series("grad_max", name)[1] == [float(d.max()) for d in dense]
    assert run.series("grad_std", name)[1] == close_to([float(d.std()) for d in dense], rel=1e-3)


def test_gradient_accumulation_is_one_step(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = Three()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = grad_norms_before_step(opt, model)
    scaled: list[list[float]] = []
    with gs.watch(model, opt, store=tmp_store):
        for _ in range(2):
            opt.zero_grad()
            scaled.append([])
            for _ in range(4):
                loss = F.mse_loss(model(torch.randn(3, 4)), torch.randn(3, 2)) / 4
                loss.backward()
                scaled[-1].append(loss.item())
            opt.step()
    run = gs.open_store(tmp_store)
    rows = run.step_rows()
    assert [r.step for r in rows] == [0, 1]
    assert [r.n_backward for r in rows] == [4, 4]
    assert [r.loss for r in rows] == close_to([sum(s) for s in scaled])
    for name in ("fc1.weight", "fc3.bias"):
        assert run.series("grad_norm", name) == ([0, 1], close_to([s[name] for s in seen]))


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 6)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(6, 6)

    def forward(self, x: Tensor) -> Tensor:
        out = self.fc2(self.act(self.fc1(x)))
        out += x
        return out


class ResNetish(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(4, 6)
        self.block = Residual()
        self.head = nn.Linear(6, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.block(self.inp(x)))


def test_inplace_ops_train_and_record_output_gradients(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = ResNetish()
    reference = copy.deepcopy(model)
    x, y = torch.randn(5, 4), torch.randn(5, 2)

    # Out-of-place reference with retained gradients of every module output.
    r = reference
    a = r.inp(x)
    z1 = r.block.fc1(a)
    h = torch.relu(z1)
    b = r.block.fc2(h) + a
    out = r.head(b)
    for t in (a, z1, h, b, out):
        t.retain_grad()
    F.mse_loss(out, y).backward()
    expected = {
        "inp": a.grad,
        "block.fc1": z1.grad,
        "block.act": h.grad,
        "block.fc2": b.grad,  # ``out += x`` passes the gradient through unchanged
        "block": b.grad,
        "head": out.grad,
    }
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1)
    ref_opt.step()
    step(reference, ref_opt, x, y)

    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt, store=tmp_store, detail_every=1):
        step(model, opt, x, y)
        step(model, opt, x, y)
    run = gs.open_store(tmp_store)
    for path, grad in expected.items():
        steps, values = run.series("out_grad_norm", module=path)
        assert steps == [0, 1], path
        assert values[0] == close_to(float(grad.norm())), path
    assert run.module_latest("block.act").values["act_zero_frac"] > 0  # the ReLU did zero units
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        assert torch.allclose(p, q, rtol=1e-6, atol=1e-7), name


def test_all_nan_gradient_is_counted_not_fatal(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt, store=tmp_store, detail_every=1):
        opt.zero_grad()
        (model(torch.randn(5, 4)).sum() * float("nan")).backward()
        opt.step()
    assert torch.isnan(model.weight.grad).all()
    run = gs.open_store(tmp_store)
    assert run.steps == [0]
    for name, numel in (("weight", 12), ("bias", 3)):
        latest = run.latest(name)
        assert latest["grad_nan"] == numel
        assert latest["grad_inf"] == 0
        hist = run.histogram(name, kind="grad")
        assert hist is not None
        assert hist.nan == hist.sampled == numel
        assert hist.posinf == hist.neginf == hist.zeros == 0
        assert set(hist.counts) == {0} and len(hist.counts) == 32


def test_nan_loss_and_grad_norm_read_back_as_nan(tmp_store: Path) -> None:
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt, store=tmp_store):
        opt.zero_grad()
        (model(torch.randn(5, 4)).sum() * float("nan")).backward()
        opt.step()
    run = gs.open_store(tmp_store)
    steps, losses = run.series("loss")
    assert steps == [0] and math.isnan(losses[0])
    steps, norms = run.series("grad_norm", "weight")
    assert steps == [0] and math.isnan(norms[0])


class Exposed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(6))

    def forward(self, c: Tensor) -> Tensor:
        return (self.w * c).sum()  # d/dw = c


def test_infinite_gradient_counted_in_grad_inf(tmp_store: Path) -> None:
    model = Exposed()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    c = torch.tensor([1.0, math.inf, -2.0, math.inf, -math.inf, 0.0])
    with gs.watch(model, opt, store=tmp_store, detail_every=1):
        opt.zero_grad()
        model(c).backward()
        assert torch.equal(model.w.grad, c)
        opt.step()
    run = gs.open_store(tmp_store)
    latest = run.latest("w")
    assert latest["grad_inf"] == 3
    assert latest["grad_nan"] == 0
    assert latest["grad_max"] == math.inf and latest["grad_min"] == -math.inf
    hist = run.histogram("w", kind="grad")
    assert (hist.posinf, hist.neginf, hist.nan, hist.zeros) == (2, 1, 0, 1)
    assert sum(hist.counts) == 3 and (hist.lo, hist.hi) == (-2.0, 1.0)


# -- what gets recorded, and when ---------------------------------------------------------------


def test_every_three_logs_grads_on_0_3_6_and_detail_on_every_second_logged_step(
    tmp_store: Path,
) -> None:
    torch.manual_seed(0)
    model = Three()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    seen = grad_norms_before_step(opt, model)
    losses = []
    with gs.watch(model, opt, store=tmp_store, every=3, detail_every=2):
        for _ in range(8):
            losses.append(step(model, opt, torch.randn(6, 4), torch.randn(6, 2)))
    run = gs.open_store(tmp_store)
    assert run.series("loss") == (list(range(8)), close_to(losses))
    logged, detail = [0, 3, 6], [0, 6]
    rows = run.step_rows()
    assert [r.logged for r in rows] == [s in logged for s in range(8)]
    assert [r.detail_reason for r in rows] == ["cadence" if s in detail else None for s in range(8)]
    expected = close_to([seen[s]["fc2.weight"] for s in logged])
    assert run.series("grad_norm", "fc2.weight") == (logged, expected)
    assert run.series("grad_absmax", "fc2.weight")[0] == logged
    with closing(sqlite3.connect(tmp_store)) as conn:
        grouped = [s for (s,) in conn.execute("SELECT DISTINCT step FROM group_stats ORDER BY 1")]
    assert grouped == logged
    for metric in ("weight_norm", "update_norm", "update_ratio", "state.momentum_buffer.norm"):
        assert run.series(metric, "fc2.weight")[0] == detail, metric
    hists = [
        run.histogram("fc2.weight", kind, step=s) for kind in ("grad", "weight") for s in range(8)
    ]
    assert sorted({h.step for h in hists if h is not None}) == detail
    assert run.series("act_mean", "fc2")[0] == detail


def test_scope_log_records_scalars_and_overrides_loss(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = Three()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    with gs.watch(model, opt, store=tmp_store) as scope:
        for i in range(3):
            opt.zero_grad()
            loss = F.mse_loss(model(torch.randn(6, 4)), torch.randn(6, 2))
            loss.backward()
            losses.append(loss.item())
            assert scope.step == i
            if i == 1:
                scope.log(loss=1.5, acc=0.9)
            if i == 2:
                scope.log(acc=torch.tensor(0.25))
            opt.step()
    run = gs.open_store(tmp_store)
    assert run.series("acc") == ([1, 2], [0.9, 0.25])
    steps, recorded = run.series("loss")
    assert steps == [0, 1, 2]
    assert recorded == close_to([losses[0], 1.5, losses[2]])
    assert run.step_rows()[1].scalars == {"acc": 0.9}


def test_scalars_logged_after_the_last_step_are_kept(tmp_store: Path) -> None:
    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt, store=tmp_store) as scope:
        for i in range(2):
            opt.zero_grad()
            model(torch.randn(3, 2)).sum().backward()
            opt.step()
            scope.log(acc=float(i))
    run = gs.open_store(tmp_store)
    assert sorted(run.series("acc")[1]) == [0.0, 1.0]


def test_without_optimizer_each_backward_is_a_step(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = Three()
    norms, losses, weights = [], [], []
    with gs.watch(model, store=tmp_store, detail_every=1) as scope:
        for _ in range(3):
            model.zero_grad()
            weights.append(float(model.fc1.weight.detach().norm()))
            loss = F.mse_loss(model(torch.randn(6, 4)), torch.randn(6, 2))
            loss.backward()
            losses.append(loss.item())
            norms.append(float(model.fc1.weight.grad.norm()))
            with torch.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
        assert scope.step == 3
    run = gs.open_store(tmp_store)
    assert run.steps == [0, 1, 2]
    assert [r.n_backward for r in run.step_rows()] == [1, 1, 1]
    assert run.series("loss") == ([0, 1, 2], close_to(losses))
    assert run.series("grad_norm", "fc1.weight") == ([0, 1, 2], close_to(norms))
    assert run.series("weight_norm", "fc1.weight") == ([0, 1, 2], close_to(weights))
    assert run.optimizers == []
    assert run.series("lr") == ([], [])


class Critic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.leaky_relu(self.fc1(x), 0.2))


class Generator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 3)

    def forward(self, z: Tensor) -> Tensor:
        return torch.tanh(self.lin(z))


def test_two_models_two_optimizers_two_stores(tmp_path: Path) -> None:
    torch.manual_seed(0)
    gen, disc = Generator(), Critic()
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3)
    bce = F.binary_cross_entropy_with_logits
    losses_d, losses_g = [], []
    with (
        gs.watch(gen, opt_g, store=tmp_path / "g.gsdb") as scope_g,
        gs.watch(disc, opt_d, store=tmp_path / "d.gsdb") as scope_d,
    ):
        for _ in range(3):
            real, z = torch.randn(4, 3), torch.randn(4, 2)
            opt_d.zero_grad()
            fake = gen(z)
            loss_d = bce(disc(real), torch.ones(4, 1)) + bce(disc(fake.detach()), torch.zeros(4, 1))
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            loss_g = bce(disc(fake), torch.ones(4, 1))  # also reaches the critic's weights
            loss_g.backward()
            opt_g.step()
            losses_d.append(loss_d.item())
            losses_g.append(loss_g.item())
        assert (scope_g.step, scope_d.step) == (3, 3)
    run_g = gs.open_store(tmp_path / "g.gsdb")
    run_d = gs.open_store(tmp_path / "d.gsdb")
    assert run_g.params == ["lin.weight", "lin.bias"]
    assert run_d.params == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert run_g.series("loss") == ([0, 1, 2], close_to(losses_g))
    assert run_d.series("loss") == ([0, 1, 2], close_to(losses_d))
    assert run_g.optimizer.type == run_d.optimizer.type == "Adam"
    assert run_g.series("grad_norm", "lin.weight")[0] == [0, 1, 2]
    assert run_d.series("grad_norm", "fc2.weight")[0] == [0, 1, 2]


FILTERS = [
    ({"include": ["fc1"]}, ["fc1.weight", "fc1.bias"]),
    ({"exclude": ["fc2.*"]}, ["fc1.weight", "fc1.bias", "fc3.weight", "fc3.bias"]),
]


def _filtered_run(store: Path, options: dict[str, Any], with_optimizer: bool) -> gs.Run:
    torch.manual_seed(0)
    model = Three()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with gs.watch(model, opt if with_optimizer else None, store=store, detail_every=1, **options):
        for _ in range(2):
            step(model, opt, torch.randn(6, 4), torch.randn(6, 2))
    return gs.open_store(store)


@pytest.mark.parametrize("with_optimizer", [False, True])
@pytest.mark.parametrize(("options", "params"), FILTERS)
def test_include_exclude_record_only_matching_params(
    options: dict[str, Any], params: list[str], with_optimizer: bool, tmp_store: Path
) -> None:
    run = _filtered_run(tmp_store, options, with_optimizer=with_optimizer)
    assert run.params == params  # the optimizer's other parameters do not sneak back in
    assert run.series("grad_norm", params[0])[0] == [0, 1]
    if "include" in options:  # modules follow the same patterns
        assert run.module_latest("fc1") is not None
        assert run.module_latest("fc2") is None and run.module_latest("fc3") is None


# -- wrong input --------------------------------------------------------------------------------


def test_watch_rejects_a_list_with_a_clear_type_error(tmp_store: Path) -> None:
    with pytest.raises(TypeError) as info:
        gs.watch([1, 2], store=tmp_store)  # type: ignore[arg-type]
    assert str(info.value).startswith(
        "gradscope.watch expects an nn.Module as its first argument, got list;"
    )
    assert not tmp_store.exists()


def test_watch_rejects_none_as_the_model(tmp_store: Path) -> None:
    with pytest.raises(TypeError) as info:
        gs.watch(None, store=tmp_store)  # type: ignore[arg-type]
    assert "expects an nn.Module as its first argument, got None" in str(info.value)
    assert not tmp_store.exists()


@pytest.mark.parametrize("bad", [[3], "adam", [None]])
def test_watch_names_the_optimizer_that_is_not_one(tmp_store: Path, bad: object) -> None:
    model = nn.Linear(2, 2)
    opts = [torch.optim.SGD(model.parameters(), lr=0.1), *bad] if isinstance(bad, list) else bad
    with pytest.raises(TypeError) as info:
        gs.watch(model, opts, store=tmp_store)  # type: ignore[arg-type]
    message = str(info.value)
    if isinstance(bad, list):
        got = type(bad[0]).__name__
        assert f"but item 1 is {got} ({bad[0]!r})" in message
    else:
        assert message.endswith("a torch.optim.Optimizer or a list of them, got str")
    assert "\n" not in message
    assert not tmp_store.exists()


def test_watch_rejects_every_zero(tmp_store: Path) -> None:
    with pytest.raises(GradscopeError) as info:
        gs.watch(nn.Linear(2, 2), every=0, store=tmp_store)
    assert isinstance(info.value, ValueError)
    assert "every must be a positive integer" in str(info.value)
    assert "every=0" in str(info.value)
    assert not tmp_store.exists()


def test_models_trained_one_after_the_other_each_get_their_steps(tmp_store: Path) -> None:
    """One optimizer per phase (a tutorial's successive models, a per-layer optimizer): the
    second phase's steps are steps of their own, not folded into the first phase's last."""
    torch.manual_seed(0)
    first, second = nn.Linear(4, 1), nn.Linear(4, 1)
    models = nn.ModuleDict({"first": first, "second": second})
    opt_first = torch.optim.SGD(first.parameters(), lr=0.05)
    opt_second = torch.optim.SGD(second.parameters(), lr=0.05)
    losses = []
    with gs.watch(models, [opt_first, opt_second], store=tmp_store) as scope:
        for model, opt in ((first, opt_first), (second, opt_second)):
            for _ in range(6):
                x = torch.randn(8, 4)
                opt.zero_grad()
                loss = F.mse_loss(model(x), x.sum(1, keepdim=True))
                loss.backward()
                opt.step()
                losses.append(loss.item())
        assert scope.step == 11  # the second phase's first step trails the first phase's last
    run = gs.open_store(tmp_store)
    steps, values = run.series("loss")
    assert steps == list(range(11))
    assert values[-5:] == close_to(losses[-5:])
    steps, _ = run.series("grad_norm", "second.weight")
    assert steps[-5:] == list(range(6, 11))


def test_a_gan_keeps_the_first_optimizer_as_the_clock(tmp_store: Path) -> None:
    """Optimizers that alternate step together: one step per round, whatever their order."""
    torch.manual_seed(0)
    gen, disc = Generator(), Critic()
    opt_g = torch.optim.Adam(gen.parameters(), lr=1e-3)
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-3)
    bce = F.binary_cross_entropy_with_logits
    with gs.watch(nn.ModuleDict({"g": gen, "d": disc}), [opt_g, opt_d], store=tmp_store) as scope:
        for _ in range(5):
            real, z = torch.randn(4, 3), torch.randn(4, 2)
            opt_g.zero_grad()
            bce(disc(gen(z)), torch.ones(4, 1)).backward()
            opt_g.step()
            opt_d.zero_grad()
            fake = gen(z).detach()
            loss_d = bce(disc(real), torch.ones(4, 1)) + bce(disc(fake), torch.zeros(4, 1))
            loss_d.backward()
            opt_d.step()
        assert scope.step == 5
