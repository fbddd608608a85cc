# expect: vanishing-gradients @ blocks.0.fc.weight
"""Residual-free blocks of Linear + Sigmoid, twelve deep: the gradient dies on the way down."""

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.act = nn.Sigmoid()

    def forward(self, x):
        return self.act(self.fc(x))


class DeepNet(nn.Module):
    def __init__(self, width=40, depth=12):
        super().__init__()
        self.inp = nn.Linear(10, width)
        self.blocks = nn.ModuleList(Block(width) for _ in range(depth))
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        x = self.inp(x)
        for block in self.blocks:
            x = block(x)
        return self.out(x)


torch.manual_seed(0)
model = DeepNet()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for _step in range(12):
    x = torch.randn(64, 10)
    opt.zero_grad()
    loss = nn.functional.mse_loss(model(x), x[:, :1] - x[:, 1:2])
    loss.backward()
    opt.step()
