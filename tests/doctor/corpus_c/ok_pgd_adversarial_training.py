# expect: clean
"""PGD adversarial training: the perturbation is a leaf requiring grad, updated by hand."""

import torch
import torch.nn.functional as F
from torch import nn


def pgd(model, x, y, eps=0.3, alpha=0.1, steps=3):
    delta = torch.zeros_like(x).uniform_(-eps, eps).requires_grad_(True)
    for _ in range(steps):
        loss = F.cross_entropy(model(x + delta), y)
        loss.backward()
        with torch.no_grad():
            delta += alpha * delta.grad.sign()
            delta.clamp_(-eps, eps)
        delta.grad.zero_()
    return delta.detach()


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for step in range(40):
    x = torch.randn(128, 2)
    y = (x[:, 0] ** 2 + x[:, 1] ** 2 > 1.4).long()
    delta = pgd(model, x, y)
    opt.zero_grad()
    loss = F.cross_entropy(model(x + delta), y)
    loss.backward()
    opt.step()
    if step % 10 == 0:
        print(step, round(loss.item(), 4))
