# expect: grad-not-zeroed @ optimizer0:Adam
"""Accumulates 4 micro-batches per step, but the zero_grad() was dropped in a refactor."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1)
net = nn.Sequential(nn.Linear(10, 32), nn.Tanh(), nn.Linear(32, 3))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
X = torch.randn(512, 10)
Y = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
ACCUM = 4
for _step in range(40):
    for _micro in range(ACCUM):
        idx = torch.randint(0, 512, (16,))
        loss = F.cross_entropy(net(X[idx]), Y[idx]) / ACCUM
        loss.backward()
    opt.step()
