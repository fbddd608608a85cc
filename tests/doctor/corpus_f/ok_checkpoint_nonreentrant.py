# expect: clean
"""Residual MLP blocks under torch.utils.checkpoint(use_reentrant=False) with dropout inside."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

torch.manual_seed(0)


class ResBlock(nn.Module):
    def __init__(self, d, p=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Dropout(p), nn.Linear(2 * d, d))

    def forward(self, x):
        return x + self.ff(self.norm(x))


class Net(nn.Module):
    def __init__(self, d_in=16, d=64, depth=6, n_out=3, use_checkpoint=True):
        super().__init__()
        self.stem = nn.Linear(d_in, d)
        self.blocks = nn.ModuleList([ResBlock(d) for _ in range(depth)])
        self.head = nn.Linear(d, n_out)
        self.use_checkpoint = use_checkpoint

    def forward(self, x):
        x = self.stem(x)
        for blk in self.blocks:
            if self.use_checkpoint and self.training:
                x = checkpoint(blk, x, use_reentrant=False)
            else:
                x = blk(x)
        return self.head(x)


X = torch.randn(1200, 16)
Y = (X[:, :3] - X[:, 3:6]).argmax(1)
model = Net()
opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
for step in range(40):
    model.train()
    idx = torch.randint(0, 1200, (64,))
    opt.zero_grad()
    loss = F.cross_entropy(model(X[idx]), Y[idx])
    loss.backward()
    opt.step()
    if step % 10 == 0:
        model.eval()
        with torch.no_grad():
            acc = (model(X[:300]).argmax(1) == Y[:300]).float().mean()
        print(step, f"{loss.item():.4f} acc {acc:.3f}")
