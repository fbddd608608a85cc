# expect: clean
"""Trainer with HuberLoss on (N,) and L1Loss on (N, 2): target shapes match."""

from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass
class TrainConfig:
    lr: float = 5e-3
    steps: int = 60
    batch: int = 64


class TwoHeadRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(10, 48), nn.ReLU(), nn.Linear(48, 48), nn.ReLU())
        self.price = nn.Linear(48, 1)
        self.coords = nn.Linear(48, 2)

    def forward(self, x):
        h = self.backbone(x)
        return self.price(h).squeeze(-1), self.coords(h)


class Trainer:
    def __init__(self, model, cfg):
        self.model, self.cfg = model, cfg
        self.huber = nn.HuberLoss(delta=0.5)
        self.l1 = nn.L1Loss()
        self.opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)

    def fit(self, x, price, coords):
        for step in range(self.cfg.steps):
            idx = torch.randint(0, x.size(0), (self.cfg.batch,))
            p_hat, c_hat = self.model(x[idx])
            loss = self.huber(p_hat, price[idx]) + self.l1(c_hat, coords[idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            if step % 15 == 0:
                print(f"step {step}: loss {loss.item():.4f}")


torch.manual_seed(0)
x = torch.randn(1000, 10)
price = x[:, 0] * 2 - x[:, 1] + 0.1 * torch.randn(1000)  # (N,)
coords = torch.stack([x[:, 2] + x[:, 3], x[:, 4] * x[:, 5]], dim=1)  # (N, 2)
Trainer(TwoHeadRegressor(), TrainConfig()).fit(x, price, coords)
