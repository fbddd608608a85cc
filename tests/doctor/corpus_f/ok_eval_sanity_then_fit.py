# expect: clean
"""Sanity forward in eval mode, then fit() calls model.train() at the top of every epoch."""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(16 * 3 * 3, 3))

    def forward(self, x):
        return self.classifier(self.features(x))


def make_data(n):
    x = torch.randn(n, 1, 12, 12) * 0.5
    y = torch.randint(0, 3, (n,))
    x[y == 0, :, :6, :] += 0.25
    x[y == 1, :, 6:, :] += 0.25
    return x, y


train_x, train_y = make_data(512)
val_x, val_y = make_data(128)
model = SmallCNN()

model.eval()
with torch.no_grad():
    print("sanity:", model(train_x[:2]).shape)

opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def fit(epochs=2, bs=32):
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(train_x))
        for i in range(0, len(perm), bs):
            idx = perm[i : i + bs]
            opt.zero_grad()
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(val_x).argmax(1) == val_y).float().mean()
        print(f"epoch {epoch}: loss {loss.item():.3f} val acc {acc:.3f}")


fit()
