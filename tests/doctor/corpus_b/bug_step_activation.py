# expect: graph-break @ fc1
"""A "binary neuron" layer written as (h > 0).float(): the comparison cuts fc1 from the loss."""

import torch
from torch import nn


class BinaryNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.fc2 = nn.Linear(32, 1)

    def forward(self, x):
        h = (self.fc1(x) > 0).float()
        return self.fc2(h)


torch.manual_seed(56)
net = BinaryNet()
opt = torch.optim.SGD(net.parameters(), lr=0.05)
for _step in range(30):
    x = torch.randn(64, 8)
    loss = nn.functional.mse_loss(net(x), x[:, :1].abs())
    opt.zero_grad()
    loss.backward()
    opt.step()
