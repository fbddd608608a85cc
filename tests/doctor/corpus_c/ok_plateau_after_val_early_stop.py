# expect: clean
"""Trainer: AdamW decay on weights only, ReduceLROnPlateau on val loss, early stopping."""

import copy

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Trainer:
    def __init__(self, model, train_loader, val_loader, lr=2e-3, patience=3):
        self.model = model
        self.train_loader = train_loader
        self.val_loader = val_loader
        decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
        no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
            lr=lr,
        )
        self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            self.optimizer, mode="min", factor=0.5, patience=1
        )
        self.loss_fn = nn.MSELoss()
        self.patience = patience

    def train_epoch(self):
        self.model.train()
        for x, y in self.train_loader:
            self.optimizer.zero_grad()
            loss = self.loss_fn(self.model(x), y)
            loss.backward()
            self.optimizer.step()

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        losses = [self.loss_fn(self.model(x), y).item() for x, y in self.val_loader]
        return sum(losses) / len(losses)

    def fit(self, max_epochs=12):
        best, best_state, bad = float("inf"), None, 0
        for epoch in range(max_epochs):
            self.train_epoch()
            val = self.validate()
            self.scheduler.step(val)
            print(f"epoch {epoch} val {val:.4f} lr {self.optimizer.param_groups[0]['lr']:.1e}")
            if val < best - 1e-4:
                best, best_state, bad = val, copy.deepcopy(self.model.state_dict()), 0
            else:
                bad += 1
                if bad >= self.patience:
                    print("early stop")
                    break
        self.model.load_state_dict(best_state)
        return best


torch.manual_seed(0)
X = torch.randn(400, 8)
Y = (X[:, :1] * X[:, 1:2] + X[:, 2:3].sin()) + 0.1 * torch.randn(400, 1)
train_loader = DataLoader(TensorDataset(X[:320], Y[:320]), batch_size=32, shuffle=True)
val_loader = DataLoader(TensorDataset(X[320:], Y[320:]), batch_size=80)
model = nn.Sequential(
    nn.Linear(8, 64), nn.LayerNorm(64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 1)
)
print("best", Trainer(model, train_loader, val_loader).fit())
