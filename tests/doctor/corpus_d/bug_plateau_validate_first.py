# expect: scheduler-order @ ReduceLROnPlateau
"""Each epoch validates, then steps ReduceLROnPlateau, before any optimizer.step()."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)

X = torch.randn(900, 10)
y = torch.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 + 0.05 * torch.randn(900)
train_ds, val_ds = random_split(TensorDataset(X, y.unsqueeze(1)), [750, 150])
train_dl = DataLoader(train_ds, batch_size=50, shuffle=True)
val_dl = DataLoader(val_ds, batch_size=150)

model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
    optimizer, mode="min", factor=0.5, patience=1
)


@torch.no_grad()
def evaluate(model, loader):
    model.eval()
    losses = [F.mse_loss(model(xb), yb).item() for xb, yb in loader]
    return sum(losses) / len(losses)


for epoch in range(6):
    val_loss = evaluate(model, val_dl)
    scheduler.step(val_loss)
    print(f"epoch {epoch} val {val_loss:.4f} lr {optimizer.param_groups[0]['lr']:.2e}")

    model.train()
    for xb, yb in train_dl:
        optimizer.zero_grad()
        loss = F.mse_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
