# expect: clean
"""Batch size 2 and plain SGD: every loss is a noisy sample; the trend is slow under the noise."""

import torch
import torch.nn as nn

torch.manual_seed(19)
net = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 1))
opt = torch.optim.SGD(net.parameters(), lr=0.01)
for _step in range(60):
    x = torch.randn(2, 5)
    y = x.sum(1, keepdim=True) + 0.5 * torch.randn(2, 1)
    loss = nn.functional.mse_loss(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
