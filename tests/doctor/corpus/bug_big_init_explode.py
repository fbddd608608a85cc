# expect: exploding-gradients @ out.weight
"""A deep MLP initialised with std=1 weights (no fan-in scaling) and a high learning rate."""

import torch
from torch import nn


class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(64, 64) for _ in range(6)])
        self.out = nn.Linear(64, 1)
        for lin in self.layers:
            nn.init.normal_(lin.weight, std=1.0)

    def forward(self, x):
        for lin in self.layers:
            x = torch.relu(lin(x))
        return self.out(x)


torch.manual_seed(0)
model = Deep()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for _step in range(10):
    x = torch.randn(32, 64)
    y = x[:, :1]
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    opt.step()
