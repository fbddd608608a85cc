# expect: loss-broadcast @ F.l1_loss
"""Trainer.fit() uses F.l1_loss(preds, yb) with preds (B, 1) and DataLoader targets (B,)."""

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class Config:
    lr: float = 1e-3
    batch_size: int = 32
    epochs: int = 2
    hidden: int = 48


class Regressor(nn.Module):
    def __init__(self, d_in, hidden):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU()
        )
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.head(self.body(x))


class Trainer:
    def __init__(self, model, cfg):
        self.model = model
        self.cfg = cfg
        self.opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)

    def fit(self, loader):
        for epoch in range(self.cfg.epochs):
            self.model.train()
            total = 0.0
            for xb, yb in loader:
                self.opt.zero_grad(set_to_none=True)
                preds = self.model(xb)
                loss = F.l1_loss(preds, yb)
                loss.backward()
                self.opt.step()
                total += loss.item()
            print(f"epoch {epoch}: mae {total / len(loader):.4f}")


torch.manual_seed(0)
X = torch.rand(960, 6) * 4
y = torch.sin(X[:, 0]) + X[:, 1] * X[:, 2] - torch.log1p(X[:, 3])
cfg = Config()
loader = DataLoader(TensorDataset(X, y), batch_size=cfg.batch_size, shuffle=True)
Trainer(Regressor(6, cfg.hidden), cfg).fit(loader)
