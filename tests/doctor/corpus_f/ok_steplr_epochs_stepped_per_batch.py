# expect: clean
"""StepLR sized in epochs but stepped per batch (after the step): decays early, not a bug."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

EPOCHS = 3
X = torch.randn(640, 10)
Y = (torch.sin(X[:, 0]) + 0.5 * X[:, 1]).unsqueeze(1)
loader = DataLoader(TensorDataset(X, Y), batch_size=32, shuffle=True)

model = nn.Sequential(nn.Linear(10, 40), nn.ReLU(), nn.Linear(40, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=EPOCHS * 4, gamma=0.7)
loss_fn = nn.MSELoss()

for epoch in range(EPOCHS):
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        scheduler.step()
    print(epoch, f"{loss.item():.4f}", f"lr={scheduler.get_last_lr()[0]:.4f}")
