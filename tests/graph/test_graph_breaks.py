"""The graph-break report names the right module and reason (issue 3, acceptance)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import gradscope.graph as gg


class Net(nn.Module):
    """fc1 → fc2 → fc3, with ``cut`` choosing how fc1's output leaves the graph."""

    def __init__(self, cut: str = "none") -> None:
        super().__init__()
        self.cut = cut
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 8)
        self.fc3 = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.cut == "no-grad":
            with torch.no_grad():
                h = self.fc1(x)
        else:
            h = self.fc1(x)
        if self.cut == "detach":
            h = h.detach()
        elif self.cut == "data":
            h = h.data
        elif self.cut == "numpy":
            h = torch.from_numpy(h.detach().numpy() * 1.0)
        elif self.cut == "item":
            h = torch.ones_like(h) * h.mean().item()
        return self.fc3(torch.relu(self.fc2(h)))


def breaks_of(model: nn.Module, x: torch.Tensor) -> dict[str, tuple[str, str]]:
    graph = gg.capture_graph(lambda: model(x).sum(), model=model, depth=None)
    return {b.param: (b.module, b.reason) for b in graph.breaks}


@pytest.fixture
def x() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.randn(3, 4)


@pytest.mark.parametrize("cut", ["detach", "data", "numpy", "item", "no-grad"])
def test_a_cut_names_the_module_and_how(cut: str, x: torch.Tensor) -> None:
    assert breaks_of(Net(cut), x) == {"fc1.weight": ("fc1", cut), "fc1.bias": ("fc1", cut)}


def test_the_message_says_what_to_do(x: torch.Tensor) -> None:
    model = Net("detach")
    graph = gg.capture_graph(lambda: model(x).sum(), model=model, depth=None)
    (first, _) = graph.breaks
    assert first.code == "graph-break"
    assert first.detail == (
        "the output of fc1 was cut from the graph by .detach() in the model's forward, "
        "so fc1.weight gets no gradient"
    )


def test_a_correct_model_has_no_breaks(x: torch.Tensor) -> None:
    assert breaks_of(Net(), x) == {}


def test_unused_submodule_never_ran(x: torch.Tensor) -> None:
    model = Net()
    model.aux = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2))
    found = breaks_of(model, x)
    assert set(found) == {"aux.0.weight", "aux.0.bias", "aux.2.weight", "aux.2.bias"}
    assert set(found.values()) == {("aux", "never-ran")}


def test_frozen_layer(x: torch.Tensor) -> None:
    model = Net()
    model.fc2.requires_grad_(False)
    assert breaks_of(model, x) == {
        "fc2.weight": ("fc2", "frozen"),
        "fc2.bias": ("fc2", "frozen"),
    }


def test_cut_inside_a_submodule_names_that_module(x: torch.Tensor) -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Linear(4, 4)

        def forward(self, t: torch.Tensor) -> torch.Tensor:
            return self.inner(t).detach() + t

    model = nn.Sequential(Block(), nn.Linear(4, 2))
    assert breaks_of(model, x) == {
        "0.inner.weight": ("0.inner", "detach"),
        "0.inner.bias": ("0.inner", "detach"),
    }


def test_module_list_and_attention_projection_are_not_reported(x: torch.Tensor) -> None:
    """Containers never run and MultiheadAttention uses out_proj's weights without calling it:
    neither is a break."""
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    assert breaks_of(model, torch.randn(2, 3, 8)) == {}


def test_output_computed_but_unused(x: torch.Tensor) -> None:
    class TwoHeads(Net):
        def __init__(self) -> None:
            super().__init__()
            self.head2 = nn.Linear(8, 2)

        def forward(self, t: torch.Tensor) -> torch.Tensor:
            self.head2(self.fc1(t))  # computed, then dropped
            return super().forward(t)

    assert breaks_of(TwoHeads(), x) == {
        "head2.weight": ("head2", "output-unused"),
        "head2.bias": ("head2", "output-unused"),
    }


def test_without_a_recorded_forward_the_report_says_how_to_get_reasons(x: torch.Tensor) -> None:
    model = Net("detach")
    graph = gg.capture_graph(model(x).sum(), model=model, depth=None)
    assert {(b.param, b.reason) for b in graph.breaks} == {
        ("fc1.weight", "unknown"), ("fc1.bias", "unknown"),
    }  # fmt: skip
    assert "record_modules" in graph.breaks[0].detail
    assert any("module attribution needs a recorded forward" in n for n in graph.notes)


def test_record_modules_by_hand(x: torch.Tensor) -> None:
    model = Net("numpy")
    with gg.record_modules(model) as rec:
        loss = model(x).sum()
    assert rec.finished and {c.kind for c in rec.cuts} == {"numpy"}
    graph = gg.capture_graph(loss, model=model, record=rec, depth=None)
    assert {b.reason for b in graph.breaks} == {"numpy"}
