# expect: zero-gradient-flow @ torch.round
"""MLP rounds hidden activations to 4 bits with torch.round, no straight-through."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class QuantMLP(nn.Module):
    def __init__(self, levels=15):
        super().__init__()
        self.fc1 = nn.Linear(20, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 4)
        self.levels = levels

    def quantize(self, h):
        # activations live in [0, 1] after the sigmoid; snap them to 16 levels
        return torch.round(h * self.levels) / self.levels

    def forward(self, x):
        h = self.quantize(torch.sigmoid(self.fc1(x)))
        h = F.relu(self.fc2(h))
        return self.fc3(h)


X = torch.randn(2048, 20)
y = X[:, :4].argmax(1)

model = QuantMLP()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

for step in range(80):
    idx = torch.randint(0, 2048, (128,))
    loss = F.cross_entropy(model(X[idx]), y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 20 == 0:
        print(f"step {step} loss {loss.item():.4f}")
print("fc1 grad norm:", model.fc1.weight.grad.norm().item())
