"""Three classic reasons a layer never learns, and how the autograd graph shows them.

The model below trains, the loss even goes down, yet three of its layers never change:
``encoder`` is cut by ``.detach()``, ``aux`` is never called, and ``frozen`` has
``requires_grad=False``. Run it with gradscope drawing the first step:

    gradscope graph demos/graph_breaks.py -o graph.svg --tree

or directly, which prints the same break report from ``gs.capture_graph``:

    python demos/graph_breaks.py --steps 20
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from gradscope.graph import capture_graph


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(8, 16)
        self.frozen = nn.Linear(16, 16)
        self.head = nn.Linear(16, 2)
        self.aux = nn.Linear(16, 2)  # meant for an auxiliary loss that was never written
        self.frozen.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.encoder(x)).detach()  # a leftover from debugging
        return self.head(torch.relu(self.frozen(h)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()

    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.randn(64, 8), torch.randint(0, 2, (64,))

    graph = capture_graph(lambda: loss_fn(model(x), y), model=model)
    for b in graph.breaks:
        print(f"{b.reason:>9}  {b.param:<16} {b.detail}")

    for step in range(args.steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if step % 20 == 0:
            print(f"step {step:3d}  loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
