# expect: zero-gradient-flow @ torch.sign
"""Up/down predictor: the output goes through torch.sign before MSE against ±1 labels."""

import torch
import torch.nn as nn

torch.manual_seed(0)

# predict whether the next value of a noisy sine goes up (+1) or down (-1) from a window of 16
t = torch.linspace(0, 60, 3000)
series = torch.sin(t) + 0.1 * torch.randn_like(t)
windows = series.unfold(0, 17, 1)
X, nxt = windows[:, :16], windows[:, 16]
Y = torch.where(nxt > X[:, -1], 1.0, -1.0)

model = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 1))
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for epoch in range(60):
    idx = torch.randint(0, X.size(0), (64,))
    direction = torch.sign(model(X[idx]).squeeze(-1))
    loss = loss_fn(direction, Y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 15 == 0:
        print(f"epoch {epoch:3d}  loss {loss.item():.4f}")
