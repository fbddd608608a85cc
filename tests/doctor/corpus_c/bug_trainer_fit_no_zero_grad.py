# expect: grad-not-zeroed @ optimizer0:SGD
"""A Trainer class fits an MLP classifier from a DataLoader; fit() never calls zero_grad()."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Trainer:
    def __init__(self, model, optimizer, loader, epochs=3):
        self.model = model
        self.optimizer = optimizer
        self.loader = loader
        self.epochs = epochs
        self.history = []

    def training_step(self, batch):
        x, y = batch
        logits = self.model(x)
        return F.cross_entropy(logits, y)

    def fit(self):
        self.model.train()
        for epoch in range(self.epochs):
            running = 0.0
            for batch in self.loader:
                loss = self.training_step(batch)
                loss.backward()
                self.optimizer.step()
                running += loss.item()
            self.history.append(running / len(self.loader))
            print(f"epoch {epoch} loss {self.history[-1]:.4f}")


def main():
    torch.manual_seed(0)
    x = torch.randn(640, 20)
    w = torch.randn(20, 4)
    y = (x @ w).argmax(1)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    Trainer(model, optimizer, loader).fit()


if __name__ == "__main__":
    main()
