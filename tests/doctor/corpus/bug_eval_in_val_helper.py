# expect: eval-mode-training @ drop
"""validate() switches to eval mode and the training loop never switches back."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 64)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(64, 1)

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


def validate(model, loader):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for xb, yb in loader:
            total += nn.functional.mse_loss(model(xb), yb).item()
    return total / len(loader)


torch.manual_seed(0)
X = torch.randn(400, 12)
Y = X[:, :2].sum(1, keepdim=True)
train = DataLoader(TensorDataset(X[:320], Y[:320]), batch_size=32, shuffle=True)
val = DataLoader(TensorDataset(X[320:], Y[320:]), batch_size=40)
model = MLP()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(4):
    for xb, yb in train:
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)
        loss.backward()
        opt.step()
    print(epoch, validate(model, val))
