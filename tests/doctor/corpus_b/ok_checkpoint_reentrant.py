# expect: clean
"""Reentrant activation checkpointing (use_reentrant=True) over a CNN's two stages."""

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

torch.manual_seed(52)
stage1 = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
stage2 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
fc = nn.Linear(32, 4)
params = [*stage1.parameters(), *stage2.parameters(), *fc.parameters()]
opt = torch.optim.Adam(params, lr=2e-3)
for _step in range(25):
    images = torch.randn(16, 3, 12, 12, requires_grad=True)
    labels = (images[:, 0].mean((1, 2)) > 0).long() + 2 * (images[:, 1].mean((1, 2)) > 0).long()
    h = checkpoint(stage1, images, use_reentrant=True)
    h = checkpoint(stage2, h, use_reentrant=True)
    loss = nn.functional.cross_entropy(fc(h.flatten(1)), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
