# expect: clean
"""DataLoader regression with (N,) targets; the (B, 1) output is squeezed before the loss."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)

X = torch.randn(1500, 5)
y = 2.0 * X[:, 0] - X[:, 1] * X[:, 2] + torch.tanh(X[:, 3]) + 0.05 * torch.randn(1500)
train_set, val_set = random_split(TensorDataset(X, y), [1200, 300])
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
val_loader = DataLoader(val_set, batch_size=300)

model = nn.Sequential(nn.Linear(5, 64), nn.ReLU(), nn.Linear(64, 1))
loss_fn = nn.MSELoss()
opt = torch.optim.Adam(model.parameters(), lr=5e-3)

for epoch in range(3):
    model.train()
    for xb, yb in train_loader:
        opt.zero_grad()
        loss = loss_fn(model(xb).squeeze(-1), yb)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        xb, yb = next(iter(val_loader))
        mae = F.l1_loss(model(xb).squeeze(-1), yb)
    print(f"epoch {epoch}: train mse {loss.item():.4f} val mae {mae.item():.4f}")
