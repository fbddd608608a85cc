"""Fit y = 3x + 0.8 with a single linear layer and record what autograd did.

With one weight and one bias, every gradient in the recording can be checked by hand:
d(loss)/dw = 2·mean((wx + b - y)·x) and d(loss)/db = 2·mean(wx + b - y).

    python demos/linreg.py --steps 200
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import gradscope as gs
from gradscope.demo.models import LinearRegression


def main() -> None:
    parser = argparse.ArgumentParser(description="Linear regression on y = 3x + 0.8.")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--store", default="runs/demo-linreg.gsdb")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = LinearRegression()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()

    with gs.watch(model, optimizer, store=args.store) as scope:
        for step in range(args.steps):
            x = torch.rand(64, 1) * 2 - 1
            y = 3 * x + 0.8 + 0.1 * torch.randn(64, 1)

            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()

            if step % 50 == 0 or step == args.steps - 1:
                print(f"step {step:4d}  loss {loss.item():.4f}")

    weight = model.linear.weight.item()
    bias = model.linear.bias.item()
    print(f"learned y = {weight:.3f}x + {bias:.3f}  (true: y = 3x + 0.8)")
    scope.report()


if __name__ == "__main__":
    main()
