# expect: zero-gradient-flow @ torch.sign
"""A binarised layer uses torch.sign without a straight-through estimator."""

import torch
from torch import nn


class BinaryNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 32)
        self.fc2 = nn.Linear(32, 1)

    def forward(self, x):
        h = torch.sign(self.fc1(x))
        return self.fc2(h)


torch.manual_seed(0)
net = BinaryNet()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
for _step in range(15):
    x = torch.randn(64, 16)
    opt.zero_grad()
    loss = nn.functional.mse_loss(net(x), x[:, :1])
    loss.backward()
    opt.step()
