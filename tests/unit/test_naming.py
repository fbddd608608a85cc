"""Parameters are named as the user's code names them, wherever they reach the scope from."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import gradscope as gs
from gradscope.capture.naming import caller_names, owners, variable_names
from gradscope.doctor import diagnose


def test_variable_names_keep_the_first_binding_and_skip_losses_and_private() -> None:
    net_sgd = nn.Linear(2, 2)
    net = net_sgd  # a loop variable bound later to the same module
    criterion = nn.MSELoss()
    _hidden = torch.zeros(1)
    w = torch.zeros(1, requires_grad=True)
    tensors, modules = variable_names([{"net_sgd": net_sgd, "net": net, "criterion": criterion,
                                        "_hidden": _hidden, "w": w, "n": 3}])  # fmt: skip
    assert tensors == {id(w): "w"}
    assert [(k, m) for k, m in modules] == [("net_sgd", net_sgd)]


def test_owners_gives_each_tensor_to_the_first_module_holding_it() -> None:
    embed, gru = nn.Embedding(4, 2), nn.GRU(2, 3)
    both = nn.ModuleList([embed, gru])
    params = list(gru.parameters()) + list(embed.parameters())
    assert owners(params, [("embed", embed), ("gru", gru), ("both", both)]) == [
        ("embed", embed),
        ("gru", gru),
    ]
    assert owners(params, [("both", both), ("embed", embed)]) == [("both", both)]


def test_caller_names_qualify_module_parameters() -> None:
    head = nn.Linear(2, 1)
    scale = torch.ones(1, requires_grad=True)
    names = caller_names(sys._getframe())
    assert names[id(head.weight)] == "head.weight"
    assert names[id(scale)] == "scale"


def test_optimizer_parameters_outside_the_model_take_the_callers_names(
    tmp_store: Path,
) -> None:
    torch.manual_seed(0)
    body = nn.Linear(3, 4)
    head = nn.Linear(4, 1)
    temperature = torch.ones(1, requires_grad=True)
    opt = torch.optim.SGD([*body.parameters(), *head.parameters(), temperature], lr=0.1)
    with gs.watch(body, opt, store=tmp_store) as scope:
        for _ in range(2):
            opt.zero_grad()
            (head(body(torch.randn(5, 3))) * temperature).pow(2).mean().backward()
            opt.step()
        assert scope.param_names == ["weight", "bias", "head.weight", "head.bias", "temperature"]
    run = gs.open_store(tmp_store)
    assert run.param_info["head.weight"].module == "head"
    assert run.series("grad_norm", "temperature")[0] == [0, 1]
    assert [a for a in diagnose(run) if a.severity != "info"] == []


def test_add_param_group_mid_run_is_recorded_and_named(tmp_store: Path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    with gs.watch(model, opt, store=tmp_store, detail_every=1):
        adapter = None
        for step in range(5):
            if step == 2:
                adapter = nn.Linear(1, 1)
                opt.add_param_group({"params": adapter.parameters(), "lr": 0.001})
            out = model(torch.randn(6, 3))
            if adapter is not None:
                out = adapter(out)
            opt.zero_grad()
            out.pow(2).mean().backward()
            opt.step()
    run = gs.open_store(tmp_store)
    assert run.params[-2:] == ["adapter.weight", "adapter.bias"]
    groups = run.optimizers[0].groups
    assert [g.params for g in groups][1] == ("adapter.weight", "adapter.bias")
    assert groups[1].hparams["lr"] == 0.001
    assert run.series("grad_norm", "adapter.weight")[0] == [2, 3, 4]
    assert run.series("state.exp_avg.norm", "adapter.weight")[0] == [2, 3, 4]
    assert run.series("update_norm", "adapter.weight")[0] == [2, 3, 4]
    assert [a.code for a in diagnose(run) if a.severity != "info"] == []


@pytest.mark.parametrize("unfreeze", [True, False])
def test_a_group_of_model_parameters_added_later_is_owned(tmp_store: Path, unfreeze: bool) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    model[1].requires_grad_(not unfreeze)
    opt = torch.optim.SGD(model[0].parameters(), lr=0.1)
    with gs.watch(model, opt, store=tmp_store, detail_every=1):
        for step in range(4):
            if step == 1:
                model[1].requires_grad_(True)
                opt.add_param_group({"params": model[1].parameters()})
            opt.zero_grad()
            model(torch.randn(6, 3)).pow(2).mean().backward()
            opt.step()
    run = gs.open_store(tmp_store)
    assert [g.params for g in run.optimizers[0].groups] == [
        ("0.weight", "0.bias"), ("1.weight", "1.bias")
    ]  # fmt: skip
    assert run.series("update_norm", "1.weight")[0] == [1, 2, 3]
    codes = [a.code for a in diagnose(run) if a.severity != "info"]
    assert "param-not-in-optimizer" not in codes
