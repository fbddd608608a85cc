# expect: clean
"""Siamese encoder trained with CosineEmbeddingLoss, targets +1 (same class) / -1 (different)."""

import torch
from torch import nn

torch.manual_seed(18)
protos = torch.randn(5, 20)
encoder = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 8))
criterion = nn.CosineEmbeddingLoss(margin=0.2)
optimizer = torch.optim.Adam(encoder.parameters(), lr=2e-3)
for _step in range(50):
    a_cls = torch.randint(0, 5, (64,))
    same = torch.rand(64) < 0.5
    b_cls = torch.where(same, a_cls, (a_cls + torch.randint(1, 5, (64,))) % 5)
    a = protos[a_cls] + 0.3 * torch.randn(64, 20)
    b = protos[b_cls] + 0.3 * torch.randn(64, 20)
    target = same.float() * 2 - 1
    loss = criterion(encoder(a), encoder(b), target)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
