# expect: clean
"""Dropout feeds a Linear, whose output then goes into BatchNorm1d."""

import torch
from torch import nn

torch.manual_seed(49)
net = nn.Sequential(
    nn.Linear(20, 64),
    nn.BatchNorm1d(64),
    nn.ReLU(),
    nn.Dropout(0.3),
    nn.Linear(64, 64),
    nn.BatchNorm1d(64),
    nn.ReLU(),
    nn.Linear(64, 2),
)
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
for _step in range(40):
    x = torch.randn(64, 20)
    y = (x[:, :10].sum(1) > 0).long()
    loss = nn.functional.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
