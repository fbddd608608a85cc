# expect: clean
"""Fine-tunes a 'pretrained' MLP with Adam at lr=5e-6 (tiny but deliberate) after a warmup."""

import torch
import torch.nn.functional as F
from torch import nn


def pretrain(model, X, Y, steps=60):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(X), Y).backward()
        opt.step()


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))
X = torch.randn(512, 16)
Y = (X[:, :2] > 0).long() @ torch.tensor([1, 2])
pretrain(model, X, Y)

# slightly shifted domain for fine-tuning
X_ft = X + 0.3 * torch.randn_like(X)
optimizer = torch.optim.Adam(model.parameters(), lr=5e-6)
warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 10))
for step in range(60):
    idx = torch.randint(0, 512, (64,))
    optimizer.zero_grad()
    loss = F.cross_entropy(model(X_ft[idx]), Y[idx])
    loss.backward()
    optimizer.step()
    warmup.step()
    if step % 15 == 0:
        print(step, f"{loss.item():.4f}")
