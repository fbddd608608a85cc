"""Train a 784-256-10 MLP, the MNIST tutorial network, on synthetic pixel-like data.

The inputs are 784 correlated features and the labels come from a hidden linear teacher
(see gradscope.demo.tasks.mlp_batches), so nothing is downloaded and the loss goes down.

    python demos/mlp.py --steps 200
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import gradscope as gs
from gradscope.demo.models import MLP
from gradscope.demo.tasks import mlp_batches


def main() -> None:
    parser = argparse.ArgumentParser(description="MLP 784-256-10 on synthetic data.")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--store", default="runs/demo-mlp.gsdb")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    batches = mlp_batches(torch.Generator().manual_seed(0), batch_size=64)

    with gs.watch(model, optimizer, store=args.store) as scope:
        for step in range(args.steps):
            inputs, labels = next(batches)

            optimizer.zero_grad()
            loss = loss_fn(model(inputs), labels)
            loss.backward()
            optimizer.step()

            if step % 50 == 0 or step == args.steps - 1:
                print(f"step {step:4d}  loss {loss.item():.4f}")

    scope.report()


if __name__ == "__main__":
    main()
