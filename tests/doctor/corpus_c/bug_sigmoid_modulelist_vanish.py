# expect: vanishing-gradients @ hidden.0.weight|hidden.0|hidden.1.weight
"""Ten Linear+sigmoid layers in a ModuleList: the first layers get almost no gradient."""

import itertools

import torch
import torch.nn.functional as F
from torch import nn


class OldSchoolNet(nn.Module):
    def __init__(self, d_in=20, width=48, depth=10, n_out=3):
        super().__init__()
        dims = [d_in] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(dims))
        self.classifier = nn.Linear(width, n_out)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.sigmoid(layer(x))
        return self.classifier(x)


torch.manual_seed(0)
X = torch.randn(600, 20)
Y = (X[:, 0] + X[:, 1] > 0).long() + (X[:, 2] > 1).long()
model = OldSchoolNet()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for epoch in range(6):
    perm = torch.randperm(600)
    for i in range(0, 600, 100):
        idx = perm[i : i + 100]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X[idx]), Y[idx])
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: {loss.item():.4f}")
