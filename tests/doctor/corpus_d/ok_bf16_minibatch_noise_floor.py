# expect: clean
"""Minibatch Adam regression under bf16 autocast; loss falls, then wobbles at noise ~1.0."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)

X = torch.randn(4096, 8)
signal = 2.0 * X[:, 0] - X[:, 1] + 0.5 * torch.tanh(X[:, 2])
Y = (signal + torch.randn(4096)).unsqueeze(1)  # irreducible noise variance 1.0

model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

history = []
for step in range(120):
    idx = torch.randint(0, 4096, (128,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        pred = model(X[idx])
    loss = F.mse_loss(pred.float(), Y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history.append(loss.item())
    if step % 30 == 29:
        print(f"step {step}: mean loss of last 30 = {sum(history[-30:]) / 30:.3f}")
