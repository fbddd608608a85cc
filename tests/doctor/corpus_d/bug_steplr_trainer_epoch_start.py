# expect: scheduler-order @ StepLR
"""Trainer.on_epoch_start() steps StepLR, before that epoch's optimizer steps."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class Trainer:
    def __init__(self, model, loss_fn, lr=0.05, epochs=5):
        self.model = model
        self.loss_fn = loss_fn
        self.epochs = epochs
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=2, gamma=0.5)

    def on_epoch_start(self, epoch):
        self.scheduler.step()
        self.model.train()

    def training_step(self, batch):
        x, y = batch
        return self.loss_fn(self.model(x), y)

    def fit(self, loader):
        for epoch in range(self.epochs):
            self.on_epoch_start(epoch)
            total = 0.0
            for batch in loader:
                self.optimizer.zero_grad()
                loss = self.training_step(batch)
                loss.backward()
                self.optimizer.step()
                total += loss.item()
            lr = self.scheduler.get_last_lr()[0]
            print(f"epoch {epoch}: lr={lr:.4f} loss={total / len(loader):.4f}")


torch.manual_seed(0)
X = torch.randn(512, 6)
Y = X @ torch.randn(6, 3) + 0.1 * torch.randn(512, 3)
loader = DataLoader(TensorDataset(X, Y), batch_size=64, shuffle=True)
model = nn.Sequential(nn.Linear(6, 32), nn.SiLU(), nn.Linear(32, 3))
Trainer(model, nn.MSELoss()).fit(loader)
