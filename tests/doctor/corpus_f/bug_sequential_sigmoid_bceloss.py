# expect: sigmoid-before-bce @ 4
"""Churn classifier: nn.Sequential ending in nn.Sigmoid, trained with nn.BCELoss on 0/1 labels."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

n = 1200
features = torch.randn(n, 14)
risk = features[:, 0] * 1.5 - features[:, 3] + 0.5 * features[:, 7] * features[:, 2]
labels = (risk + 0.3 * torch.randn(n) > 0).float().unsqueeze(1)

train = DataLoader(TensorDataset(features[:1000], labels[:1000]), batch_size=50, shuffle=True)
val_x, val_y = features[1000:], labels[1000:]

model = nn.Sequential(
    nn.Linear(14, 32),
    nn.ReLU(),
    nn.Linear(32, 16),
    nn.Linear(16, 1),
    nn.Sigmoid(),
)
criterion = nn.BCELoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)


def train_one_epoch(model, loader, opt, loss_fn):
    model.train()
    running = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        running += loss.item() * len(xb)
    return running / len(loader.dataset)


for epoch in range(3):
    tr = train_one_epoch(model, train, optimizer, criterion)
    model.eval()
    with torch.no_grad():
        acc = ((model(val_x) > 0.5).float() == val_y).float().mean().item()
    print(f"epoch {epoch} train {tr:.4f} val acc {acc:.3f}")
