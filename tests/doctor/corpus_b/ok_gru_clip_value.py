# expect: clean
"""Sequence regression with a GRU, clip_grad_value_ on every step, Adam."""

import math

import torch
from torch import nn

torch.manual_seed(5)


class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(1, 24, batch_first=True)
        self.head = nn.Linear(24, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


model = Seq()
optim = torch.optim.Adam(model.parameters(), lr=3e-3)
for _step in range(40):
    phase = torch.rand(32, 1) * 2 * math.pi
    t = torch.linspace(0, 3, 20)
    x = torch.sin(phase + t).unsqueeze(-1)
    y = torch.sin(phase + 3.15)
    loss = nn.functional.mse_loss(model(x), y)
    optim.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), 0.1)
    optim.step()
