"""Train LeNet-5 from the PyTorch "Neural Networks" tutorial on synthetic 32×32 images.

Each image is one of ten fixed smooth patterns buried in noise, and the label says which
(see gradscope.demo.tasks.lenet_batches), so nothing is downloaded and the loss goes down.

    python demos/lenet.py --steps 200
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import gradscope as gs
from gradscope.demo.models import LeNet
from gradscope.demo.tasks import lenet_batches


def main() -> None:
    parser = argparse.ArgumentParser(description="LeNet-5 on synthetic 1×32×32 images.")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--store", default="runs/demo-lenet.gsdb")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = LeNet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    batches = lenet_batches(torch.Generator().manual_seed(0), batch_size=64)

    with gs.watch(model, optimizer, store=args.store) as scope:
        for step in range(args.steps):
            images, labels = next(batches)

            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()

            if step % 50 == 0 or step == args.steps - 1:
                print(f"step {step:4d}  loss {loss.item():.4f}")

    scope.report()


if __name__ == "__main__":
    main()
