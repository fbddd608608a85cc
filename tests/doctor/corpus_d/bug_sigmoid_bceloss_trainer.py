# expect: sigmoid-before-bce @ F.binary_cross_entropy|nn.BCELoss
"""Trainer class for a binary classifier whose forward applies torch.sigmoid, fed to nn.BCELoss."""

from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


@dataclass
class Config:
    in_dim: int = 16
    hidden: int = 32
    lr: float = 3e-3
    epochs: int = 6
    batch_size: int = 64


class BinaryNet(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(cfg.in_dim, cfg.hidden),
            nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.ReLU(),
        )
        self.out = nn.Linear(cfg.hidden, 1)

    def forward(self, x):
        return torch.sigmoid(self.out(self.body(x))).squeeze(-1)


class Trainer:
    def __init__(self, model, cfg: Config):
        self.model = model
        self.cfg = cfg
        self.criterion = nn.BCELoss()
        self.opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)

    def fit(self, loader):
        for epoch in range(self.cfg.epochs):
            self.model.train()
            running = 0.0
            for xb, yb in loader:
                self.opt.zero_grad()
                loss = self.criterion(self.model(xb), yb)
                loss.backward()
                self.opt.step()
                running += loss.item()
            print(f"epoch {epoch} loss {running / len(loader):.4f}")


if __name__ == "__main__":
    torch.manual_seed(0)
    cfg = Config()
    X = torch.randn(768, cfg.in_dim)
    y = ((X[:, 0] * X[:, 1] + X[:, 2]) > 0).float()
    loader = DataLoader(TensorDataset(X, y), batch_size=cfg.batch_size, shuffle=True)
    Trainer(BinaryNet(cfg), cfg).fit(loader)
