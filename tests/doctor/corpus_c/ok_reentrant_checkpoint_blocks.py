# expect: clean
"""Residual MLP whose blocks run through reentrant torch.utils.checkpoint."""

import torch
import torch.utils.checkpoint as cp
from torch import nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))

    def forward(self, x):
        return x + self.ff(self.norm(x))


class CheckpointedNet(nn.Module):
    def __init__(self, d_in=10, d=32, n_blocks=4):
        super().__init__()
        self.inp = nn.Linear(d_in, d)
        self.blocks = nn.ModuleList(Block(d) for _ in range(n_blocks))
        self.out = nn.Linear(d, 1)

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = cp.checkpoint(block, h, use_reentrant=True)
        return self.out(h)


torch.manual_seed(0)
net = CheckpointedNet()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for _ in range(40):
    x = torch.randn(32, 10)
    y = x.sin().sum(1, keepdim=True)
    opt.zero_grad()
    loss = nn.functional.mse_loss(net(x), y)
    loss.backward()
    opt.step()
print("loss", loss.item())
