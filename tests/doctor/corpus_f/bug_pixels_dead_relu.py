# expect: dead-relu @ 1
"""MLP on [0, 1] pixels with SGD lr=3.0: the first big steps kill every unit of ReLU 1."""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class HParams:
    lr: float = 3.0
    momentum: float = 0.9
    batch: int = 64
    steps: int = 80


torch.manual_seed(0)
hp = HParams()
images = torch.rand(2048, 64)  # 8x8 "images", already scaled to [0, 1]
labels = (images @ torch.randn(64, 10)).argmax(1)

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
opt = torch.optim.SGD(model.parameters(), lr=hp.lr, momentum=hp.momentum)

for step in range(hp.steps):
    idx = torch.randint(0, len(images), (hp.batch,))
    opt.zero_grad()
    loss = F.cross_entropy(model(images[idx]), labels[idx])
    loss.backward()
    opt.step()
    if step % 20 == 0:
        print(f"step {step} loss {loss.item():.3f}")
