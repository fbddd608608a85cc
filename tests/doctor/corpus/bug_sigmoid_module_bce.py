# expect: sigmoid-before-bce @ F.binary_cross_entropy
"""Churn model: the module returns torch.sigmoid(...) and the loop uses F.binary_cross_entropy."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class Churn(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.hidden = nn.Linear(n_features, 32)
        self.norm = nn.BatchNorm1d(32)
        self.score = nn.Linear(32, 1)

    def forward(self, x):
        h = F.relu(self.norm(self.hidden(x)))
        return torch.sigmoid(self.score(h)).view(-1)


torch.manual_seed(0)
X = torch.randn(1200, 9)
y = ((X[:, 0] * 2 - X[:, 3]) > 0.5).float()
loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)
model = Churn(9)
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
for _epoch in range(3):
    for xb, yb in loader:
        opt.zero_grad()
        loss = F.binary_cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
