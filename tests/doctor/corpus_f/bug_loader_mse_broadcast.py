# expect: loss-broadcast @ nn.MSELoss|MSELoss|F.mse_loss|criterion
"""DataLoader targets are (N,), the model outputs (N, 1): nn.MSELoss broadcasts to (B, B)."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

X = torch.randn(2000, 8)
true_w = torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0, -1.0, 0.25, 2.0])
y = X @ true_w + 0.1 * torch.randn(2000)  # shape (2000,)

loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)

model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 1))
criterion = nn.MSELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

for epoch in range(2):
    for xb, yb in loader:
        pred = model(xb)
        loss = criterion(pred, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch} last batch loss {loss.item():.3f}")
