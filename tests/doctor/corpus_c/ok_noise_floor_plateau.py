# expect: clean
"""Linear regression, label noise sigma=1: the loss drops, then sits at the noise floor."""

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(4096, 3)
Y = X @ torch.tensor([[2.0], [-1.0], [0.5]]) + 1.0 + torch.randn(4096, 1)
loader = DataLoader(TensorDataset(X, Y), batch_size=256, shuffle=True)

model = nn.Linear(3, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = nn.MSELoss()
step = 0
for epoch in range(8):
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        step += 1
    print(f"epoch {epoch} step {step} loss {loss.item():.3f}")
