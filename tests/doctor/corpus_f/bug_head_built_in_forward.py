# expect: param-not-in-optimizer @ head|head.weight|head.bias
"""self.head = nn.Linear(...) built inside forward(): new params each call, never optimized."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class FlexibleNet(nn.Module):
    def __init__(self, d_in, n_classes):
        super().__init__()
        self.n_classes = n_classes
        self.features = nn.Sequential(nn.Linear(d_in, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU())

    def forward(self, x):
        h = self.features(x)
        self.head = nn.Linear(h.shape[-1], self.n_classes)
        return self.head(h)


X = torch.randn(1200, 20)
Y = (X[:, 0] > X[:, 1]).long() + (X[:, 2] > 0.5).long()
model = FlexibleNet(20, 3)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for step in range(40):
    idx = torch.randint(0, 1200, (64,))
    optimizer.zero_grad()
    loss = F.cross_entropy(model(X[idx]), Y[idx])
    loss.backward()
    optimizer.step()
    if step % 10 == 0:
        print(step, f"{loss.item():.4f}")
