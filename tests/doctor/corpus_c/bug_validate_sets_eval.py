# expect: eval-mode-training @ 3
"""model.train() is called once before the epochs; evaluate() leaves the model in eval mode."""

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset, random_split


def evaluate(model, loader, loss_fn):
    model.eval()
    total, correct, n = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total += loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            n += len(y)
    return total / n, correct / n


def train_one_epoch(model, loader, optimizer, loss_fn):
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return loss.item()


torch.manual_seed(0)
X = torch.randn(800, 16)
Y = (X[:, :4].sum(1) > 0).long() + 2 * (X[:, 4] > 0.5).long()
train_set, val_set = random_split(TensorDataset(X, Y), [640, 160])
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
val_loader = DataLoader(val_set, batch_size=160)

model = nn.Sequential(
    nn.Linear(16, 128),
    nn.ReLU(),
    nn.Linear(128, 128),
    nn.Dropout(0.3),
    nn.ReLU(),
    nn.Linear(128, 4),
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()

model.train()
for epoch in range(5):
    train_loss = train_one_epoch(model, train_loader, optimizer, loss_fn)
    val_loss, acc = evaluate(model, val_loader, loss_fn)
    print(f"epoch {epoch} train {train_loss:.3f} val {val_loss:.3f} acc {acc:.2f}")
