# expect: dropout-before-batchnorm @ bn2
"""Tabular MLP: F.dropout on a hidden layer feeds straight into BatchNorm1d."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class TabularNet(nn.Module):
    def __init__(self, n_in, n_out, p=0.3):
        super().__init__()
        self.fc1 = nn.Linear(n_in, 64)
        self.bn1 = nn.BatchNorm1d(64)
        self.fc2 = nn.Linear(64, 32)
        self.bn2 = nn.BatchNorm1d(32)
        self.fc3 = nn.Linear(32, n_out)
        self.p = p

    def forward(self, x):
        x = F.relu(self.bn1(self.fc1(x)))
        x = self.fc2(x)
        x = F.dropout(x, p=self.p, training=self.training)
        x = F.relu(self.bn2(x))
        return self.fc3(x)


X = torch.randn(1200, 30)
y = (X[:, :10].sum(1) > 0).long() + (X[:, 10:20].sum(1) > 0).long()  # 3 classes

model = TabularNet(30, 3)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(3):
    model.train()
    perm = torch.randperm(1000)
    for i in range(0, 1000, 50):
        idx = perm[i : i + 50]
        optimizer.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        acc = (model(X[1000:]).argmax(1) == y[1000:]).float().mean().item()
    print(f"epoch {epoch}: train loss {loss.item():.3f}, val acc {acc:.3f}")
