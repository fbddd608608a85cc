# expect: clean
"""CosineAnnealingWarmRestarts stepped per batch with fractional epochs, after step()."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

X = torch.randn(480, 12)
Y = torch.tanh(X[:, :3].sum(1, keepdim=True)) + 0.05 * torch.randn(480, 1)
loader = DataLoader(TensorDataset(X, Y), batch_size=48, shuffle=True)

model = nn.Sequential(nn.Linear(12, 64), nn.GELU(), nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
    optimizer, T_0=2, T_mult=2, eta_min=1e-4
)
criterion = nn.MSELoss()
iters = len(loader)

for epoch in range(6):
    for i, (xb, yb) in enumerate(loader):
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        scheduler.step(epoch + i / iters)
    print(f"epoch {epoch}: lr {optimizer.param_groups[0]['lr']:.4f} loss {loss.item():.4f}")
