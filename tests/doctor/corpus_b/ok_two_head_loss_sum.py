# expect: clean
"""One trunk, two heads (regression + classification): the loss is the weighted sum of both."""

import torch
from torch import nn


class TwoHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(10, 32), nn.Tanh())
        self.reg = nn.Linear(32, 1)
        self.cls = nn.Linear(32, 3)

    def forward(self, x):
        h = self.trunk(x)
        return self.reg(h).squeeze(-1), self.cls(h)


torch.manual_seed(9)
net = TwoHead()
opt = torch.optim.RMSprop(net.parameters(), lr=1e-3)
for _step in range(50):
    x = torch.randn(48, 10)
    y_reg = x[:, 0] - 2 * x[:, 1]
    y_cls = torch.bucketize(x[:, 2], torch.tensor([-0.5, 0.5]))
    r, c = net(x)
    loss = nn.functional.smooth_l1_loss(r, y_reg) + 0.5 * nn.functional.cross_entropy(c, y_cls)
    opt.zero_grad()
    loss.backward()
    opt.step()
