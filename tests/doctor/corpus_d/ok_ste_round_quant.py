# expect: clean
"""MLP with hidden activations rounded to 4 bits through a straight-through estimator."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def round_ste(x):
    # forward: round; backward: identity
    return x + (torch.round(x) - x).detach()


class QuantMLP(nn.Module):
    def __init__(self, levels=15):
        super().__init__()
        self.fc1 = nn.Linear(20, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 4)
        self.levels = levels

    def forward(self, x):
        h = torch.sigmoid(self.fc1(x))
        h = round_ste(h * self.levels) / self.levels
        h = F.relu(self.fc2(h))
        return self.fc3(h)


X = torch.randn(2048, 20)
y = X[:, :4].argmax(1)

model = QuantMLP()
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)

for step in range(80):
    idx = torch.randint(0, 2048, (128,))
    loss = F.cross_entropy(model(X[idx]), y[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 20 == 0:
        print(f"step {step} loss {loss.item():.4f}")
print("fc1 grad norm:", model.fc1.weight.grad.norm().item())
