# expect: graph-break @ stem
"""Small CNN whose forward() runs its trainable stem under torch.no_grad()."""

import torch
import torch.nn.functional as F
from torch import nn


class TinyNet(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
        self.body = nn.Sequential(
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1)
        )
        self.fc = nn.Linear(16, n_classes)

    def forward(self, x):
        with torch.no_grad():
            x = self.stem(x)
        x = self.body(x)
        return self.fc(x.flatten(1))


def synthetic_batch(n=32):
    y = torch.randint(0, 5, (n,))
    x = torch.randn(n, 1, 12, 12) * 0.5
    for i in range(n):
        r = int(y[i]) * 2
        x[i, 0, r : r + 2, :] += 2.0
    return x, y


torch.manual_seed(0)
model = TinyNet()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
for it in range(40):
    x, y = synthetic_batch()
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    if it % 10 == 0:
        print(it, loss.item())
