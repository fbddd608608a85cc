# expect: loss-broadcast @ F.smooth_l1_loss
"""Regressor: TensorDataset targets are (N, 1), model output is squeezed to (N,)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

features = torch.randn(640, 12)
sizes = features[:, :3].abs().sum(dim=1, keepdim=True) + 0.05 * torch.randn(640, 1)  # (N, 1)
train_loader = DataLoader(TensorDataset(features, sizes), batch_size=32, shuffle=True)


class SizeRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 48)
        self.fc2 = nn.Linear(48, 1)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x))).squeeze(1)


model = SizeRegressor()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for epoch in range(4):
    for xb, yb in train_loader:
        optimizer.zero_grad()
        out = model(xb)
        loss = F.smooth_l1_loss(out, yb, beta=0.5)
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch}: last batch loss {loss.item():.4f}")
