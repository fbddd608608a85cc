# expect: clean
"""BinaryConnect-style net: weights binarised with sign() via a clipped straight-through."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def binarize(w):
    clipped = w.clamp(-1, 1)
    return clipped + (torch.sign(clipped) - clipped).detach()


class BinaryLinear(nn.Linear):
    def forward(self, x):
        return F.linear(x, binarize(self.weight) * self.weight.abs().mean(), self.bias)


class BinaryNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = BinaryLinear(16, 64)
        self.bn1 = nn.BatchNorm1d(64)
        self.fc2 = BinaryLinear(64, 64)
        self.bn2 = nn.BatchNorm1d(64)
        self.out = nn.Linear(64, 2)

    def forward(self, x):
        x = F.hardtanh(self.bn1(self.fc1(x)))
        x = F.hardtanh(self.bn2(self.fc2(x)))
        return self.out(x)


X = torch.randn(1024, 16)
Y = (X[:, :8].sum(1) > 0).long()

net = BinaryNet()
opt = torch.optim.Adam(net.parameters(), lr=5e-3)

for it in range(70):
    idx = torch.randint(0, 1024, (128,))
    net.train()
    loss = F.cross_entropy(net(X[idx]), Y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        for m in (net.fc1, net.fc2):
            m.weight.clamp_(-1, 1)
    if it % 14 == 0:
        print(f"it {it}: loss {loss.item():.4f}")
