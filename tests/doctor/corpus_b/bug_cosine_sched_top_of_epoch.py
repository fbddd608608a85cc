# expect: scheduler-order @ CosineAnnealingLR
"""train() steps the CosineAnnealingLR scheduler first thing in every epoch, before any batch."""

import torch
from torch import nn


def train(model, optimizer, scheduler, epochs=5, steps=8):
    for _epoch in range(epochs):
        scheduler.step()
        for _ in range(steps):
            x = torch.randn(32, 4)
            y = x.norm(dim=1, keepdim=True)
            loss = nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


torch.manual_seed(34)
net = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 1))
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
train(net, opt, torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5))
