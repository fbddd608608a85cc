# expect: clean
"""Trainer.fit() accumulating 4 micro-batches, then clip, step and zero_grad together."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Trainer:
    def __init__(self, model, lr=2e-3, accum_steps=4, max_norm=1.0):
        self.model = model
        self.accum_steps = accum_steps
        self.max_norm = max_norm
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def fit(self, loader, epochs=2):
        self.optimizer.zero_grad()
        for epoch in range(epochs):
            self.model.train()
            for i, (xb, yb) in enumerate(loader, start=1):
                loss = self.loss_fn(self.model(xb), yb) / self.accum_steps
                loss.backward()
                if i % self.accum_steps == 0:
                    nn.utils.clip_grad_norm_(self.model.parameters(), self.max_norm)
                    self.optimizer.step()
                    self.optimizer.zero_grad()
            print(f"epoch {epoch} loss {loss.item() * self.accum_steps:.4f}")


torch.manual_seed(0)
X = torch.randn(1024, 3, 8, 8)
Y = (X[:, 0].mean((1, 2)) > X[:, 1].mean((1, 2))).long()
model = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1),
    nn.BatchNorm2d(8),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Linear(8, 2),
)
Trainer(model).fit(DataLoader(TensorDataset(X, Y), batch_size=16, shuffle=True))
