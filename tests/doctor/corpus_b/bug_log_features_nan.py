# expect: nonfinite-forward @ logf
"""A feature transform takes torch.log of raw (possibly negative) inputs inside the model."""

import torch
from torch import nn


class LogFeatures(nn.Module):
    def forward(self, x):
        return torch.log(x + 1.0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.logf = LogFeatures()
        self.body = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x):
        return self.body(self.logf(x))


torch.manual_seed(50)
net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for _step in range(20):
    x = torch.randn(32, 4) * 2
    loss = nn.functional.mse_loss(net(x), x[:, :1])
    opt.zero_grad()
    loss.backward()
    opt.step()
