# expect: sigmoid-before-bce @ F.binary_cross_entropy_with_logits
"""Binary classifier: sigmoid inside forward, then F.binary_cross_entropy_with_logits on it."""

import torch
import torch.nn.functional as F
from torch import nn


class Clf(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 64)
        self.fc2 = nn.Linear(64, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc2(F.relu(self.fc1(x))))


torch.manual_seed(3)
X = torch.randn(1024, 20)
y = (X[:, :3].sum(1) > 0).float()
model = Clf()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
for _step in range(60):
    idx = torch.randint(0, 1024, (64,))
    opt.zero_grad()
    out = model(X[idx]).squeeze(-1)
    loss = F.binary_cross_entropy_with_logits(out, y[idx])
    loss.backward()
    opt.step()
