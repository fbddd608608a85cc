# expect: clean
"""A gated MLP (sigmoid gates inside) whose final linear output goes to BCEWithLogitsLoss."""

import torch
import torch.nn as nn


class GatedBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.value = nn.Linear(d, d)
        self.gate = nn.Linear(d, d)

    def forward(self, x):
        return self.value(x) * torch.sigmoid(self.gate(x))


torch.manual_seed(42)
net = nn.Sequential(nn.Linear(10, 32), GatedBlock(32), nn.Linear(32, 1))
crit = nn.BCEWithLogitsLoss()
opt = torch.optim.Adam(net.parameters(), lr=3e-3)
for _step in range(40):
    x = torch.randn(64, 10)
    y = ((x[:, 0] * x[:, 1]) > 0).float().unsqueeze(1)
    loss = crit(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
